//! Erasure end to end: `deleteTenant` (owners, a fresh sign-in, the slug
//! typed), the grace period (keys refused on every instance at once,
//! members reading, every other change refused, cancelling restoring
//! everything), the purge (zero rows of the tenant in every table the
//! catalogue lists, the people who belong nowhere else erased, the Stripe
//! customer deleted at the simulator, webhooks for it ignored, a run cut
//! off halfway finished by the next), a platform admin's immediate purge
//! with its tombstone, and `deleteMyAccount` (last-owner refusal, an opaque
//! actor left in other tenants' trails).
//!
//! `tenant.rs`: scheduling and cancelling (the rules, the grace period, keys on
//! two instances); `purge.rs`: the purge; `account.rs`: `deleteMyAccount`.
//! The helpers here read the catalogue as the database owner (row-level
//! security hides nothing from it).

mod account;
mod purge;
mod tenant;

use diesel_async::AsyncPgConnection;
use serde_json::{Value, json};

use crate::keys::assert_ok;
use crate::support::{PASSWORD, TestApp};

pub(crate) const DELETE: &str = "mutation($s: String!) { deleteTenant(confirmSlug: $s) { status deletion { scheduledAt purgeAfter requestedBy } } }";
pub(crate) const CANCEL: &str =
    "mutation { cancelTenantDeletion { status deletion { purgeAfter } } }";
pub(crate) const DELETE_ME: &str = "mutation { deleteMyAccount }";
pub(crate) const PURGE: &str = "mutation($id: ID!) { purgeTenant(id: $id) { peopleErased rowsDeleted tombstone { id reason requestedBy purgedAt } } }";
pub(crate) const TOMBSTONES: &str = "{ admin { tenantTombstones { id reason } } }";
pub(crate) const TENANT: &str = "{ tenant { slug status deletion { purgeAfter requestedBy } } }";
pub(crate) const LOG_IN: &str = "mutation($i: LogInInput!) { logIn(input: $i) { accessToken } }";
pub(crate) const RENAME: &str = "mutation { updateTenant(input: { name: \"Renamed\" }) { name } }";
pub(crate) const KEY: &str = "mutation { createApiKey(input: { name: \"late\" }) { secret } }";

pub(crate) async fn owner_db(app: &TestApp) -> AsyncPgConnection {
    app.db.owner().await
}

pub(crate) async fn n(app: &TestApp, sql: &str) -> i64 {
    app.db.count(sql).await
}

pub(crate) async fn slug(app: &TestApp, token: &str) -> String {
    let a = app.gql(TENANT, json!({}), Some(token)).await;
    assert_ok(&a, "read the tenant");
    a.body["data"]["tenant"]["slug"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub(crate) async fn log_in(app: &TestApp, email: &str) -> String {
    let a = app
        .gql(
            LOG_IN,
            json!({ "i": { "email": email, "password": PASSWORD } }),
            None,
        )
        .await;
    assert_ok(&a, "log in");
    a.body["data"]["logIn"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Makes every session of `user` look signed in 10 minutes ago.
pub(crate) async fn age_sessions(app: &TestApp, user: &str) {
    n(
        app,
        &format!(
            "WITH v AS (UPDATE sessions SET created_at = now() - interval '10 minutes' \
             WHERE user_id = '{user}' RETURNING 1) SELECT count(*) AS n FROM v"
        ),
    )
    .await;
}

pub(crate) async fn delete_tenant(app: &TestApp, token: &str) -> Value {
    let s = slug(app, token).await;
    let a = app.gql(DELETE, json!({ "s": s }), Some(token)).await;
    assert_ok(&a, "deleteTenant");
    a.body["data"]["deleteTenant"].clone()
}

/// Every table of the schema with a `tenant_id` column (partitions and
/// detached months included), read from the catalogue.
pub(crate) async fn tenant_tables(app: &TestApp) -> Vec<String> {
    #[derive(diesel::QueryableByName)]
    struct T {
        #[diesel(sql_type = diesel::sql_types::Text)]
        t: String,
    }
    use diesel_async::RunQueryDsl;
    let mut db = owner_db(app).await;
    diesel::sql_query(
        "SELECT c.relname::text AS t FROM pg_class c
         JOIN pg_namespace s ON s.oid = c.relnamespace AND s.nspname = 'public'
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
         WHERE c.relkind IN ('r', 'p') ORDER BY 1",
    )
    .load::<T>(&mut db)
    .await
    .unwrap()
    .into_iter()
    .map(|r| r.t)
    .collect()
}

/// Rows of `tenant` in every table (as the owner: row-level security hides nothing).
pub(crate) async fn rows_of_tenant(app: &TestApp, tenant: &str) -> Vec<(String, i64)> {
    let mut found = Vec::new();
    for t in tenant_tables(app).await {
        let c = n(
            app,
            &format!("SELECT count(*) AS n FROM \"{t}\" WHERE tenant_id = '{tenant}'"),
        )
        .await;
        if c > 0 {
            found.push((t, c));
        }
    }
    let c = n(
        app,
        &format!("SELECT count(*) AS n FROM tenants WHERE id = '{tenant}'"),
    )
    .await;
    if c > 0 {
        found.push(("tenants".into(), c));
    }
    found
}

/// What is left of `user` (id) and `email` anywhere a person is recorded.
pub(crate) async fn traces_of_person(app: &TestApp, user: &str, email: &str) -> Vec<String> {
    let mut left = Vec::new();
    let checks = [
        format!("SELECT count(*) AS n FROM users WHERE id = '{user}' OR email = '{email}'"),
        format!("SELECT count(*) AS n FROM api_keys WHERE created_by = '{user}'"),
        format!(
            "SELECT count(*) AS n FROM invitations WHERE invited_by = '{user}' OR email = '{email}'"
        ),
        format!(
            "SELECT count(*) AS n FROM email_outbox WHERE recipient = '{email}' OR subject LIKE '%{email}%'"
        ),
        format!("SELECT count(*) AS n FROM login_failures WHERE key LIKE '%{email}'"),
        format!(
            "SELECT count(*) AS n FROM audit_log WHERE actor_id = '{user}' \
             AND (actor_label IS NOT NULL OR ip IS NOT NULL OR user_agent IS NOT NULL)"
        ),
        format!(
            "SELECT count(*) AS n FROM audit_log WHERE actor_label = '{email}' \
             OR before::text LIKE '%{email}%' OR after::text LIKE '%{email}%'"
        ),
        // The webhook outbox (member.*, invitation.* data) and what receivers echoed.
        format!("SELECT count(*) AS n FROM webhook_events WHERE payload::text ILIKE '%{email}%'"),
        format!(
            "SELECT count(*) AS n FROM webhook_attempts WHERE response_excerpt ILIKE '%{email}%'"
        ),
    ];
    for sql in checks {
        if n(app, &sql).await > 0 {
            left.push(sql);
        }
    }
    // Every column named user_id, in every table.
    #[derive(diesel::QueryableByName)]
    struct T {
        #[diesel(sql_type = diesel::sql_types::Text)]
        t: String,
    }
    use diesel_async::RunQueryDsl;
    let mut db = owner_db(app).await;
    let tables: Vec<T> = diesel::sql_query(
        "SELECT c.relname::text AS t FROM pg_class c
         JOIN pg_namespace s ON s.oid = c.relnamespace AND s.nspname = 'public'
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'user_id' AND NOT a.attisdropped
         WHERE c.relkind IN ('r', 'p')",
    )
    .load(&mut db)
    .await
    .unwrap();
    for T { t } in tables {
        let sql = format!("SELECT count(*) AS n FROM \"{t}\" WHERE user_id = '{user}'");
        if n(app, &sql).await > 0 {
            left.push(sql);
        }
    }
    left
}
