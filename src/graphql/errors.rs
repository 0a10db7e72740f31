//! GraphQL errors: [`AppError`] as an `async_graphql::Error` (message, code,
//! detail extensions), and errors on the wire (a code and the request id on
//! every one, internals masked). The HTTP endpoint and the WebSocket use these;
//! nothing outside `graphql` builds a GraphQL error.

use async_graphql::{ErrorExtensionValues, ServerError};
use serde_json::{Value, json};

use crate::error::{AppError, ErrorCode, INTERNAL_MESSAGE, Limited, PlanLimit, SharedError};

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        err.to_graphql()
    }
}

impl From<SharedError> for async_graphql::Error {
    fn from(err: SharedError) -> Self {
        err.0.to_graphql()
    }
}

impl AppError {
    /// The GraphQL error of this error: message, code and detail extensions.
    pub fn to_graphql(&self) -> async_graphql::Error {
        if let AppError::Internal(cause) = self {
            // The cause goes to the log; the response layer adds the request id.
            tracing::error!(error = ?cause, "internal error");
        }
        let mut out = async_graphql::Error::new(self.public_message());
        let mut ext = ErrorExtensionValues::default();
        ext.set("code", self.code().as_str());
        match self {
            AppError::BadUserInput {
                field: Some(field), ..
            } => ext.set("field", field.as_str()),
            AppError::RateLimited { retry_after, .. } => {
                ext.set("retryAfter", retry_after.as_secs_f64().ceil() as u64)
            }
            AppError::PaymentRequired(limit) => set_plan_limit(&mut ext, limit),
            AppError::ConflictWith(details) => {
                if let Value::Object(fields) = &details.1 {
                    for (name, value) in fields {
                        if let Ok(value) = async_graphql::Value::from_json(value.clone()) {
                            ext.set(name.as_str(), value);
                        }
                    }
                }
            }
            AppError::QuotaExceeded(quota) => {
                ext.set("metric", quota.metric.as_str());
                ext.set("limit", quota.limit);
                ext.set("used", quota.used);
                ext.set(
                    "resetsAt",
                    quota
                        .resets_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                );
            }
            _ => {}
        }
        out.extensions = Some(ext);
        out
    }
}

/// PAYMENT_REQUIRED's details: `plan`, `upgradeTo` (null: no public plan
/// allows it), and `resource`, `limit` and `current` (a count), or `feature`
/// with `limit: false` and `current: null` (a feature the plan lacks).
fn set_plan_limit(ext: &mut ErrorExtensionValues, limit: &PlanLimit) {
    ext.set("plan", limit.plan.as_str());
    ext.set(
        "upgradeTo",
        match &limit.upgrade_to {
            Some(key) => async_graphql::Value::from(key.as_str()),
            None => async_graphql::Value::Null,
        },
    );
    match &limit.limited {
        Limited::Resource {
            name,
            limit,
            current,
        } => {
            ext.set("resource", *name);
            ext.set("limit", *limit);
            ext.set("current", *current);
        }
        Limited::Feature { name } => {
            ext.set("feature", *name);
            ext.set("limit", false);
            ext.set("current", async_graphql::Value::Null);
        }
    }
}

/// A refusal of a WebSocket's `connection_init`, as the protocol carries it
/// (the message alone: the close frame has no extensions).
pub fn connection_refused(message: String) -> async_graphql::Error {
    async_graphql::Error::new(message)
}

/// The body of a request error (nothing ran): `{"errors": [one error]}`,
/// without a location.
pub fn request_error_json(err: &AppError, request_id: &str) -> Value {
    let server = err
        .to_graphql()
        .into_server_error(async_graphql::Pos::default());
    let mut body = json!({ "errors": [wire_json(server, request_id, false)] });
    // Pos::default() is (0, 0): not a real location.
    if let Some(e) = body["errors"][0].as_object_mut() {
        e.remove("locations");
    }
    body
}

/// One error as JSON, with a code and the request id; internals masked.
pub fn wire_json(mut err: ServerError, request_id: &str, executed: bool) -> Value {
    let ext = err
        .extensions
        .get_or_insert_with(ErrorExtensionValues::default);
    let code = match ext.get("code") {
        Some(async_graphql::Value::String(code)) => ErrorCode::parse(code),
        _ => None,
    };
    let code = match code {
        Some(code) => code,
        // Parse and validation errors (limits included) describe the request.
        None if !executed && err.path.is_empty() => ErrorCode::BadUserInput,
        // An argument or variable its type refuses (an `Int` past 32 bits):
        // async-graphql reports it from inside execution, without a code.
        None if is_input_parse_error(&err.message) => ErrorCode::BadUserInput,
        None => {
            tracing::error!(request_id = %request_id, error = %err.message, "unclassified error");
            ErrorCode::Internal
        }
    };
    if code == ErrorCode::Internal {
        err.message = format!("{INTERNAL_MESSAGE} (request id {})", request_id);
    }
    ext.set("code", code.as_str());
    ext.set("requestId", request_id);
    serde_json::to_value(&err).unwrap_or_else(|_| json!({"message": INTERNAL_MESSAGE}))
}

/// Whether `message` is async-graphql's report of an input value its type
/// refused (`InputValueError`, raised while arguments are read).
fn is_input_parse_error(message: &str) -> bool {
    message.starts_with("Failed to parse \"")
}
