//! A tenant's custom domain: claimed by its admins or owners on a plan with
//! the `customDomain` feature, proven with a TXT record
//! `_tenantgate.<domain>` holding the token issued at the claim, removed.
//!
//! - A claim is unverified and routes nothing. Several tenants may claim the
//!   same domain (so nobody blocks a domain by claiming it first); one holding
//!   it verified makes a claim CONFLICT, without saying which tenant.
//! - Verifying costs one of the tenant's [`CHECKS`] (RATE_LIMITED past it), so
//!   nobody can use the server to hammer name servers; the lookup runs outside
//!   any transaction; its answer is recorded (`lastResult`) whatever it was.
//! - The plan is checked again on the locked tenant row at the claim and at
//!   each verification (a downgrade may have landed).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use rand::RngCore;
use scoped_futures::ScopedFutureExt;
use serde_json::json;
use std::time::Duration;

use super::{Domains, Found, dns::Dns, names};
use crate::audit::{self, Entry, RequestMeta};
use crate::auth::throttle::{self, Budget};
use crate::auth::{Role, TenantAccess, Verified};
use crate::db::{Db, domains as db_domains, tenants};
use crate::error::{AppError, AppResult, unique_violation};
use crate::members::actor;
use crate::plans::{Catalogue, Feature};

pub use db_domains::DomainRow;

/// Verifications a tenant may ask for per hour.
pub const CHECKS: Budget = Budget {
    max: 20,
    window: Duration::from_secs(3600),
};

/// A fresh verification token: `tg-verify-` and 256 random bits.
fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("tg-verify-{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The tenant's claim, if any (admins and owners).
pub async fn read(db: &Db, access: &TenantAccess) -> AppResult<Option<DomainRow>> {
    access.require(Role::Admin)?;
    let tenant = access.tenant_id;
    db.scoped(access.scope(), |conn| {
        async move { Ok(db_domains::find(conn, tenant, false).await?) }.scope_boxed()
    })
    .await
}

/// Claims `domain` for the tenant (replacing any claim it had; the same
/// domain again keeps its token and state).
pub async fn set(
    domains: &Domains,
    db: &Db,
    meta: &RequestMeta,
    verified: &Verified,
    access: &TenantAccess,
    domain: &str,
) -> AppResult<DomainRow> {
    access.require(Role::Admin)?;
    let domain = names::validate_domain(domain, domains.settings().base_domain.as_deref())?;
    let (meta, actor, tenant) = (meta.clone(), actor(verified), access.tenant_id);
    let row = db
        .scoped(access.scope(), |conn| {
            async move {
                let (_, _, _, plan) = tenants::lock_settings(conn, tenant).await?;
                Catalogue::read(conn)
                    .await?
                    .require_feature(&plan, Feature::CustomDomain)?;
                let before = db_domains::find(conn, tenant, true).await?;
                if let Some(same) = before.as_ref().filter(|b| b.domain == domain) {
                    return Ok(same.clone());
                }
                if db_domains::verified_elsewhere(conn, &domain).await? {
                    return Err(taken());
                }
                let row = db_domains::claim(conn, tenant, &domain, &new_token()).await?;
                crate::webhooks::tenant::domain_changed(conn, tenant, Some(&row), before.as_ref())
                    .await?;
                audit::record(
                    conn,
                    &meta,
                    Entry::new(Some(tenant), actor, "tenant.custom_domain.set")
                        .target("tenant", tenant)
                        .change(
                            before.map(|b| json!({ "domain": b.domain, "verified": b.verified_at.is_some() })),
                            Some(json!({ "domain": row.domain, "verified": false })),
                        ),
                )
                .await?;
                Ok(row)
            }
            .scope_boxed()
        })
        .await?;
    domains.changed(db, tenant).await;
    Ok(row)
}

/// Looks up the tenant's TXT record and records what it found: the claim is
/// verified when the record holds its token. NOT_FOUND without a claim;
/// UNAVAILABLE when the name servers do not answer (recorded too).
pub async fn verify(
    domains: &Domains,
    db: &Db,
    meta: &RequestMeta,
    verified: &Verified,
    access: &TenantAccess,
) -> AppResult<DomainRow> {
    let Some(claim) = read(db, access).await? else {
        return Err(AppError::not_found(
            "this tenant has no custom domain to verify: set one first (setCustomDomain)",
        ));
    };
    throttle::spend(
        db,
        &[(format!("domain-check:{}", access.tenant_id), CHECKS)],
    )
    .await?;
    let name = Dns::record_name(&claim.domain);
    let looked = domains.dns().check(&claim.domain, &claim.token).await;
    let (meta, actor, tenant) = (meta.clone(), actor(verified), access.tenant_id);
    let result = match &looked {
        Ok(found) => found.describe(&name),
        Err(err) => err.public_message(),
    };
    let found = looked.as_ref().ok().cloned();
    let limit = chrono::Duration::from_std(domains.settings().unverify_after).unwrap_or_default();
    let mailer = domains.mailer().clone();
    let row = db
        .scoped(access.scope(), |conn| {
            async move {
                let (_, _, _, plan) = tenants::lock_settings(conn, tenant).await?;
                let Some(now) = db_domains::find(conn, tenant, true).await? else {
                    return Err(changed());
                };
                if now.domain != claim.domain || now.token != claim.token {
                    return Err(changed());
                }
                let at = Utc::now();
                let (verified_at, missing_since) = match found {
                    Some(Found::Match) => {
                        Catalogue::read(conn)
                            .await?
                            .require_feature(&plan, Feature::CustomDomain)?;
                        (now.verified_at.or(Some(at)), None)
                    }
                    // Not found: a verified domain stays so until it has been
                    // missing for `unverify_after` (the re-check's rule, applied
                    // here too: pressing Verify never keeps a domain); the time
                    // it went missing is kept.
                    Some(_) => match now.verified_at {
                        Some(_) if at - now.missing_since.unwrap_or(at) >= limit => (None, None),
                        Some(verified_at) => {
                            (Some(verified_at), Some(now.missing_since.unwrap_or(at)))
                        }
                        None => (None, None),
                    },
                    None => (now.verified_at, now.missing_since),
                };
                let row =
                    db_domains::record_check(conn, tenant, verified_at, missing_since, &result, at)
                        .await
                        .map_err(|err| {
                            if unique_violation(&err).is_some() {
                                taken()
                            } else {
                                err.into()
                            }
                        })?;
                if now.verified_at.is_some() != row.verified_at.is_some() {
                    crate::webhooks::tenant::domain_changed(conn, tenant, Some(&row), Some(&now))
                        .await?;
                }
                if let (Some(_), None, Some(since)) =
                    (now.verified_at, row.verified_at, now.missing_since)
                {
                    super::recheck::announce_unverified(
                        conn,
                        &mailer,
                        &meta,
                        actor.clone(),
                        tenant,
                        &row.domain,
                        since,
                        &result,
                    )
                    .await?;
                }
                if now.verified_at.is_none() && row.verified_at.is_some() {
                    audit::record(
                        conn,
                        &meta,
                        Entry::new(Some(tenant), actor, "tenant.custom_domain.verify")
                            .target("tenant", tenant)
                            .change(None, Some(json!({ "domain": row.domain }))),
                    )
                    .await?;
                }
                Ok(row)
            }
            .scope_boxed()
        })
        .await?;
    domains.changed(db, tenant).await;
    // The lookup's failure is the answer, once its note is stored.
    looked?;
    Ok(row)
}

/// Removes the tenant's claim (verified or not); whether there was one.
pub async fn remove(
    domains: &Domains,
    db: &Db,
    meta: &RequestMeta,
    verified: &Verified,
    access: &TenantAccess,
) -> AppResult<bool> {
    access.require(Role::Admin)?;
    let (meta, actor, tenant) = (meta.clone(), actor(verified), access.tenant_id);
    let removed = db
        .scoped(access.scope(), |conn| {
            async move {
                let Some(before) = db_domains::find(conn, tenant, true).await? else {
                    return Ok(false);
                };
                db_domains::remove(conn, tenant).await?;
                crate::webhooks::tenant::domain_changed(conn, tenant, None, Some(&before)).await?;
                audit::record(
                    conn,
                    &meta,
                    Entry::new(Some(tenant), actor, "tenant.custom_domain.remove")
                        .target("tenant", tenant)
                        .change(
                            Some(json!({ "domain": before.domain, "verified": before.verified_at.is_some() })),
                            None,
                        ),
                )
                .await?;
                Ok(true)
            }
            .scope_boxed()
        })
        .await?;
    domains.changed(db, tenant).await;
    Ok(removed)
}

fn taken() -> AppError {
    AppError::conflict("this domain is already verified by another tenant")
}

fn changed() -> AppError {
    AppError::conflict("the custom domain changed meanwhile: look again and retry")
}
