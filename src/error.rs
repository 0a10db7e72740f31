//! The one error type of the service, its wire codes and HTTP statuses.
//!
//! Every failure a client can see is an [`AppError`]. It maps to exactly one
//! `extensions.code` (see [`ErrorCode`]) and one HTTP status. Internal errors keep
//! their cause for the log and show the client nothing but a request id.

use std::time::Duration;

use axum::http::StatusCode;
use thiserror::Error;

/// The `extensions.code` values of the API, as listed in PRODUCT.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    NotFound,
    /// Something that existed and no longer may be used (a spent or expired
    /// download link, an expired export).
    Gone,
    BadUserInput,
    Conflict,
    RateLimited,
    QuotaExceeded,
    PaymentRequired,
    Unavailable,
    Internal,
    /// A document id the server does not know (trusted documents).
    PersistedQueryNotFound,
    /// Query text from a caller who may send only trusted documents.
    TrustedDocumentRequired,
    /// A sensitive change needs a sign-in of the last few minutes (deleting
    /// a tenant or an account): sign in again, then retry.
    ReauthenticationRequired,
    /// The tenant is scheduled for deletion: reads go on, changes (and its
    /// API keys) are refused until an owner cancels the deletion.
    TenantPendingDeletion,
}

impl ErrorCode {
    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::Gone => "GONE",
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::Conflict => "CONFLICT",
            Self::RateLimited => "RATE_LIMITED",
            Self::QuotaExceeded => "QUOTA_EXCEEDED",
            Self::PaymentRequired => "PAYMENT_REQUIRED",
            Self::Unavailable => "UNAVAILABLE",
            Self::Internal => "INTERNAL",
            Self::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            Self::TrustedDocumentRequired => "TRUSTED_DOCUMENT_REQUIRED",
            Self::ReauthenticationRequired => "REAUTHENTICATION_REQUIRED",
            Self::TenantPendingDeletion => "TENANT_PENDING_DELETION",
        }
    }

    /// Parses a wire code; `None` for anything that is not one of ours.
    pub fn parse(code: &str) -> Option<Self> {
        Some(match code {
            "UNAUTHENTICATED" => Self::Unauthenticated,
            "FORBIDDEN" => Self::Forbidden,
            "NOT_FOUND" => Self::NotFound,
            "GONE" => Self::Gone,
            "BAD_USER_INPUT" => Self::BadUserInput,
            "CONFLICT" => Self::Conflict,
            "RATE_LIMITED" => Self::RateLimited,
            "QUOTA_EXCEEDED" => Self::QuotaExceeded,
            "PAYMENT_REQUIRED" => Self::PaymentRequired,
            "UNAVAILABLE" => Self::Unavailable,
            "INTERNAL" => Self::Internal,
            "PERSISTED_QUERY_NOT_FOUND" => Self::PersistedQueryNotFound,
            "TRUSTED_DOCUMENT_REQUIRED" => Self::TrustedDocumentRequired,
            "REAUTHENTICATION_REQUIRED" => Self::ReauthenticationRequired,
            "TENANT_PENDING_DELETION" => Self::TenantPendingDeletion,
            _ => return None,
        })
    }

    /// The HTTP status used when this error is a request error (no `data`).
    pub fn http_status(self) -> StatusCode {
        match self {
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Gone => StatusCode::GONE,
            Self::BadUserInput => StatusCode::BAD_REQUEST,
            Self::Conflict => StatusCode::CONFLICT,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::QuotaExceeded => StatusCode::PAYMENT_REQUIRED,
            Self::PaymentRequired => StatusCode::PAYMENT_REQUIRED,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::PersistedQueryNotFound => StatusCode::BAD_REQUEST,
            // Who calls decides (API keys and platform admins may send
            // text): a refusal of the caller, not of a malformed request.
            Self::TrustedDocumentRequired => StatusCode::FORBIDDEN,
            // The token is valid: the caller is refused until they act.
            Self::ReauthenticationRequired => StatusCode::FORBIDDEN,
            Self::TenantPendingDeletion => StatusCode::FORBIDDEN,
        }
    }
}

/// The message every internal error shows instead of its cause.
pub const INTERNAL_MESSAGE: &str = "internal error";

/// Every error a request can end in.
#[derive(Debug, Error)]
pub enum AppError {
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Gone(String),
    #[error("{message}")]
    BadUserInput {
        message: String,
        /// The input field at fault, when there is one (e.g. `email`).
        field: Option<String>,
    },
    #[error("{0}")]
    Conflict(String),
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after: Duration,
    },
    /// A plan's monthly quota of a metric; the details go into `extensions`.
    #[error("{}", .0.message())]
    QuotaExceeded(Box<QuotaLimit>),
    /// A plan's limit or missing feature; the details go into `extensions`.
    #[error("{}", .0.message)]
    PaymentRequired(Box<PlanLimit>),
    #[error("{0}")]
    Unavailable(String),
    #[error("{INTERNAL_MESSAGE}")]
    Internal(#[source] anyhow::Error),
    #[error("{0}")]
    PersistedQueryNotFound(String),
    #[error("{0}")]
    TrustedDocumentRequired(String),
    #[error("{0}")]
    ReauthenticationRequired(String),
    #[error("{0}")]
    TenantPendingDeletion(String),
    /// A CONFLICT with details for `extensions` (a JSON object's fields).
    #[error("{}", .0.0)]
    ConflictWith(Box<(String, serde_json::Value)>),
}

/// What a PAYMENT_REQUIRED refusal says, beside its message: which plan
/// refused what, and the cheapest public plan that would allow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanLimit {
    pub message: String,
    /// The key of the tenant's plan.
    pub plan: String,
    /// The key of the cheapest public plan that allows it (none: no public
    /// plan does).
    pub upgrade_to: Option<String>,
    pub limited: Limited,
}

/// What a QUOTA_EXCEEDED refusal says: the metric, the plan's monthly
/// limit, what is used this month and when the month ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaLimit {
    pub metric: String,
    pub limit: i64,
    pub used: i64,
    pub resets_at: chrono::DateTime<chrono::Utc>,
}

impl QuotaLimit {
    /// The refusal's message.
    pub fn message(&self) -> String {
        format!(
            "the monthly quota of {} is used up ({} of {}); it resets at {}",
            self.metric,
            self.used,
            self.limit,
            self.resets_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )
    }

    /// The details as JSON (`metric`, `limit`, `used`, `resetsAt`).
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "metric": self.metric,
            "limit": self.limit,
            "used": self.used,
            "resetsAt": self.resets_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        })
    }
}

/// What a plan limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Limited {
    /// A countable resource (`members`): the plan's limit and what is in use.
    Resource {
        name: &'static str,
        limit: i64,
        current: i64,
    },
    /// A feature the plan lacks (`customBranding`).
    Feature { name: &'static str },
}

/// The result type of everything that can fail with an [`AppError`].
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::Unauthenticated(message.into())
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden(message.into())
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound(message.into())
    }

    pub fn gone(message: impl Into<String>) -> Self {
        Self::Gone(message.into())
    }

    /// A bad input not tied to one field.
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::BadUserInput {
            message: message.into(),
            field: None,
        }
    }

    /// A bad value of one named input field.
    pub fn bad_field(field: &str, message: impl Into<String>) -> Self {
        Self::BadUserInput {
            message: message.into(),
            field: Some(field.to_owned()),
        }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict(message.into())
    }

    pub fn rate_limited(message: impl Into<String>, retry_after: Duration) -> Self {
        Self::RateLimited {
            message: message.into(),
            retry_after,
        }
    }

    /// A plan's limit refused the request (PAYMENT_REQUIRED with details).
    pub fn payment_required(limit: PlanLimit) -> Self {
        Self::PaymentRequired(Box::new(limit))
    }

    /// A monthly quota refused the usage (QUOTA_EXCEEDED with details).
    pub fn quota_exceeded(limit: QuotaLimit) -> Self {
        Self::QuotaExceeded(Box::new(limit))
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::Unavailable(message.into())
    }

    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        Self::Internal(cause.into())
    }

    /// A document id the server does not know.
    pub fn persisted_query_not_found(message: impl Into<String>) -> Self {
        Self::PersistedQueryNotFound(message.into())
    }

    /// Query text where only a trusted document may run.
    pub fn trusted_document_required(message: impl Into<String>) -> Self {
        Self::TrustedDocumentRequired(message.into())
    }

    /// A sensitive change without a recent sign-in.
    pub fn reauthentication_required(message: impl Into<String>) -> Self {
        Self::ReauthenticationRequired(message.into())
    }

    /// A change refused because the tenant is scheduled for deletion.
    pub fn tenant_pending_deletion(message: impl Into<String>) -> Self {
        Self::TenantPendingDeletion(message.into())
    }

    /// A CONFLICT whose `details` (a JSON object) go into `extensions`.
    pub fn conflict_with(message: impl Into<String>, details: serde_json::Value) -> Self {
        Self::ConflictWith(Box::new((message.into(), details)))
    }

    /// The wire code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::Gone(_) => ErrorCode::Gone,
            Self::BadUserInput { .. } => ErrorCode::BadUserInput,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::QuotaExceeded(_) => ErrorCode::QuotaExceeded,
            Self::PaymentRequired(_) => ErrorCode::PaymentRequired,
            Self::Unavailable(_) => ErrorCode::Unavailable,
            Self::Internal(_) => ErrorCode::Internal,
            Self::PersistedQueryNotFound(_) => ErrorCode::PersistedQueryNotFound,
            Self::TrustedDocumentRequired(_) => ErrorCode::TrustedDocumentRequired,
            Self::ReauthenticationRequired(_) => ErrorCode::ReauthenticationRequired,
            Self::TenantPendingDeletion(_) => ErrorCode::TenantPendingDeletion,
            Self::ConflictWith(_) => ErrorCode::Conflict,
        }
    }

    /// The HTTP status of this error when it ends a request.
    pub fn http_status(&self) -> StatusCode {
        self.code().http_status()
    }

    /// The message a client may see: never an internal cause.
    pub fn public_message(&self) -> String {
        self.to_string()
    }
}

/// An error shared by everyone waiting on one batch (DataLoader errors must be
/// `Clone`).
#[derive(Debug, Clone)]
pub struct SharedError(pub std::sync::Arc<AppError>);

impl From<AppError> for SharedError {
    fn from(err: AppError) -> Self {
        Self(std::sync::Arc::new(err))
    }
}

/// A PostgreSQL unique violation, with the constraint it broke.
pub fn unique_violation(err: &diesel::result::Error) -> Option<&str> {
    use diesel::result::{DatabaseErrorKind, Error};
    match err {
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            Some(info.constraint_name().unwrap_or(""))
        }
        _ => None,
    }
}

/// PostgreSQL errors that say the server cannot do it now rather than that
/// the request is wrong (deadlocks, lock timeouts, shutdowns, a full disk, a
/// month without its partition yet): diesel gives no SQLSTATE, so by message.
fn transient_message(message: &str) -> bool {
    const PASSING: [&str; 8] = [
        "deadlock detected",
        "lock timeout",
        "could not obtain lock",
        "terminating connection",
        "the database system is",
        "no space left on device",
        "could not extend file",
        "no partition of relation",
    ];
    let message = message.to_ascii_lowercase();
    PASSING.iter().any(|p| message.contains(p))
}

impl From<diesel::result::Error> for AppError {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match &err {
            Error::NotFound => Self::not_found("not found"),
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
            | Error::DatabaseError(DatabaseErrorKind::UnableToSendCommand, _) => {
                tracing::warn!(error = %err, "database connection lost");
                Self::unavailable("the database is unavailable; try again shortly")
            }
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                Self::unavailable("the request conflicted with another; try again")
            }
            Error::DatabaseError(DatabaseErrorKind::CheckViolation, info)
                if info.message().contains("keep at least one owner") =>
            {
                Self::conflict("a tenant must keep at least one owner")
            }
            Error::DatabaseError(_, info) if info.message().contains("statement timeout") => {
                tracing::warn!(error = %err, "statement timed out");
                Self::unavailable("the database took too long; try again")
            }
            // Passing conditions of the server, not of the request: a retry
            // may succeed (and buffered usage must be kept, not set aside).
            Error::DatabaseError(DatabaseErrorKind::ReadOnlyTransaction, _) => {
                tracing::warn!(error = %err, "the database is read-only (a failover?)");
                Self::unavailable("the database is unavailable; try again shortly")
            }
            Error::DatabaseError(_, info) if transient_message(info.message()) => {
                tracing::warn!(error = %err, "a passing database failure");
                Self::unavailable("the database is unavailable; try again shortly")
            }
            _ => Self::Internal(err.into()),
        }
    }
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for AppError {
    fn from(err: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        tracing::warn!(error = %err, "no database connection");
        Self::unavailable("the database is unavailable; try again shortly")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passing_database_failures_are_transient() {
        assert!(transient_message("deadlock detected"));
        assert!(transient_message(
            "no partition of relation \"usage_batches\" found for row"
        ));
        assert!(transient_message("canceling statement due to lock timeout"));
        assert!(!transient_message(
            "duplicate key value violates unique constraint"
        ));
        assert!(!transient_message("new row violates check constraint"));
    }

    fn wire(err: AppError) -> (String, serde_json::Value) {
        let gql: async_graphql::Error = err.into();
        let ext = serde_json::to_value(gql.extensions.expect("extensions")).unwrap();
        (gql.message, ext)
    }

    #[test]
    fn every_variant_maps_to_its_code_and_status() {
        let cases: Vec<(AppError, &str, u16)> = vec![
            (AppError::unauthenticated("who"), "UNAUTHENTICATED", 401),
            (AppError::forbidden("no"), "FORBIDDEN", 403),
            (AppError::not_found("gone"), "NOT_FOUND", 404),
            (AppError::gone("spent"), "GONE", 410),
            (AppError::bad_input("bad"), "BAD_USER_INPUT", 400),
            (AppError::conflict("dup"), "CONFLICT", 409),
            (
                AppError::conflict_with("last owner", serde_json::json!({ "tenants": [] })),
                "CONFLICT",
                409,
            ),
            (
                AppError::reauthentication_required("sign in again"),
                "REAUTHENTICATION_REQUIRED",
                403,
            ),
            (
                AppError::tenant_pending_deletion("deleting"),
                "TENANT_PENDING_DELETION",
                403,
            ),
            (
                AppError::rate_limited("slow", Duration::from_millis(1500)),
                "RATE_LIMITED",
                429,
            ),
            (
                AppError::quota_exceeded(QuotaLimit {
                    metric: "api_calls".into(),
                    limit: 10,
                    used: 10,
                    resets_at: chrono::Utc::now(),
                }),
                "QUOTA_EXCEEDED",
                402,
            ),
            (
                AppError::payment_required(PlanLimit {
                    message: "p".into(),
                    plan: "free".into(),
                    upgrade_to: None,
                    limited: Limited::Feature {
                        name: "customBranding",
                    },
                }),
                "PAYMENT_REQUIRED",
                402,
            ),
            (AppError::unavailable("down"), "UNAVAILABLE", 503),
            (
                AppError::persisted_query_not_found("which?"),
                "PERSISTED_QUERY_NOT_FOUND",
                400,
            ),
            (
                AppError::trusted_document_required("ids only"),
                "TRUSTED_DOCUMENT_REQUIRED",
                403,
            ),
            (
                AppError::internal(anyhow::anyhow!("secret SQL")),
                "INTERNAL",
                500,
            ),
        ];
        for (err, code, status) in cases {
            assert_eq!(err.code().as_str(), code);
            assert_eq!(err.http_status().as_u16(), status, "{code}");
            assert_eq!(ErrorCode::parse(code), Some(err.code()));
            let (_, ext) = wire(err);
            assert_eq!(ext["code"], code);
        }
        assert_eq!(ErrorCode::parse("SOMETHING_ELSE"), None);
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let (message, ext) = wire(AppError::internal(anyhow::anyhow!(
            "relation \"users\" violates constraint users_email_key"
        )));
        assert_eq!(message, INTERNAL_MESSAGE);
        assert!(!ext.to_string().contains("users"));
    }

    #[test]
    fn rate_limited_carries_retry_after_in_whole_seconds() {
        let (_, ext) = wire(AppError::rate_limited("slow", Duration::from_millis(1200)));
        assert_eq!(ext["retryAfter"], 2);
    }

    #[test]
    fn payment_required_carries_the_limit() {
        let (message, ext) = wire(AppError::payment_required(PlanLimit {
            message: "the free plan allows 5 members".into(),
            plan: "free".into(),
            upgrade_to: Some("basic".into()),
            limited: Limited::Resource {
                name: "members",
                limit: 5,
                current: 5,
            },
        }));
        assert_eq!(message, "the free plan allows 5 members");
        assert_eq!(ext["code"], "PAYMENT_REQUIRED");
        assert_eq!(ext["resource"], "members");
        assert_eq!(ext["limit"], 5);
        assert_eq!(ext["current"], 5);
        assert_eq!(ext["plan"], "free");
        assert_eq!(ext["upgradeTo"], "basic");
        let (_, ext) = wire(AppError::payment_required(PlanLimit {
            message: "no".into(),
            plan: "enterprise".into(),
            upgrade_to: None,
            limited: Limited::Feature {
                name: "customDomain",
            },
        }));
        assert_eq!(ext["feature"], "customDomain");
        assert_eq!(ext["limit"], false);
        assert_eq!(ext["current"], serde_json::Value::Null);
        assert_eq!(ext["upgradeTo"], serde_json::Value::Null);
    }

    #[test]
    fn bad_field_names_the_field() {
        let (message, ext) = wire(AppError::bad_field("email", "not an email address"));
        assert_eq!(message, "not an email address");
        assert_eq!(ext["field"], "email");
    }

    #[test]
    fn database_errors_map_by_kind() {
        use diesel::result::{DatabaseErrorKind, Error};
        assert_eq!(AppError::from(Error::NotFound).code(), ErrorCode::NotFound);
        let closed = Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection,
            Box::new("closed".to_owned()),
        );
        assert_eq!(AppError::from(closed).code(), ErrorCode::Unavailable);
        let other = Error::DatabaseError(
            DatabaseErrorKind::CheckViolation,
            Box::new("check tenants_slug_check".to_owned()),
        );
        let err = AppError::from(other);
        assert_eq!(err.code(), ErrorCode::Internal);
        assert_eq!(err.public_message(), INTERNAL_MESSAGE);
    }
}
