//! A schema owner that is not a superuser (managed PostgreSQL: a CREATEROLE
//! role owns the database): the migrations apply, and the SECURITY DEFINER
//! functions that rely on owner-only policies under FORCE ROW LEVEL SECURITY
//! (audit retention, the purge's steps, the export worker's) do their work.
//! Everything else in the suite migrates as a superuser, which bypasses RLS.

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};

use crate::matrix::text;
use crate::support::TestDb;

const T: &str = "11111111-1111-4111-8111-111111111111";
const U: &str = "22222222-2222-4222-8222-222222222222";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_superuser_owner_migrates_and_its_definer_functions_work() {
    let db = TestDb::create_empty().await;
    let role = format!("tg_owner_{}", uuid::Uuid::new_v4().simple());
    let mut admin = db.owner().await;
    admin
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN PASSWORD 'owner-pw' NOSUPERUSER CREATEROLE;
             ALTER DATABASE {} OWNER TO {role};
             ALTER SCHEMA public OWNER TO {role};",
            db.name
        ))
        .await
        .unwrap();
    let owner_url = tenantgate::db::with_credentials(&db.url, &role, "owner-pw").unwrap();
    tenantgate::db::migrate(&owner_url)
        .await
        .expect("a CREATEROLE owner applies every migration");
    let mut owner = AsyncPgConnection::establish(&owner_url).await.unwrap();
    // The owner writes under FORCE RLS like anyone: it names the tenant.
    owner
        .batch_execute(&format!(
            "SELECT set_config('app.tenant_id', '{T}', false), set_config('app.user_id', '{U}', false);
             INSERT INTO users (id, email) VALUES ('{U}', 'owner-role@example.com');
             INSERT INTO tenants (id, name, slug, plan_key) VALUES ('{T}', 'Owner Role', 'owner-role', 'pro');
             INSERT INTO memberships (tenant_id, user_id, role) VALUES ('{T}', '{U}', 'owner');
             INSERT INTO audit_log (id, tenant_id, actor_type, action, created_at)
               SELECT gen_random_uuid(), '{T}', 'system', 'test.old', now() - interval '120 days'
               FROM generate_series(1, 5);
             INSERT INTO audit_log (id, tenant_id, actor_type, action)
               SELECT gen_random_uuid(), '{T}', 'system', 'test.new' FROM generate_series(1, 3);
             INSERT INTO data_exports (id, tenant_id, requested_by)
               VALUES (gen_random_uuid(), '{T}', '{U}');
             INSERT INTO tenant_domains (tenant_id, domain, token, verified_at, last_checked_at)
               VALUES ('{T}', 'owner-role.example.com', 'tg-verify-{}', now(), now() - interval '2 days');",
            "o".repeat(40)
        ))
        .await
        .unwrap();
    let mut app = AsyncPgConnection::establish(&db.url).await.unwrap();
    app.batch_execute("SET ROLE tenantgate_app").await.unwrap();
    // Hosts: the routing index (slug and routing domain) and a tenant's face,
    // from no tenant's scope; the re-check's list.
    let index = text(
        &mut app,
        "SELECT coalesce(string_agg(tenant_id || ' ' || slug || ' ' || coalesce(domain, '-'), ','), '') \
         AS s FROM tg_host_index(NULL)",
    )
    .await;
    assert_eq!(index, format!("{T} owner-role owner-role.example.com"));
    let face = text(
        &mut app,
        &format!("SELECT coalesce(string_agg(id::text, ','), '') AS s FROM tg_host_face('{T}')"),
    )
    .await;
    assert_eq!(face, T, "tg_host_face");
    let due = text(
        &mut app,
        "SELECT count(*)::text AS s FROM tg_domains_due(now() - interval '1 day', 10)",
    )
    .await;
    assert_eq!(due, "1");
    // Retention: the pro plan (custom domains route on it) keeps 90 days.
    let deleted = text(&mut app, "SELECT tg_audit_retention(1000)::text AS s").await;
    assert_eq!(deleted, "5");
    // The export worker claims the queued export.
    let claimed = text(
        &mut app,
        "SELECT count(*)::text AS s FROM tg_data_export_claim(gen_random_uuid(), 60)",
    )
    .await;
    assert_eq!(claimed, "1");
    // The purge, step by step, once the tenant is due.
    owner
        .batch_execute(&format!(
            "UPDATE tenants SET status = 'pending_deletion', purge_after = now() - interval '1 minute',
                    deletion_requested_at = now() - interval '1 day' WHERE id = '{T}'"
        ))
        .await
        .unwrap();
    app.batch_execute(&format!("SELECT set_config('app.tenant_id', '{T}', false)"))
        .await
        .unwrap();
    let people = text(
        &mut app,
        &format!("SELECT string_agg(p::text, ',') AS s FROM tg_tenant_purge_people('{T}') p"),
    )
    .await;
    assert_eq!(people, U);
    app.batch_execute(&format!("SELECT tg_tenant_purge_members('{T}')"))
        .await
        .unwrap();
    while text(
        &mut app,
        &format!("SELECT tg_tenant_purge_batch('{T}', 1000)::text AS s"),
    )
    .await
        != "0"
    {}
    assert_eq!(
        text(
            &mut app,
            &format!("SELECT tg_tenant_purge_finish('{T}')::text AS s")
        )
        .await,
        "true"
    );
    let left = text(
        &mut admin,
        &format!(
            "SELECT concat_ws(',', (SELECT count(*) FROM tenants), (SELECT count(*) FROM users),
                    (SELECT count(*) FROM audit_log WHERE tenant_id = '{T}'),
                    (SELECT count(*) FROM data_exports), (SELECT count(*) FROM tenant_tombstones)) AS s"
        ),
    )
    .await;
    assert_eq!(
        left, "0,0,0,0,1",
        "tenants, users, entries, exports, tombstones"
    );
}
