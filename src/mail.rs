//! Outgoing email. Every message is recorded in the `email_outbox` table inside
//! the transaction that caused it (so a rolled-back change sends nothing) and
//! logged; in development the log line includes the body, so sign-in links can
//! be followed without a mail server. Platform admins can read the outbox
//! through GraphQL in development.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::email_outbox;

/// One message.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// How mail leaves this server.
#[derive(Debug, Clone, Default)]
pub struct Mailer {
    /// Log message bodies (development only: they hold sign-in links).
    pub log_bodies: bool,
    /// The base URL of links in messages (e.g. `https://auth.example.com`).
    pub public_url: String,
}

impl Mailer {
    /// Records `mail` in the outbox on `conn` and logs it.
    pub async fn queue(&self, conn: &mut AsyncPgConnection, mail: Mail) -> QueryResult<Uuid> {
        let id = Uuid::now_v7();
        diesel::insert_into(email_outbox::table)
            .values((
                email_outbox::id.eq(id),
                email_outbox::recipient.eq(&mail.to),
                email_outbox::subject.eq(&mail.subject),
                email_outbox::body.eq(&mail.body),
            ))
            .execute(conn)
            .await?;
        if self.log_bodies {
            tracing::info!(mail.id = %id, to = %mail.to, subject = %mail.subject, body = %mail.body, "email queued");
        } else {
            tracing::info!(mail.id = %id, to = %mail.to, subject = %mail.subject, "email queued");
        }
        Ok(id)
    }
}

/// A message of the outbox.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = email_outbox)]
pub struct Queued {
    pub id: Uuid,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The newest `limit` messages (the platform-admin scope may read them).
pub async fn recent(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<Vec<Queued>> {
    email_outbox::table
        .order((email_outbox::created_at.desc(), email_outbox::id.desc()))
        .limit(limit)
        .select(Queued::as_select())
        .load(conn)
        .await
}

/// Delivers the outbox over SMTP when `SMTP_URL` is set: every instance runs
/// one, and `FOR UPDATE SKIP LOCKED` hands each message to exactly one of them.
/// A failed send stays in the outbox with its error and is retried (with
/// growing pauses), so an SMTP outage loses nothing and needs no restart.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    task: std::sync::Arc<tokio::task::AbortHandle>,
}

/// Where and how the dispatcher sends.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    /// `smtp://user:pass@host:587?tls=required`, `smtps://host:465`, … (lettre's URL form).
    pub url: String,
    /// The `From` of every message.
    pub from: String,
    /// How often to look for unsent messages.
    pub poll: std::time::Duration,
}

#[derive(diesel::QueryableByName)]
struct Unsent {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Text)]
    recipient: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    subject: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    body: String,
}

impl Dispatcher {
    /// Checks the settings and starts delivering in the background.
    pub fn start(owner_url: String, settings: SmtpSettings) -> anyhow::Result<Self> {
        use lettre::AsyncSmtpTransport;
        let from: lettre::message::Mailbox = settings
            .from
            .parse()
            .map_err(|e| anyhow::anyhow!("TENANTGATE_MAIL_FROM {:?}: {e}", settings.from))?;
        let transport = AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(&settings.url)
            .map_err(|e| anyhow::anyhow!("SMTP_URL is not a valid SMTP URL: {e}"))?
            .timeout(Some(std::time::Duration::from_secs(20)))
            .build();
        let task = tokio::spawn(async move {
            let mut pause = settings.poll;
            loop {
                match deliver_batch(&owner_url, &transport, &from).await {
                    Ok(_) => pause = settings.poll,
                    Err(err) => {
                        tracing::warn!(error = %err, "email delivery failed; will retry");
                        pause = (pause * 2).min(std::time::Duration::from_secs(60));
                    }
                }
                tokio::time::sleep(pause).await;
            }
        });
        Ok(Self {
            task: std::sync::Arc::new(task.abort_handle()),
        })
    }

    /// Stops delivering (on shutdown).
    pub fn stop(&self) {
        self.task.abort();
    }
}

/// After this many failed sends a message is given up (`failed_at`).
pub const MAX_ATTEMPTS: i32 = 10;

/// Sends up to 20 due messages; returns how many went out. One bad message
/// never holds up the others: its failure is recorded and the batch goes on.
async fn deliver_batch(
    owner_url: &str,
    transport: &lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    from: &lettre::message::Mailbox,
) -> anyhow::Result<usize> {
    use diesel_async::{AsyncConnection, SimpleAsyncConnection};
    use lettre::AsyncTransport;
    let mut conn = AsyncPgConnection::establish(owner_url).await?;
    conn.batch_execute("BEGIN").await?;
    let due: Vec<Unsent> = diesel::sql_query(
        "SELECT id, recipient, subject, body FROM email_outbox
         WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now()
         ORDER BY next_attempt_at LIMIT 20 FOR UPDATE SKIP LOCKED",
    )
    .load(&mut conn)
    .await?;
    let (mut sent, mut failed) = (0, 0);
    for mail in due {
        let message = mail
            .recipient
            .parse()
            .map_err(|e: lettre::address::AddressError| e.to_string())
            .and_then(|to| {
                lettre::Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(mail.subject)
                    .header(lettre::message::header::ContentType::TEXT_PLAIN)
                    .body(mail.body)
                    .map_err(|e| e.to_string())
            });
        let outcome = match message {
            Ok(message) => transport
                .send(message)
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
            Err(err) => Err(err),
        };
        match outcome {
            Ok(()) => {
                diesel::update(email_outbox::table.find(mail.id))
                    .set((
                        email_outbox::sent_at.eq(diesel::dsl::now),
                        email_outbox::attempts.eq(email_outbox::attempts + 1),
                        email_outbox::last_error.eq(None::<String>),
                    ))
                    .execute(&mut conn)
                    .await?;
                sent += 1;
            }
            Err(err) => {
                failed += 1;
                // Retry after attempts² seconds (1 s, 4 s, 9 s … up to 100 s);
                // give up after MAX_ATTEMPTS.
                diesel::sql_query(
                    "UPDATE email_outbox SET attempts = attempts + 1, last_error = $2,
                            next_attempt_at = now() + make_interval(secs => (attempts + 1) * (attempts + 1)),
                            failed_at = CASE WHEN attempts + 1 >= $3 THEN now() END
                     WHERE id = $1",
                )
                .bind::<diesel::sql_types::Uuid, _>(mail.id)
                .bind::<diesel::sql_types::Text, _>(&err)
                .bind::<diesel::sql_types::Integer, _>(MAX_ATTEMPTS)
                .execute(&mut conn)
                .await?;
                tracing::warn!(mail.id = %mail.id, error = %err, "email not delivered; will retry");
            }
        }
    }
    conn.batch_execute("COMMIT").await?;
    if sent > 0 {
        tracing::info!(sent, "emails delivered");
    }
    if failed > 0 && sent == 0 {
        anyhow::bail!("{failed} emails failed to send");
    }
    Ok(sent)
}
