//! The SMTP dispatcher: delivers the outbox when `SMTP_URL` is set.
//!
//! Delivery is **at least once**. Each message is handled in its own short
//! transaction: lock one due row (`FOR UPDATE SKIP LOCKED`, so every instance
//! can run a dispatcher and each message goes to one of them), send it, mark
//! it sent and remove its body, commit. A crash (or a lost connection) between
//! the SMTP server's acceptance and that commit sends that one message again;
//! no other message is ever sent twice. A failed send stays in the outbox with
//! its error and is retried with growing pauses, so an SMTP outage loses
//! nothing and needs no restart.

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};

use super::Sealer;
use crate::db::outbox::{self, Due};

/// Delivers the outbox in the background (see the module documentation).
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

/// After this many failed sends a message is given up (`failed_at`).
pub const MAX_ATTEMPTS: i32 = 10;

/// Most messages sent in one round before the next poll.
const ROUND: usize = 20;

type Transport = lettre::AsyncSmtpTransport<lettre::Tokio1Executor>;

struct Outlet {
    transport: Transport,
    from: lettre::message::Mailbox,
    sealer: Sealer,
}

impl Dispatcher {
    /// Checks the settings and starts delivering in the background, over the
    /// owner connection `owner_url`; bodies are opened with `sealer`.
    pub fn start(
        owner_url: String,
        sealer: Sealer,
        settings: SmtpSettings,
    ) -> anyhow::Result<Self> {
        let from: lettre::message::Mailbox = settings
            .from
            .parse()
            .map_err(|e| anyhow::anyhow!("TENANTGATE_MAIL_FROM {:?}: {e}", settings.from))?;
        let transport = Transport::from_url(&settings.url)
            .map_err(|e| anyhow::anyhow!("SMTP_URL is not a valid SMTP URL: {e}"))?
            .timeout(Some(std::time::Duration::from_secs(20)))
            .build();
        let outlet = Outlet {
            transport,
            from,
            sealer,
        };
        let task = tokio::spawn(async move {
            let mut pause = settings.poll;
            loop {
                match deliver_round(&owner_url, &outlet).await {
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

/// Sends up to [`ROUND`] due messages, each in its own transaction; returns
/// how many went out. One bad message never holds up the others: its failure
/// is recorded (and committed) and the round goes on.
async fn deliver_round(owner_url: &str, outlet: &Outlet) -> anyhow::Result<usize> {
    let mut conn = AsyncPgConnection::establish(owner_url).await?;
    let (mut sent, mut failed) = (0, 0);
    for _ in 0..ROUND {
        conn.batch_execute("BEGIN").await?;
        let outcome = deliver_one(&mut conn, outlet).await;
        match outcome {
            Ok(Some(delivered)) => {
                conn.batch_execute("COMMIT").await?;
                if delivered {
                    sent += 1;
                } else {
                    failed += 1;
                }
            }
            Ok(None) => {
                conn.batch_execute("COMMIT").await?;
                break;
            }
            Err(err) => {
                let _ = conn.batch_execute("ROLLBACK").await;
                return Err(err);
            }
        }
    }
    if sent > 0 {
        tracing::info!(sent, "emails delivered");
    }
    if failed > 0 && sent == 0 {
        anyhow::bail!("{failed} emails failed to send");
    }
    Ok(sent)
}

/// Locks, sends and records one due message inside the open transaction:
/// `None` when nothing is due, else whether it was delivered.
async fn deliver_one(
    conn: &mut AsyncPgConnection,
    outlet: &Outlet,
) -> anyhow::Result<Option<bool>> {
    use lettre::AsyncTransport;
    let Some(mail) = outbox::lock_next_due(conn).await? else {
        return Ok(None);
    };
    let message = build(outlet, &mail);
    let outcome = match message {
        Ok(message) => outlet
            .transport
            .send(message)
            .await
            .map(drop)
            .map_err(|e| e.to_string()),
        Err(err) => Err(err),
    };
    match outcome {
        Ok(()) => {
            // Delivered: the body (and its links) is not kept.
            outbox::mark_sent(conn, mail.id).await?;
            Ok(Some(true))
        }
        Err(err) => {
            // Retry after attempts² seconds (1 s, 4 s, 9 s … up to 100 s);
            // give up after MAX_ATTEMPTS.
            outbox::mark_failed(conn, mail.id, &err, MAX_ATTEMPTS).await?;
            tracing::warn!(mail.id = %mail.id, error = %err, "email not delivered; will retry");
            Ok(Some(false))
        }
    }
}

/// The SMTP message of `mail`, or why it cannot be sent.
fn build(outlet: &Outlet, mail: &Due) -> Result<lettre::Message, String> {
    let to: lettre::message::Mailbox = mail
        .recipient
        .parse()
        .map_err(|e: lettre::address::AddressError| e.to_string())?;
    let body = mail
        .sealed_body
        .as_deref()
        .ok_or_else(|| "the message has no body".to_owned())
        .and_then(|sealed| {
            outlet
                .sealer
                .open(mail.id, sealed)
                .map_err(|e| e.to_string())
        })?;
    lettre::Message::builder()
        .from(outlet.from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .header(lettre::message::header::ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| e.to_string())
}
