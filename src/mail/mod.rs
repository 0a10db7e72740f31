//! Outgoing email. Every message is recorded in the `email_outbox` table inside
//! the transaction that caused it (so a rolled-back change sends nothing) and
//! logged; in development the log line includes the body, so sign-in links can
//! be followed without a mail server. Platform admins can read the outbox
//! through GraphQL in development.
//!
//! Bodies hold links that sign in, reset passwords and join tenants: they are
//! stored sealed ([`seal`]) and removed once delivered ([`Dispatcher`]), so the
//! database never holds a usable link. Recipients and subjects stay readable.

mod dispatch;
pub mod seal;

pub use dispatch::{Dispatcher, MAX_ATTEMPTS, SmtpSettings};
pub use seal::Sealer;

use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::db::outbox;

/// One message.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// How mail leaves this server.
#[derive(Debug, Clone)]
pub struct Mailer {
    /// Log message bodies (development only: they hold sign-in links).
    pub log_bodies: bool,
    /// The base URL of links in messages (e.g. `https://auth.example.com`).
    pub public_url: String,
    /// Seals bodies before they are stored.
    pub sealer: Sealer,
}

impl Mailer {
    /// This mailer with links pointing at `domain` (a tenant's custom domain
    /// a request came on, as the routing index matched it): the scheme and
    /// path of the public URL are kept, its host and port replaced.
    pub fn on_domain(&self, domain: &str) -> Self {
        let (scheme, rest) = self
            .public_url
            .split_once("://")
            .unwrap_or(("https", &self.public_url));
        let path = rest.find('/').map_or("", |at| &rest[at..]);
        Self {
            public_url: format!("{scheme}://{domain}{path}"),
            ..self.clone()
        }
    }

    /// Records `mail` in the outbox on `conn` and logs it.
    pub async fn queue(&self, conn: &mut AsyncPgConnection, mail: Mail) -> QueryResult<Uuid> {
        let id = Uuid::now_v7();
        let sealed = self.sealer.seal(id, &mail.body);
        outbox::insert(conn, id, &mail.to, &mail.subject, &sealed).await?;
        if self.log_bodies {
            tracing::info!(mail.id = %id, to = %mail.to, subject = %mail.subject, body = %mail.body, "email queued");
        } else {
            tracing::info!(mail.id = %id, to = %mail.to, subject = %mail.subject, "email queued");
        }
        Ok(id)
    }
}

/// A message of the outbox.
#[derive(Debug, Clone)]
pub struct Queued {
    pub id: Uuid,
    pub recipient: String,
    pub subject: String,
    /// `None` once delivered (the body is removed), or when no key of this
    /// server opens it.
    pub body: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The newest `limit` messages, bodies opened with `sealer` (the
/// platform-admin scope may read them).
pub async fn recent(
    conn: &mut AsyncPgConnection,
    sealer: &Sealer,
    limit: i64,
) -> QueryResult<Vec<Queued>> {
    let rows = outbox::recent(conn, limit).await?;
    Ok(rows
        .into_iter()
        .map(|row| Queued {
            body: row
                .sealed_body
                .and_then(|sealed| sealer.open(row.id, &sealed).ok()),
            id: row.id,
            recipient: row.recipient,
            subject: row.subject,
            created_at: row.created_at,
        })
        .collect())
}
