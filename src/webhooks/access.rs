//! Who may manage a tenant's webhooks: admins and owners, or API keys with
//! `webhooks:write`, checked for the request and re-checked inside the
//! change's transaction (a member's role share-locked; a key's own row
//! locked, its revocation, expiry and scopes read again), so a demotion, a
//! revocation or a narrowed key that commits first wins. And what a key may
//! hear: only the event families its scopes read anyway.

use chrono::Utc;

use super::EventType;
use super::endpoints::TEST_EVENT;
use crate::auth::Role;
use crate::auth::api_keys::{KeyScope, Scopes};
use crate::auth::keys::{Manager, confirm_member};
use crate::error::{AppError, AppResult};

/// May change the tenant's endpoints (as verified for this request).
pub fn require_write(by: &Manager) -> AppResult<()> {
    match by {
        Manager::Member { access, .. } => access.require(Role::Admin),
        Manager::Key(grant) => grant.require(KeyScope::WebhooksWrite),
    }
}

/// Re-reads the caller's standing inside the transaction: a member's role;
/// a key's row, locked: not revoked, not expired, still holding
/// `webhooks:write` and every scope it was authenticated with (a key
/// narrowed since may not act on its older scopes).
pub(super) async fn confirm(
    conn: &mut diesel_async::AsyncPgConnection,
    by: &Manager,
) -> AppResult<()> {
    match by {
        Manager::Member { access, .. } => confirm_member(conn, access).await,
        Manager::Key(grant) => {
            let now = Utc::now();
            let mine = crate::db::api_keys::lock(conn, grant.tenant_id, &[grant.key_id]).await?;
            let Some(k) = mine
                .first()
                .filter(|k| k.revoked_at.is_none() && k.expires_at.is_none_or(|at| at > now))
            else {
                return Err(AppError::unauthenticated(
                    "this API key was revoked or has expired",
                ));
            };
            let held = Scopes::from_names(&k.scope_names());
            if !held.contains(KeyScope::WebhooksWrite) || !grant.scopes.is_subset_of(held) {
                return Err(AppError::forbidden(
                    "this API key's scopes changed: it no longer holds webhooks:write \
                     (or a scope it was used with)",
                ));
            }
            Ok(())
        }
    }
}

/// Whether a key holding `scopes` may read what an event of `event_type`
/// tells: a key subscribes to, re-points, and reads the payloads of only the
/// families its scopes read anyway (member.* and invitation.*: members:read;
/// api_key.*: keys:read; subscription.*: billing:read; usage.*: usage:read;
/// tenant.*: tenant:read). A family not listed here is read by no key.
pub fn key_may_read(scopes: Scopes, event_type: &str) -> bool {
    let needed = match event_type.split('.').next().unwrap_or_default() {
        "member" | "invitation" => KeyScope::MembersRead,
        "api_key" => KeyScope::KeysRead,
        "subscription" => KeyScope::BillingRead,
        "usage" => KeyScope::UsageRead,
        "tenant" => KeyScope::TenantRead,
        _ => return event_type == TEST_EVENT,
    };
    scopes.contains(needed)
}

/// The types `by` subscribes an endpoint to: members any; a key only those
/// it may read (FORBIDDEN otherwise), "all" (empty) standing for those.
pub(super) fn types_for(by: &Manager, types: Vec<String>) -> AppResult<Vec<String>> {
    let Manager::Key(grant) = by else {
        return Ok(types);
    };
    if let Some(t) = types.iter().find(|t| !key_may_read(grant.scopes, t)) {
        return Err(AppError::forbidden(format!(
            "this API key may not subscribe to {t}: its data needs a scope the key lacks"
        )));
    }
    if !types.is_empty() {
        return Ok(types);
    }
    let mine: Vec<String> = EventType::ALL
        .iter()
        .map(|t| t.as_str())
        .filter(|t| key_may_read(grant.scopes, t))
        .map(str::to_owned)
        .collect();
    if mine.is_empty() {
        return Err(AppError::forbidden(
            "this API key reads none of the events' data (members:read, keys:read, \
             billing:read, usage:read or tenant:read): it may subscribe to no event",
        ));
    }
    Ok(if mine.len() == EventType::ALL.len() {
        Vec::new()
    } else {
        mine
    })
}
