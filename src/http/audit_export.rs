//! `GET /v1/audit-log/export`: a tenant's audit trail as a CSV or JSON Lines
//! download, streamed (see `audit::export`).
//!
//! Parameters (query string, each at most once): `format` (`csv` or `jsonl`,
//! required) and the filters of `tenant { auditLog(filter) }`: `action`,
//! `actor` (a user id), `since`, `until` (RFC 3339); platform admins add
//! `tenant` (an id) to export any tenant's trail. Who: a signed-in admin or
//! owner of the active tenant (`Authorization: Bearer` and `X-Tenant-ID`, as
//! for `/graphql`), an API key with `audit:read` (its own tenant), or a
//! platform admin. Every export writes an audit entry (`audit_log.export`, or
//! `admin.tenant.audit_log.export` in the tenant's trail) before it streams.
//! Refusals are `super::file_refusal`'s (the GraphQL error shape, with the code's
//! status);
//! a failure after the first byte cuts the response.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Extension;
use axum::body::Body;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use scoped_futures::ScopedFutureExt;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::request_id::RequestId;
use crate::app::AppState;
use crate::audit::export::{Export, Format, Recheck};
use crate::audit::{self, Actor, Entry, Filter, RequestMeta};
use crate::auth::api_keys::KeyScope;
use crate::auth::throttle::{self, Budget};
use crate::auth::{Role, Session};
use crate::error::{AppError, AppResult};
use crate::tenancy::Scope;

/// The query string, as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    format: Option<String>,
    action: Option<String>,
    actor: Option<String>,
    since: Option<String>,
    until: Option<String>,
    tenant: Option<String>,
}

/// Longest query string read.
const MAX_QUERY: usize = 2048;
/// Longest `action` filter (actions are short dotted names).
const MAX_ACTION: usize = 100;

/// What was asked, checked.
#[derive(Debug)]
struct Asked {
    format: Format,
    filter: Filter,
    tenant: Option<Uuid>,
}

fn parse(query: Option<&str>) -> AppResult<Asked> {
    let query = query.unwrap_or("");
    if query.len() > MAX_QUERY {
        return Err(AppError::bad_input("the query string is too long"));
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
        .map_err(|_| AppError::bad_input("the query string is not valid"))?;
    let mut seen = std::collections::HashSet::new();
    if let Some((name, _)) = pairs.iter().find(|(k, _)| !seen.insert(k.as_str())) {
        return Err(AppError::bad_field(
            name,
            "give each parameter at most once",
        ));
    }
    for (name, value) in &pairs {
        crate::input::check_str("parameter", name)?;
        crate::input::check_str(name, value)?;
    }
    const KNOWN: [&str; 6] = ["format", "action", "actor", "since", "until", "tenant"];
    if let Some((name, _)) = pairs.iter().find(|(k, _)| !KNOWN.contains(&k.as_str())) {
        let name: String = name.chars().take(64).collect();
        return Err(AppError::bad_field(
            &name,
            "unknown parameter: the parameters are format, action, actor, since, until, tenant",
        ));
    }
    let params: Params = serde_urlencoded::from_str(query)
        .map_err(|_| AppError::bad_input("the query string is not valid"))?;
    let format = Format::parse(
        params
            .format
            .as_deref()
            .ok_or_else(|| AppError::bad_field("format", "give format=csv or format=jsonl"))?,
    )?;
    let time = |field: &str, value: Option<String>| -> AppResult<Option<DateTime<Utc>>> {
        value
            .map(|v| {
                DateTime::parse_from_rfc3339(&v)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| {
                        AppError::bad_field(field, "an RFC 3339 time, e.g. 2026-12-01T00:00:00Z")
                    })
            })
            .transpose()
    };
    let id = |field: &str, value: Option<String>| -> AppResult<Option<Uuid>> {
        value
            .map(|v| Uuid::parse_str(&v).map_err(|_| AppError::bad_field(field, "not an id")))
            .transpose()
    };
    if let Some(action) = &params.action
        && (action.is_empty() || action.len() > MAX_ACTION)
    {
        return Err(AppError::bad_field(
            "action",
            format!("an action name of 1 to {MAX_ACTION} characters"),
        ));
    }
    let since = time("since", params.since)?;
    let until = time("until", params.until)?;
    if let (Some(since), Some(until)) = (since, until)
        && since >= until
    {
        return Err(AppError::bad_field("until", "must be later than since"));
    }
    Ok(Asked {
        format,
        filter: Filter {
            action: params.action,
            actor_id: id("actor", params.actor)?,
            since,
            until,
        },
        tenant: id("tenant", params.tenant)?,
    })
}

/// Who exports, and in which scope the pages are read.
struct Exporter {
    scope: Scope,
    tenant_id: Uuid,
    actor: Actor,
    /// The action of the export's audit entry.
    action: &'static str,
    /// Whether the caller may still read, asked before each page.
    recheck: Recheck,
}

/// Before each page: the key still verifies (not revoked or expired, its
/// tenant active: the key cache drops a changed key on every instance) and
/// holds `audit:read`.
fn recheck_key(app: &AppState, secret: &str, ip: Option<String>) -> Recheck {
    let (app, secret) = (app.clone(), secret.to_owned());
    Box::new(move || {
        let (app, secret, ip) = (app.clone(), secret.clone(), ip.clone());
        Box::pin(async move {
            let grant = app
                .api_keys
                .authenticate(&app.db, &secret, app.usage.failed_lookups(), ip.as_deref())
                .await?;
            grant.require(KeyScope::AuditRead)
        })
    })
}

/// Before each page: the session is live and, for a member, still an admin
/// or owner of an active tenant; for a platform admin, still one. The access
/// token's expiry is not asked again: it was valid when the export began.
fn recheck_session(app: &AppState, mut session: Session, platform: bool) -> Recheck {
    session.expires_at = None;
    let (db, session) = (app.db.clone(), Arc::new(session));
    Box::new(move || {
        let (db, session) = (db.clone(), session.clone());
        Box::pin(async move {
            let verified = session.reverify(&db).await?;
            if platform {
                if !verified.is_platform_admin {
                    return Err(AppError::forbidden("this needs a platform admin"));
                }
                return Ok(());
            }
            if let Some(refusal) = verified.tenant_refusal {
                return Err(AppError::forbidden(refusal));
            }
            verified
                .access
                .ok_or_else(|| AppError::forbidden("no longer a member of this tenant"))?
                .require(Role::Admin)
        })
    })
}

async fn exporter(
    app: &AppState,
    headers: &HeaderMap,
    meta: &RequestMeta,
    tenant: Option<Uuid>,
) -> AppResult<Exporter> {
    if let Some(secret) = super::authorize::presented_key(headers)? {
        let requested = super::credentials::requested_tenant(headers)?;
        let call = super::authorize::admit_key_checked(app, secret, meta.ip.as_deref(), |grant| {
            grant.require(KeyScope::AuditRead)
        })
        .await?;
        let grant = &call.grant;
        if [requested, tenant]
            .iter()
            .flatten()
            .any(|id| *id != grant.tenant_id)
        {
            return Err(AppError::forbidden(
                "an API key exports its own tenant's trail only",
            ));
        }
        if !call.limits.allowed() {
            return Err(AppError::rate_limited(
                "this API key's rate limit is used up for now",
                call.limits.binding().retry_after,
            ));
        }
        return Ok(Exporter {
            scope: Scope::tenant(grant.tenant_id),
            tenant_id: grant.tenant_id,
            actor: Actor::ApiKey {
                id: grant.key_id,
                label: grant.display_prefix.clone(),
            },
            action: "audit_log.export",
            recheck: recheck_key(app, secret, meta.ip.clone()),
        });
    }
    let session = Session::from_credentials(super::credentials::credentials(headers)?, &app.keys)?;
    if let Some(tenant_id) = tenant {
        let admin = session.require_platform_admin(&app.db).await?;
        let found = app
            .db
            .scoped(Scope::platform_admin(admin.user_id), |conn| {
                async move { Ok(crate::db::tenants::find(conn, tenant_id).await?) }.scope_boxed()
            })
            .await?;
        if found.is_none() {
            return Err(AppError::not_found("no such tenant"));
        }
        return Ok(Exporter {
            scope: Scope::platform_admin(admin.user_id),
            tenant_id,
            actor: Actor::PlatformAdmin { id: admin.user_id },
            action: "admin.tenant.audit_log.export",
            recheck: recheck_session(app, session, true),
        });
    }
    let access = session.require_role(&app.db, Role::Admin).await?;
    let verified = session.require_user(&app.db).await?;
    Ok(Exporter {
        scope: access.scope(),
        tenant_id: access.tenant_id,
        actor: Actor::User {
            id: access.user_id,
            email: Some(verified.email),
        },
        action: "audit_log.export",
        recheck: recheck_session(app, session, false),
    })
}

/// The handler.
pub async fn export(
    State(app): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    if method != Method::GET {
        // HEAD would run (and record) an export for nothing.
        let mut res = super::file_refusal(
            AppError::bad_input("use GET: an export runs only when its file is read"),
            &request_id.0,
        );
        *res.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        res.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET"));
        return res;
    }
    match start(&app, &request_id, peer, query.as_deref(), &headers).await {
        Ok(res) => res,
        Err(err) => super::file_refusal(err, &request_id.0),
    }
}

async fn start(
    app: &AppState,
    request_id: &RequestId,
    peer: SocketAddr,
    query: Option<&str>,
    headers: &HeaderMap,
) -> AppResult<Response> {
    let meta =
        super::client::request_meta(request_id, peer, headers, app.settings.trusted_proxies)?;
    let asked = parse(query)?;
    let who = exporter(app, headers, &meta, asked.tenant).await?;
    let slot = app.audit_exports.take(who.tenant_id)?;
    let asked_json = json!({
        "format": asked.format.as_str(),
        "action": asked.filter.action,
        "actor": asked.filter.actor_id,
        "since": asked.filter.since,
        "until": asked.filter.until,
    });
    let (tenant_id, actor, action) = (who.tenant_id, who.actor, who.action);
    let entry_meta = meta.clone();
    // The export's budget (the budgets' own scope: the platform-admin role has
    // no access to them), then its moment by the database's clock (the one
    // entries are stamped with) and its own entry, in one transaction.
    spend(&app.db, tenant_id).await?;
    let started = app
        .db
        .scoped(who.scope.clone(), |conn| {
            async move {
                let started = crate::db::audit_log::clock(conn).await?;
                let mut after = asked_json;
                after["to"] = json!(started);
                audit::record(
                    conn,
                    &entry_meta,
                    Entry::new(Some(tenant_id), actor, action)
                        .target("tenant", tenant_id)
                        .change(None, Some(after)),
                )
                .await?;
                Ok(started)
            }
            .scope_boxed()
        })
        .await?;
    let format = asked.format;
    let export = Export {
        db: app.db.clone(),
        scope: who.scope,
        tenant_id,
        filter: asked.filter,
        format,
        started,
        slot,
        recheck: who.recheck,
    };
    let rid = request_id.0.clone();
    let body = Body::from_stream(export.stream().map(move |chunk| {
        chunk.map_err(|err| {
            tracing::warn!(request_id = %rid, error = %err, "audit export cut short");
            std::io::Error::other(err.to_string())
        })
    }));
    let name = format!(
        "attachment; filename=\"audit-log-{tenant_id}-{}.{}\"",
        started.format("%Y%m%dT%H%M%SZ"),
        format.as_str()
    );
    let mut res = (StatusCode::OK, body).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if let Ok(value) = HeaderValue::from_str(&name) {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// Exports of one tenant an hour (every instance together).
pub const PER_TENANT_HOUR: Budget = Budget {
    max: 60,
    window: std::time::Duration::from_secs(3600),
};

async fn spend(db: &crate::db::Db, tenant_id: Uuid) -> AppResult<()> {
    throttle::spend(
        db,
        &[(format!("audit-export:tenant:{tenant_id}"), PER_TENANT_HOUR)],
    )
    .await
    .map_err(|err| match err {
        AppError::RateLimited { retry_after, .. } => AppError::rate_limited(
            format!(
                "too many audit exports: at most {} an hour per tenant",
                PER_TENANT_HOUR.max
            ),
            retry_after,
        ),
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_checked() {
        let ok = parse(Some(
            "format=csv&action=member.invite&since=2026-01-01T00:00:00Z",
        ))
        .unwrap();
        assert_eq!(ok.format, Format::Csv);
        assert_eq!(ok.filter.action.as_deref(), Some("member.invite"));
        assert!(parse(Some("format=jsonl")).is_ok());
        for (query, field) in [
            ("", "format"),
            ("format=xml", "format"),
            ("format=csv&format=jsonl", "format"),
            ("format=csv&since=yesterday", "since"),
            ("format=csv&actor=me", "actor"),
            ("format=csv&tenant=x", "tenant"),
            (
                "format=csv&since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z",
                "until",
            ),
            ("format=csv&action=", "action"),
            ("format=csv&action=a%00b", "action"),
        ] {
            let err = parse(Some(query)).unwrap_err();
            assert_eq!(err.code().as_str(), "BAD_USER_INPUT", "{query}");
            assert!(
                matches!(&err, AppError::BadUserInput { field: Some(f), .. } if f.ends_with(field)),
                "{query}: {err:?}"
            );
        }
        assert!(
            parse(Some("format=csv&limit=5")).is_err(),
            "unknown parameters"
        );
        assert!(parse(Some(&"a".repeat(MAX_QUERY + 1))).is_err());
    }
}
