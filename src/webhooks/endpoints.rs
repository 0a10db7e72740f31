//! Managing endpoints: create, update, delete, rotate the secret. Admins
//! and owners of the tenant, or API keys with `webhooks:write` (see
//! `access.rs`); every change audited in its own transaction, which first
//! re-reads the caller's standing (a member's role, share-locked; a key's
//! own row, locked), so a demotion, revocation or narrowed key that commits
//! first wins. Replays and test sends are in `sends.rs`.

use chrono::{DateTime, Utc};
use scoped_futures::ScopedFutureExt;
use serde_json::json;
use uuid::Uuid;

use super::EventType;
use super::access::{confirm, types_for};
pub use super::access::{key_may_read, require_write};
use super::secret::Secret;
use super::service::Webhooks;
use crate::audit::{self, Entry, RequestMeta};
use crate::auth::keys::Manager;
use crate::db::webhook_deliveries as deliveries;
use crate::db::webhook_endpoints::{self as rows, Changes, Endpoint, NewEndpoint};
use crate::error::{AppError, AppResult};
use crate::tenancy::not_found;

/// Endpoints per tenant.
pub const MAX_ENDPOINTS: i64 = 20;
/// Longest description.
pub const MAX_DESCRIPTION: usize = 500;
/// How long the previous secret still signs after a rotation.
pub const ROTATION_OVERLAP: chrono::Duration = chrono::Duration::hours(24);
/// The type of `sendTestWebhook`'s event (sent to one endpoint only; not
/// subscribable).
pub const TEST_EVENT: &str = "webhook.test";

/// What a new endpoint is made of.
#[derive(Debug, Clone, Default)]
pub struct NewEndpointInput {
    pub url: String,
    pub description: Option<String>,
    /// Empty: every type.
    pub event_types: Vec<String>,
}

/// What an update changes (`None`: unchanged).
#[derive(Debug, Clone, Default)]
pub struct EndpointChanges {
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

fn check_description(d: &str) -> AppResult<String> {
    let d = d.trim();
    if d.chars().count() > MAX_DESCRIPTION {
        return Err(AppError::bad_field(
            "description",
            "use at most 500 characters",
        ));
    }
    Ok(d.to_owned())
}

/// Known, distinct event types (empty: all).
pub fn check_types(types: &[String]) -> AppResult<Vec<String>> {
    let mut out: Vec<String> = Vec::with_capacity(types.len());
    for t in types {
        let t = t.trim();
        if EventType::parse(t).is_none() {
            return Err(AppError::bad_field(
                "eventTypes",
                format!(
                    "unknown event type {:?}: see webhookEventTypes",
                    t.chars().take(64).collect::<String>()
                ),
            ));
        }
        if !out.iter().any(|o| o == t) {
            out.push(t.to_owned());
        }
    }
    Ok(out)
}

/// What the audit trail records of an endpoint (never its secret).
pub fn summary(e: &Endpoint) -> serde_json::Value {
    json!({
        "url": e.url,
        "description": e.description,
        "eventTypes": e.types(),
        "enabled": e.enabled,
        "disabledReason": e.disabled_reason,
        "previousSecretExpiresAt": e.previous_secret_expires_at,
    })
}

fn endpoint_id(id: &str) -> AppResult<Uuid> {
    Uuid::parse_str(id).map_err(|_| AppError::bad_field("id", "not a webhook endpoint id"))
}

impl Webhooks {
    /// Creates an endpoint; returns it with its secret (shown this once).
    pub async fn create(
        &self,
        meta: &RequestMeta,
        by: &Manager,
        input: NewEndpointInput,
    ) -> AppResult<(Endpoint, Secret)> {
        require_write(by)?;
        let url = super::target::check(&input.url, self.settings().allow_loopback)?;
        let description = check_description(input.description.as_deref().unwrap_or(""))?;
        let types = types_for(by, check_types(&input.event_types)?)?;
        let secret = Secret::generate();
        let id = Uuid::now_v7();
        let sealed = self.0.secrets.seal(id, &secret);
        let (meta, by) = (meta.clone(), by.clone());
        let tenant = by.tenant_id();
        let endpoint = self
            .0
            .db
            .scoped(by.scope(), |conn| {
                async move {
                    confirm(conn, &by).await?;
                    if rows::lock_and_count(conn, tenant).await? >= MAX_ENDPOINTS {
                        return Err(AppError::conflict_with(
                            format!(
                                "a tenant has at most {MAX_ENDPOINTS} webhook endpoints: \
                                 delete one first"
                            ),
                            json!({ "limit": MAX_ENDPOINTS }),
                        ));
                    }
                    let endpoint = rows::insert(
                        conn,
                        &NewEndpoint {
                            id,
                            tenant_id: tenant,
                            url: &url,
                            description: &description,
                            event_types: types,
                            secret_sealed: &sealed,
                        },
                    )
                    .await?;
                    audit::record(
                        conn,
                        &meta,
                        Entry::new(Some(tenant), by.actor(), "webhook_endpoint.create")
                            .target("webhook_endpoint", endpoint.id)
                            .change(None, Some(summary(&endpoint))),
                    )
                    .await?;
                    Ok(endpoint)
                }
                .scope_boxed()
            })
            .await?;
        Ok((endpoint, secret))
    }

    /// One change to one endpoint of the caller's tenant, in one
    /// transaction: standing confirmed, the endpoint locked (NOT_FOUND
    /// outside the tenant), `apply` run, `action` audited with before and
    /// after.
    async fn change<T, F>(
        &self,
        meta: &RequestMeta,
        by: &Manager,
        id: &str,
        action: &'static str,
        apply: F,
    ) -> AppResult<(Option<Endpoint>, T)>
    where
        T: Send,
        F: for<'c> FnOnce(
                &'c mut diesel_async::AsyncPgConnection,
                Endpoint,
            ) -> scoped_futures::ScopedBoxFuture<
                'c,
                'c,
                AppResult<(Option<Endpoint>, T)>,
            > + Send,
    {
        require_write(by)?;
        let id = endpoint_id(id)?;
        let (meta, by) = (meta.clone(), by.clone());
        let tenant = by.tenant_id();
        self.0
            .db
            .scoped(by.scope(), |conn| {
                async move {
                    confirm(conn, &by).await?;
                    let before = rows::find_for_update(conn, tenant, id)
                        .await?
                        .ok_or_else(|| not_found("webhook endpoint"))?;
                    let before_summary = summary(&before);
                    let (after, out) = apply(conn, before).await?;
                    audit::record(
                        conn,
                        &meta,
                        Entry::new(Some(tenant), by.actor(), action)
                            .target("webhook_endpoint", id)
                            .change(Some(before_summary), after.as_ref().map(summary)),
                    )
                    .await?;
                    Ok((after, out))
                }
                .scope_boxed()
            })
            .await
    }

    /// Changes an endpoint's URL, description, event types or state.
    /// Disabling cancels its pending deliveries; enabling clears the reason
    /// and the failure streak, and so does a new URL (another receiver's
    /// 5 days start afresh).
    pub async fn update(
        &self,
        meta: &RequestMeta,
        by: &Manager,
        id: &str,
        input: EndpointChanges,
    ) -> AppResult<Endpoint> {
        let mut changes = Changes {
            url: input
                .url
                .as_deref()
                .map(|u| super::target::check(u, self.settings().allow_loopback))
                .transpose()?,
            description: input
                .description
                .as_deref()
                .map(check_description)
                .transpose()?,
            event_types: input
                .event_types
                .as_deref()
                .map(|t| types_for(by, check_types(t)?))
                .transpose()?,
            updated_at: Some(Utc::now()),
            ..Changes::default()
        };
        let actor = by.actor();
        // A key changes what an endpoint hears, or where it goes, only if it
        // may read every type the endpoint hears before (and, checked above,
        // after); a key re-points it only while no pending delivery is of a
        // type it may not read (else the new URL would receive those).
        let guarded_key = match by {
            Manager::Key(grant) if input.url.is_some() || input.event_types.is_some() => {
                Some(grant.scopes)
            }
            _ => None,
        };
        let (after, ()) = self
            .change(
                meta,
                by,
                id,
                "webhook_endpoint.update",
                move |conn, before| {
                    async move {
                        if let Some(scopes) = guarded_key {
                            let new_url = changes.url.as_ref().filter(|u| **u != before.url);
                            guard_key_change(conn, scopes, &before, new_url.is_some()).await?;
                        }
                        let now = Utc::now();
                        if changes.url.as_ref().is_some_and(|u| *u != before.url) {
                            changes.failing_since = Some(None);
                        }
                        match input.enabled {
                            Some(true) if !before.enabled => {
                                changes.enabled = Some(true);
                                changes.disabled_reason = Some(None);
                                changes.disabled_at = Some(None);
                                changes.failing_since = Some(None);
                            }
                            Some(false) if before.enabled => {
                                changes.enabled = Some(false);
                                changes.disabled_reason =
                                    Some(Some(format!("disabled by {}", actor_label(&actor))));
                                changes.disabled_at = Some(Some(now));
                                rows::cancel_pending(conn, before.id, 0).await?;
                            }
                            _ => {}
                        }
                        let after = rows::update(conn, before.id, &changes).await?;
                        Ok((Some(after), ()))
                    }
                    .scope_boxed()
                },
            )
            .await?;
        Ok(after.expect("an update returns the endpoint"))
    }

    /// Deletes an endpoint with its delivery log; returns it as it was.
    pub async fn delete(&self, meta: &RequestMeta, by: &Manager, id: &str) -> AppResult<Endpoint> {
        let (_, before) = self
            .change(meta, by, id, "webhook_endpoint.delete", |conn, before| {
                async move {
                    rows::delete(conn, before.id).await?;
                    Ok((None, before))
                }
                .scope_boxed()
            })
            .await?;
        Ok(before)
    }

    /// Issues a new secret (shown this once); the current one keeps signing
    /// beside it for 24 hours (both signatures are sent). A rotation during
    /// an overlap ends the older overlap.
    pub async fn rotate(
        &self,
        meta: &RequestMeta,
        by: &Manager,
        id: &str,
    ) -> AppResult<(Endpoint, Secret)> {
        let secret = Secret::generate();
        let boxed = self.0.secrets.clone();
        let fresh = secret.clone();
        let (after, ()) = self
            .change(
                meta,
                by,
                id,
                "webhook_endpoint.rotate_secret",
                move |conn, before| {
                    async move {
                        let sealed = boxed.seal(before.id, &fresh);
                        let until = Utc::now() + ROTATION_OVERLAP;
                        let after = rows::set_secret(
                            conn,
                            before.id,
                            &sealed,
                            Some((&before.secret_sealed, until)),
                        )
                        .await?;
                        Ok((Some(after), ()))
                    }
                    .scope_boxed()
                },
            )
            .await?;
        Ok((after.expect("a rotation returns the endpoint"), secret))
    }
}

/// Refuses a key's change of an endpoint that hears a type the key may not
/// read, and a key's re-point while a pending delivery of such a type waits.
async fn guard_key_change(
    conn: &mut diesel_async::AsyncPgConnection,
    scopes: crate::auth::api_keys::Scopes,
    before: &Endpoint,
    repoint: bool,
) -> AppResult<()> {
    if let Some(t) = hears(before).into_iter().find(|t| !key_may_read(scopes, t)) {
        return Err(AppError::forbidden(format!(
            "this API key may not change the URL or event types of an endpoint that hears \
             {t}: its data needs a scope the key lacks"
        )));
    }
    if repoint {
        let pending = deliveries::pending_types(conn, before.id).await?;
        if let Some(t) = pending.iter().find(|t| !key_may_read(scopes, t)) {
            return Err(AppError::forbidden(format!(
                "this API key may not change the URL of an endpoint with pending {t} \
                 deliveries: their data needs a scope the key lacks"
            )));
        }
    }
    Ok(())
}

/// The types an endpoint hears (every type when its list is empty).
pub fn hears(e: &Endpoint) -> Vec<String> {
    let types = e.types();
    if types.is_empty() {
        EventType::ALL
            .iter()
            .map(|t| t.as_str().to_owned())
            .collect()
    } else {
        types
    }
}

fn actor_label(actor: &audit::Actor) -> String {
    match actor {
        audit::Actor::User {
            email: Some(email), ..
        } => email.clone(),
        audit::Actor::ApiKey { label, .. } => format!("API key {label}"),
        _ => "a member".to_owned(),
    }
}

/// When the previous secret stops signing, if it still does at `now`.
pub fn previous_valid(e: &Endpoint, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    e.previous_secret_expires_at.filter(|at| *at > now)
}
