//! `tenant.updated` for the tenant's settings changed outside
//! `updateTenant`: its plan (`setTenantPlan`), its publishable keys' allowed
//! origins and its custom domain. The `data` has the shape of
//! `updateTenant`'s (see docs/webhooks.md): the tenant's name, slug and
//! branding as now, the changed field's value now, `changed` (its name) and
//! `previous` (its value before). Never a secret or a token.

use diesel_async::AsyncPgConnection;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{EventType, emit};
use crate::db::domains::DomainRow;
use crate::error::AppResult;

/// Emits `tenant.updated` for `field` going from `previous` to `now`, inside
/// the caller's transaction (scoped to `tenant`); nothing when they are
/// equal (a change that changes nothing emits nothing).
pub async fn updated(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    field: &str,
    now: Value,
    previous: Value,
) -> AppResult<()> {
    if now == previous {
        return Ok(());
    }
    let Some(row) = crate::db::tenants::find(conn, tenant).await? else {
        return Ok(());
    };
    let mut data = json!({
        "name": row.name,
        "slug": row.slug,
        "branding": row.branding,
        "changed": [field],
        "previous": { field: previous },
    });
    data[field] = now;
    emit(conn, tenant, EventType::TenantUpdated, data).await?;
    Ok(())
}

/// Emits `tenant.updated` for the custom domain going from `previous` to
/// `now` (`None`: no domain), inside the caller's transaction.
pub async fn domain_changed(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    now: Option<&DomainRow>,
    previous: Option<&DomainRow>,
) -> AppResult<()> {
    updated(
        conn,
        tenant,
        "customDomain",
        custom_domain(now),
        custom_domain(previous),
    )
    .await
}

/// A custom domain as `tenant.updated` tells it: its name, status
/// (`pending`, `verified`, `failed`) and when it was verified; never its
/// token. `null` without one.
pub fn custom_domain(row: Option<&DomainRow>) -> Value {
    row.map_or(Value::Null, |row| {
        let status = match (row.verified_at, row.last_checked_at) {
            (Some(_), _) => "verified",
            (None, Some(_)) => "failed",
            (None, None) => "pending",
        };
        json!({ "domain": row.domain, "status": status, "verifiedAt": row.verified_at })
    })
}

/// The allowed origins as `tenant.updated` tells them (sorted).
pub async fn allowed_origins(conn: &mut AsyncPgConnection, tenant: Uuid) -> AppResult<Value> {
    let rows = crate::db::publishable_keys::origins(conn, tenant).await?;
    Ok(json!(
        rows.into_iter().map(|o| o.origin).collect::<Vec<_>>()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_domain_is_told_without_its_token() {
        let at = chrono::Utc::now();
        let row = DomainRow {
            tenant_id: Uuid::now_v7(),
            domain: "acme.example".into(),
            token: "tg-verify-secret".into(),
            verified_at: Some(at),
            last_checked_at: Some(at),
            last_result: None,
            missing_since: None,
            created_at: at,
        };
        let told = custom_domain(Some(&row));
        assert_eq!(told["status"], "verified");
        assert_eq!(told["domain"], "acme.example");
        assert!(!told.to_string().contains("tg-verify"), "{told}");
        assert_eq!(custom_domain(None), Value::Null);
    }
}
