//! Cross-tenant isolation, property-based. Two tenants, A and B, each with an
//! owner, an admin and a member or viewer (all joined by invitation), one user in
//! both, pending and revoked invitations and an audit trail. Then:
//!
//! - over HTTP, random callers (any user of A or B, or nobody) with a random
//!   X-Tenant-ID (their own tenant, the other, a random id, none, garbage) try
//!   random reads (with cursors from either tenant's pages) and writes aimed at
//!   the other tenant's users, invitations and slug, and the platform admins'
//!   plan mutations (`createPlan`, `updatePlan`, `setTenantPlan` of the other
//!   tenant, `purgeTenant` of it), which no seeded user may run, erasure
//!   (`deleteTenant` confirmed with the other tenant's slug,
//!   `cancelTenantDeletion` of tenants that are not pending), and usage reads (`tenant { usage
//!   quotas }` split by key or not, `ApiKey.usage` of every listed key; each
//!   tenant's seeded usage totals are strings of its own), and data exports
//!   (`tenant { dataExports dataExport(id) }`, `viewer { dataExport(id) }` of
//!   the other tenant's export; each tenant has a ready one, its id and
//!   checksum strings of its own), and publishable keys and allowed origins
//!   (`tenant { publishableKeys allowedOrigins }`, `revokePublishableKey` and
//!   `removeAllowedOrigin` of the other tenant's; each tenant has a key and an
//!   origin of its own). No answer may show a string
//!   checksum strings of its own), and webhooks (`tenant { webhookEndpoints
//!   webhookEndpoint(id) { deliveries } }` of the other tenant's endpoint, and
//!   update, delete, rotate, test and replay aimed at its endpoint and
//!   delivery; each tenant has one of each). No answer may show a string
//!   (id, email, name, slug, cursor) that belongs only to a tenant the caller is
//!   not in, no write may succeed or change a tenant, and nothing may be a 5xx or
//!   an INTERNAL error; `memberCount` and `plan` are the answering tenant's own
//!   (A and B are on different plans);
//!   Reads of members and API keys run both on the executor and, once a
//!   document ran there, as compiled reads (one statement each);
//! - in SQL, random `Scope::tenant_user(tenant, user)` transactions select from
//!   every tenant table: row-level security must return exactly the scope's
//!   tenant's rows (and, of users, its members and the scope's own user);
//! - and, pinned down, what the first property found: a cursor at any time is a
//!   position or bad input, never an internal error.
//!
//! Each property runs `TENANTGATE_PROPTEST_CASES` cases (default 1000). A longer run:
//!
//! ```text
//! TENANTGATE_PROPTEST_CASES=10000 cargo test --test integration isolation::
//! ```

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use diesel::sql_types::{Nullable, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestRunner;
use scoped_futures::ScopedFutureExt;
use serde_json::{Value, json};
use tenantgate::db::Db;
use tenantgate::error::AppError;
use tenantgate::tenancy::Scope;
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::matrix::{ACCEPT, INVITE, S, call, invitation_token, join, no_errors, text};
use crate::support::TestApp;

/// Cases per property: `TENANTGATE_PROPTEST_CASES`, else 1000.
fn cases() -> u32 {
    match std::env::var("TENANTGATE_PROPTEST_CASES") {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("TENANTGATE_PROPTEST_CASES={v:?} is not a number")),
        Err(_) => 1000,
    }
}

fn runner() -> TestRunner {
    let mut config = ProptestConfig::with_cases(cases());
    // Failures print their minimal input; no regression files in the tree.
    config.failure_persistence = None;
    TestRunner::new(config)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A signed-in user of the seed.
struct User {
    label: &'static str,
    token: String,
    id: Uuid,
    /// The tenant the user acts in by default (0 = A, 1 = B).
    home: usize,
    /// Every tenant the user belongs to.
    tenants: Vec<usize>,
}

/// What a tenant holds, as its owner sees it.
#[derive(Default)]
struct Tenant {
    id: Uuid,
    slug: String,
    /// Every id, email, name, slug and cursor of the tenant.
    strings: BTreeSet<String>,
    members: BTreeSet<Uuid>,
    invitations: BTreeSet<Uuid>,
    audit: BTreeSet<Uuid>,
    /// Its API keys.
    keys: BTreeSet<Uuid>,
    /// Its invoices (as `md5(stripe id)::uuid`, for the SQL property).
    invoices: BTreeSet<Uuid>,
    /// Its data exports (ready, with their archives).
    exports: BTreeSet<Uuid>,
    /// Its publishable keys.
    publishable: BTreeSet<Uuid>,
    /// Its allowed origins (as `md5(origin)::uuid`, for the SQL property).
    origins: BTreeSet<Uuid>,
    /// Its allowed origins as written.
    origin_names: Vec<String>,
    /// Its webhook endpoint and that endpoint's delivery.
    webhooks: BTreeSet<Uuid>,
    webhook_deliveries: BTreeSet<Uuid>,
    /// The cursors of every row of its three lists.
    cursors: Vec<String>,
    /// Its verified custom domain (a host that names it).
    domain: String,
}

struct Seed {
    app: TestApp,
    tenants: [Tenant; 2],
    users: Vec<User>,
    /// Per caller (the users, then the anonymous caller): strings the caller
    /// must never see, i.e. those of tenants it is not in and of none it is in.
    foreign: Vec<Vec<String>>,
    /// Every user id in the database.
    all_users: BTreeSet<Uuid>,
}

const MEMBERS: &str = "query($f: Int, $a: String) { tenant { id name slug memberCount plan { key limits { members } } members(first: $f, after: $a) { edges { cursor node { role joinedAt user { id email } } } pageInfo { endCursor hasNextPage } } } }";
/// The same list without `plan`: a document the compiled reads answer (one
/// statement, `graphql::compiled`) once it ran on the executor.
const MEMBERS_COMPILED: &str = "query($f: Int, $a: String) { tenant { id name slug memberCount members(first: $f, after: $a) { edges { cursor node { role joinedAt user { id email } } } pageInfo { endCursor hasNextPage } } } }";
const INVITATIONS: &str = "query($f: Int, $a: String, $k: InvitationFilter!) { tenant { id invitations(first: $f, after: $a, filter: $k) { edges { cursor node { id email role status invitedById } } } } }";
const AUDIT: &str = "query($f: Int, $a: String) { tenant { id auditLog(first: $f, after: $a) { edges { cursor node { id action actorId actorLabel targetType targetId before after } } } } }";
const VIEWER: &str = "{ viewer { user { id email } tenant { id name slug } role memberships { role tenant { id name slug } } } }";
const UPDATE_ROLE: &str = "mutation($u: ID!, $r: Role!) { updateMemberRole(userId: $u, role: $r) { role user { id email } } }";
const REMOVE: &str = "mutation($u: ID!) { removeMember(userId: $u) }";
const REVOKE: &str = "mutation($id: ID!) { revokeInvitation(id: $id) { id email status } }";
const TAKE_SLUG: &str = "mutation($s: String!) { updateTenant(input: { slug: $s }) { id slug } }";
const DELETE_TENANT: &str =
    "mutation($s: String!) { deleteTenant(confirmSlug: $s) { id status deletion { purgeAfter } } }";
const CANCEL_DELETION: &str = "mutation { cancelTenantDeletion { id status } }";
const PURGE: &str = "mutation($id: ID!) { purgeTenant(id: $id) { peopleErased tombstone { id } } }";
const ADMIN_READ: &str = "query($id: ID!) { admin { tenant(id: $id) { id name slug members { nodes { user { id email } } } } users(search: \"iso\") { id email } } }";
const SWITCH: &str = "mutation($t: ID!) { switchTenant(tenantId: $t) { accessToken } }";
const API_KEYS: &str = "query($f: Int, $a: String) { tenant { id apiKeys(first: $f, after: $a) { edges { cursor node { id name displayPrefix scopes state createdById } } } } }";
const REVOKE_KEY: &str = "mutation($id: ID!) { revokeApiKey(id: $id) { id state } }";
const ROTATE_KEY: &str =
    "mutation($id: ID!) { rotateApiKey(id: $id, gracePeriodSeconds: 0) { secret apiKey { id } } }";
const UPDATE_KEY: &str =
    "mutation($id: ID!) { updateApiKey(input: { id: $id, name: \"taken\", scopes: [] }) { id } }";
const CREATE_KEY: &str = "mutation { createApiKey(input: { name: \"iso key\", scopes: [TENANT_READ, MEMBERS_READ, KEYS_READ, KEYS_WRITE, AUDIT_READ, BILLING_READ, USAGE_READ, USAGE_WRITE, WEBHOOKS_READ, WEBHOOKS_WRITE] }) { secret apiKey { id displayPrefix } } }";
const WEBHOOKS: &str = "query($id: ID!, $f: Int, $a: String) { tenant { id webhookEndpoints { id url description droppedEvents lastDroppedAt } webhookEndpoint(id: $id) { id url deliveries(first: $f, after: $a) { edges { cursor node { id eventId payload attempts { error } } } } } } }";
const HOOK_CREATE: &str = "mutation($u: String!) { createWebhookEndpoint(input: { url: $u, description: \"iso hook\" }) { endpoint { id } } }";
const HOOK_UPDATE: &str = "mutation($id: ID!) { updateWebhookEndpoint(input: { id: $id, url: \"https://taken.example.com/\", enabled: false }) { id url } }";
const HOOK_DELETE: &str = "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { id url } }";
const HOOK_ROTATE: &str =
    "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret endpoint { id } } }";
const HOOK_TEST: &str = "mutation($id: ID!) { sendTestWebhook(id: $id) { id eventId } }";
const HOOK_REPLAY: &str =
    "mutation($id: ID!) { replayWebhookDelivery(id: $id) { id eventId payload } }";
const SET_PLAN: &str =
    "mutation($t: ID!) { setTenantPlan(tenantId: $t, planKey: \"enterprise\") { id planKey } }";
const CREATE_PLAN: &str = "mutation { createPlan(input: { key: \"iso_plan\", name: \"Iso\", monthlyPrice: 1, public: true, limits: { members: 1000, apiCallsPerHour: 10 } }) { key } }";
const UPDATE_PLAN: &str =
    "mutation { updatePlan(key: \"free\", input: { limits: { members: 1000 } }) { key } }";
/// The seeded tenants' plans (different, so a plan shown names its tenant;
/// both include custom domains, so each seeded verified domain routes).
const PLANS: [&str; 2] = ["pro", "enterprise"];
const BILLING: &str = "query($f: Int, $a: String) { tenant { id billing { subscription { status planKey } invoices(first: $f, after: $a) { edges { cursor node { id number hostedInvoiceUrl } } } } } }";
const RECORD_USAGE: &str =
    "mutation($e: [UsageEventInput!]!) { recordUsage(events: $e) { recorded } }";
const CANCEL: &str = "mutation { cancelSubscription(atPeriodEnd: false) { status } }";
const CHANGE_PLAN: &str = "mutation { changePlan(planKey: \"basic\", interval: MONTH) { status } }";
const USAGE_READ: &str = "query($f: DateTime!, $t: DateTime!, $b: UsageGroupBy!) { tenant { id quotas { metric used limit } usage(metric: \"iso_usage\", from: $f, to: $t, granularity: DAY, groupBy: $b) { total points { at value } groups { apiKey { id name prefix } total points { value } } } } }";
const KEY_USAGE: &str = "query($f: DateTime!, $t: DateTime!) { tenant { id apiKeys(first: 20) { edges { cursor node { id usage(metric: \"iso_usage\", from: $f, to: $t, granularity: DAY) { total points { value } } } } } } }";
/// Each tenant's seeded usage of `iso_usage` yesterday: the whole tenant's,
/// and its key's (numbers no other answer contains).
const SEEDED_USAGE: [[i64; 2]; 2] = [[987_650_011, 876_540_011], [987_650_022, 876_540_022]];
const DATA_EXPORTS: &str = "query($f: Int, $a: String) { tenant { id dataExports(first: $f, after: $a) { edges { cursor node { id status checksum sizeBytes } } } } }";
const DATA_EXPORT: &str = "query($id: ID!) { tenant { id dataExport(id: $id) { id checksum downloadUrl } } viewer { dataExport(id: $id) { id checksum downloadUrl } } }";
const CREATE_PUBLISHABLE: &str =
    "mutation($n: String!) { createPublishableKey(input: { name: $n }) { id key } }";
const ADD_ORIGIN: &str = "mutation($o: String!) { addAllowedOrigin(origin: $o) { origin } }";
const PUBLISHABLE: &str =
    "{ tenant { id publishableKeys { id name key revokedAt } allowedOrigins { origin } } }";
const REVOKE_PUBLISHABLE: &str =
    "mutation($id: ID!) { revokePublishableKey(id: $id) { id key revokedAt } }";
const REMOVE_ORIGIN: &str = "mutation($o: String!) { removeAllowedOrigin(origin: $o) }";
const CUSTOM_DOMAIN: &str =
    "{ tenant { id customDomain { domain recordName recordValue status lastResult } } }";
const TAKE_DOMAIN: &str =
    "mutation($d: String!) { setCustomDomain(domain: $d) { domain recordValue status } }";
/// Read on another tenant's host: its members, its domain, the caller's view.
const ON_HOST: &str = "{ tenant { id name slug members(first: 20) { edges { node { user { id email } } } } customDomain { domain recordValue } } viewer { tenant { id name } } }";
const ALL_LISTS: &str = "{ tenant { members(first: 100) { edges { cursor } } invitations(first: 100, filter: ALL) { edges { cursor } } auditLog(first: 100) { edges { cursor } } apiKeys(first: 100) { edges { cursor } } } }";

async fn strings(conn: &mut AsyncPgConnection, sql: &str) -> Vec<String> {
    diesel::sql_query(sql)
        .load::<S>(conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .map(|r| r.s)
        .collect()
}

async fn ids(conn: &mut AsyncPgConnection, sql: &str) -> BTreeSet<Uuid> {
    strings(conn, sql)
        .await
        .iter()
        .map(|s| Uuid::parse_str(s).unwrap())
        .collect()
}

/// `token`'s holder invites `email`; returns the invitation's id.
async fn invite(app: &TestApp, token: &str, email: &str, role: &str) -> String {
    let a = app
        .gql(
            INVITE,
            json!({ "i": { "email": email, "role": role } }),
            Some(token),
        )
        .await;
    assert!(no_errors(&a), "inviting {email}: {:?}", a.body);
    a.body["data"]["inviteMember"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn ok(app: &TestApp, token: &str, query: &str, vars: Value) -> Value {
    let a = app.gql(query, vars.clone(), Some(token)).await;
    assert!(no_errors(&a), "{query} {vars}: {:?}", a.body);
    a.body
}

/// One hash per tenant of its memberships, invitations, tenant row, audit trail,
/// keys, billing rows and webhook events (the outbox).
async fn fingerprints(conn: &mut AsyncPgConnection, tenants: &[Tenant; 2]) -> [String; 2] {
    let one = |t: Uuid| {
        format!(
            "md5(concat_ws('|',
                (SELECT string_agg(m::text, ',' ORDER BY m.user_id) FROM memberships m WHERE m.tenant_id = '{t}'),
                (SELECT string_agg(i::text, ',' ORDER BY i.id) FROM invitations i WHERE i.tenant_id = '{t}'),
                (SELECT x::text FROM tenants x WHERE x.id = '{t}'),
                (SELECT string_agg(a.id::text, ',' ORDER BY a.id) FROM audit_log a WHERE a.tenant_id = '{t}'
                 -- an allowed export records itself in the trail it read: by a
                 -- member or key of that tenant, never by anyone else
                 AND NOT (a.action = 'audit_log.export'
                          AND (a.actor_id IN (SELECT m.user_id FROM memberships m WHERE m.tenant_id = '{t}')
                               OR a.actor_id IN (SELECT k.id FROM api_keys k WHERE k.tenant_id = '{t}')))),
                (SELECT string_agg(concat_ws(':', k.id, k.name, k.scopes, k.revoked_at, k.display_prefix), ',' ORDER BY k.id)
                 FROM api_keys k WHERE k.tenant_id = '{t}'),
                (SELECT string_agg(p::text, ',' ORDER BY p.key) FROM plans p),
                (SELECT string_agg(w.id::text, ',' ORDER BY w.id) FROM webhook_events w WHERE w.tenant_id = '{t}'),
                (SELECT s::text FROM subscriptions s WHERE s.tenant_id = '{t}'),
                (SELECT d::text FROM tenant_domains d WHERE d.tenant_id = '{t}'),
                (SELECT string_agg(i::text, ',' ORDER BY i.stripe_invoice_id) FROM invoices i WHERE i.tenant_id = '{t}'),
                (SELECT string_agg(k::text, ',' ORDER BY k.id) FROM publishable_keys k WHERE k.tenant_id = '{t}'),
                (SELECT string_agg(o.origin, ',' ORDER BY o.origin) FROM allowed_origins o WHERE o.tenant_id = '{t}'),
                (SELECT string_agg(concat_ws(':', e.id, e.url, e.enabled, encode(e.secret_sealed, 'hex')), ',' ORDER BY e.id)
                 FROM webhook_endpoints e WHERE e.tenant_id = '{t}'),
                (SELECT count(*)::text FROM webhook_deliveries d WHERE d.tenant_id = '{t}')))"
        )
    };
    let both = text(
        conn,
        &format!(
            "SELECT {} || ' ' || {} AS s",
            one(tenants[0].id),
            one(tenants[1].id)
        ),
    )
    .await;
    let (a, b) = both.split_once(' ').unwrap();
    [a.to_owned(), b.to_owned()]
}

impl Seed {
    async fn plant() -> Self {
        let app = TestApp::spawn().await;
        let mut db = app.db.owner().await;
        let (a_owner, a_owner_id, a) = app.sign_up("alpha.owner@iso.test", "Alpha Isolation").await;
        let (b_owner, b_owner_id, b) = app.sign_up("bravo.owner@iso.test", "Bravo Isolation").await;
        // Teams past the free plan's members; different plans for A and B.
        app.set_plan(&a, PLANS[0]).await;
        app.set_plan(&b, PLANS[1]).await;
        let user = |label, token: &str, id: &str, home| User {
            label,
            token: token.to_owned(),
            id: Uuid::parse_str(id).unwrap(),
            home,
            tenants: vec![home],
        };
        let mut users = vec![
            user("alpha owner", &a_owner, &a_owner_id, 0),
            user("bravo owner", &b_owner, &b_owner_id, 1),
        ];
        for (label, email, role, home) in [
            ("alpha admin", "alpha.admin@iso.test", "ADMIN", 0),
            ("alpha member", "alpha.member@iso.test", "MEMBER", 0),
            (
                "shared (alpha member, bravo billing)",
                "shared@iso.test",
                "MEMBER",
                0,
            ),
            ("bravo admin", "bravo.admin@iso.test", "ADMIN", 1),
            ("bravo viewer", "bravo.viewer@iso.test", "VIEWER", 1),
        ] {
            let inviter = if home == 0 { &a_owner } else { &b_owner };
            let (token, id) = join(&app, &mut db, inviter, email, role).await;
            users.push(user(label, &token, &id, home));
        }
        // The shared user joins B too, with the account it already has.
        invite(&app, &b_owner, "shared@iso.test", "BILLING").await;
        let token = invitation_token(&mut db, "shared@iso.test").await;
        let shared = users
            .iter_mut()
            .find(|u| u.label.starts_with("shared"))
            .unwrap();
        ok(
            &app,
            &shared.token,
            ACCEPT,
            json!({ "i": { "token": token } }),
        )
        .await;
        shared.tenants.push(1);
        // Pending invitations (one of A's goes to a member of B), a revoked one.
        invite(&app, &a_owner, "alpha.pending@iso.test", "VIEWER").await;
        invite(&app, &a_owner, "bravo.viewer@iso.test", "MEMBER").await;
        invite(&app, &b_owner, "bravo.pending@iso.test", "ADMIN").await;
        let revoked = invite(&app, &b_owner, "bravo.revoked@iso.test", "MEMBER").await;
        ok(&app, &b_owner, REVOKE, json!({ "id": revoked })).await;

        let mut tenants: [Tenant; 2] = Default::default();
        tenants[0].id = Uuid::parse_str(&a).unwrap();
        tenants[1].id = Uuid::parse_str(&b).unwrap();

        // Each tenant's owner makes an API key with every scope: the keys are
        // callers too.
        let mut key_prefixes: [Vec<String>; 2] = Default::default();
        for (home, owner, label) in [(0, &a_owner, "alpha key"), (1, &b_owner, "bravo key")] {
            let created = ok(&app, owner, CREATE_KEY, json!({})).await;
            let key = &created["data"]["createApiKey"];
            let id = Uuid::parse_str(key["apiKey"]["id"].as_str().unwrap()).unwrap();
            tenants[home].keys.insert(id);
            key_prefixes[home].push(key["apiKey"]["displayPrefix"].as_str().unwrap().to_owned());
            users.push(User {
                label,
                token: key["secret"].as_str().unwrap().to_owned(),
                id,
                home,
                tenants: vec![home],
            });
        }

        // A publishable key and an allowed origin of each tenant's own.
        let mut public_strings: [Vec<String>; 2] = Default::default();
        for (home, owner, name) in [(0, &a_owner, "alpha"), (1, &b_owner, "bravo")] {
            let created = ok(
                &app,
                owner,
                CREATE_PUBLISHABLE,
                json!({ "n": format!("{name} widget") }),
            )
            .await;
            let key = &created["data"]["createPublishableKey"];
            let id = Uuid::parse_str(key["id"].as_str().unwrap()).unwrap();
            tenants[home].publishable.insert(id);
            let origin = format!("https://{name}-iso.example");
            ok(&app, owner, ADD_ORIGIN, json!({ "o": origin })).await;
            tenants[home].origin_names.push(origin.clone());
            public_strings[home].extend([key["key"].as_str().unwrap().to_owned(), origin]);
        }

        // More audit entries, and proof that the fingerprint sees a change in
        // one tenant and only there.
        let viewer_id = users.iter().find(|u| u.label == "bravo viewer").unwrap().id;
        let before = fingerprints(&mut db, &tenants).await;
        ok(
            &app,
            &b_owner,
            UPDATE_ROLE,
            json!({ "u": viewer_id, "r": "MEMBER" }),
        )
        .await;
        let during = fingerprints(&mut db, &tenants).await;
        assert!(
            before[0] == during[0] && before[1] != during[1],
            "the fingerprint must see B's change and only it"
        );
        ok(
            &app,
            &b_owner,
            UPDATE_ROLE,
            json!({ "u": viewer_id, "r": "VIEWER" }),
        )
        .await;

        // Billing rows as Stripe's sync writes them: a customer, a live
        // subscription and two invoices per tenant (billing is off on this
        // server, so they are only read, and refused writes must leave them).
        for (i, t) in tenants.iter().enumerate() {
            let id = t.id;
            text(
                &mut db,
                &format!(
                    "WITH c AS (INSERT INTO billing_customers (tenant_id, stripe_customer_id)
                                VALUES ('{id}', 'cus_iso{i}customer')),
                          s AS (INSERT INTO subscriptions (tenant_id, stripe_subscription_id,
                                    stripe_customer_id, status, plan_key, price_id, price_interval,
                                    current_period_start, current_period_end, stripe_created)
                                VALUES ('{id}', 'sub_iso{i}secret', 'cus_iso{i}customer', 'active',
                                    'pro', 'price_iso{i}price', 'month', now(),
                                    now() + interval '30 days', now())),
                          v AS (INSERT INTO invoices (stripe_invoice_id, tenant_id,
                                    stripe_subscription_id, number, status, total, currency,
                                    hosted_invoice_url, stripe_created)
                                VALUES ('in_iso{i}first', '{id}', 'sub_iso{i}secret', 'ISO{i}-0001',
                                    'paid', 9900, 'usd', 'https://pay.test/iso{i}first',
                                    now() - interval '2 days'),
                                   ('in_iso{i}second', '{id}', 'sub_iso{i}secret', 'ISO{i}-0002',
                                    'open', 9900, 'usd', 'https://pay.test/iso{i}second',
                                    now() - interval '1 day'))
                     SELECT 'x' AS s"
                ),
            )
            .await;
        }
        // Usage of a metric of its own in each tenant, the whole tenant's and its
        // key's (rollups written as the owner: reads never look at raw events).
        text(
            &mut db,
            "WITH m AS (INSERT INTO metrics (key, name, unit, aggregation)
                        VALUES ('iso_usage', 'Iso usage', 'units', 'sum') RETURNING 1)
             SELECT 'x' AS s FROM m",
        )
        .await;
        for (i, t) in tenants.iter().enumerate() {
            let key = t.keys.iter().next().copied().unwrap_or_default();
            let [whole, own] = SEEDED_USAGE[i];
            text(
                &mut db,
                &format!(
                    "WITH r AS (INSERT INTO usage_rollups (tenant_id, environment, metric, granularity,
                                    api_key_id, bucket, value, events)
                                SELECT '{}', 'live', 'iso_usage', 'day', k, date_trunc('day', now()) - interval '1 day', v, 1
                                FROM (VALUES ('00000000-0000-0000-0000-000000000000'::uuid, {whole}),
                                             ('{key}'::uuid, {own})) AS x (k, v) RETURNING 1)
                     SELECT 'x' AS s FROM r LIMIT 1",
                    t.id
                ),
            )
            .await;
        }
        // A data export of each tenant (ready), and a personal one of A's
        // owner, which no tenant scope shows.
        for owner in [&a_owner, &b_owner] {
            ok(
                &app,
                owner,
                "mutation { requestDataExport { id } }",
                json!({}),
            )
            .await;
        }
        ok(
            &app,
            &a_owner,
            "mutation { requestMyDataExport { id } }",
            json!({}),
        )
        .await;
        while app.state.exports.run_once().await.unwrap() {}
        for (i, t) in tenants.iter_mut().enumerate() {
            let id = t.id;
            t.exports = ids(
                &mut db,
                &format!("SELECT id::text AS s FROM data_exports WHERE tenant_id = '{id}' AND status = 'ready'"),
            )
            .await;
            assert_eq!(t.exports.len(), 1, "tenant {i}'s export is ready");
            t.strings.extend(
                strings(
                    &mut db,
                    &format!("SELECT sha256 AS s FROM data_exports WHERE tenant_id = '{id}'"),
                )
                .await,
            );
        }
        // A webhook endpoint of each tenant, with one delivery (a test event).
        for (i, owner) in [&a_owner, &b_owner].into_iter().enumerate() {
            let url = format!("https://iso{i}.example.com/hooks");
            let made = ok(&app, owner, HOOK_CREATE, json!({ "u": url })).await;
            let id = made["data"]["createWebhookEndpoint"]["endpoint"]["id"]
                .as_str()
                .unwrap()
                .to_owned();
            let sent = ok(&app, owner, HOOK_TEST, json!({ "id": id })).await;
            let delivery = sent["data"]["sendTestWebhook"]["id"].as_str().unwrap();
            tenants[i].webhooks.insert(Uuid::parse_str(&id).unwrap());
            tenants[i]
                .webhook_deliveries
                .insert(Uuid::parse_str(delivery).unwrap());
        }
        for (i, t) in tenants.iter_mut().enumerate() {
            let id = t.id;
            // A verified custom domain each: their hosts name them.
            t.domain = format!("iso{i}-domain.example.com");
            text(
                &mut db,
                &format!(
                    "WITH v AS (INSERT INTO tenant_domains (tenant_id, domain, token, verified_at, last_checked_at, last_result)
                     VALUES ('{id}', '{}', 'tg-verify-iso{i}{}', now(), now(), 'seeded') RETURNING 1)
                     SELECT count(*)::text AS s FROM v",
                    t.domain,
                    "x".repeat(40)
                ),
            )
            .await;
            t.slug = text(
                &mut db,
                &format!("SELECT slug AS s FROM tenants WHERE id = '{id}'"),
            )
            .await;
            t.members = ids(
                &mut db,
                &format!("SELECT user_id::text AS s FROM memberships WHERE tenant_id = '{id}'"),
            )
            .await;
            t.invitations = ids(
                &mut db,
                &format!("SELECT id::text AS s FROM invitations WHERE tenant_id = '{id}'"),
            )
            .await;
            t.audit = ids(
                &mut db,
                &format!("SELECT id::text AS s FROM audit_log WHERE tenant_id = '{id}'"),
            )
            .await;
            t.strings = strings(
                &mut db,
                &format!(
                    "SELECT id::text AS s FROM tenants WHERE id = '{id}'
                     UNION SELECT name FROM tenants WHERE id = '{id}'
                     UNION SELECT slug FROM tenants WHERE id = '{id}'
                     UNION SELECT u.email FROM users u JOIN memberships m ON m.user_id = u.id
                           WHERE m.tenant_id = '{id}'
                     UNION SELECT email FROM invitations WHERE tenant_id = '{id}'"
                ),
            )
            .await
            .into_iter()
            .collect();
            t.strings.extend(
                t.members
                    .iter()
                    .chain(&t.invitations)
                    .chain(&t.audit)
                    .chain(&t.keys)
                    .chain(&t.exports)
                    .chain(&t.webhooks)
                    .chain(&t.webhook_deliveries)
                    .map(Uuid::to_string),
            );
            t.strings
                .insert(format!("https://iso{i}.example.com/hooks"));
            t.strings.extend(key_prefixes[i].iter().cloned());
            t.strings.extend(public_strings[i].iter().cloned());
            t.strings.extend(t.publishable.iter().map(Uuid::to_string));
            t.origins = ids(
                &mut db,
                &format!("SELECT md5(origin)::uuid::text AS s FROM allowed_origins WHERE tenant_id = '{id}'"),
            )
            .await;
            t.strings.extend([
                t.domain.clone(),
                format!("tg-verify-iso{i}{}", "x".repeat(40)),
            ]);
            t.strings
                .extend(SEEDED_USAGE[i].iter().map(|n| n.to_string()));
            t.strings.extend(
                [
                    "cus_iso{}customer",
                    "sub_iso{}secret",
                    "price_iso{}price",
                    "in_iso{}first",
                    "in_iso{}second",
                    "ISO{}-000",
                    "https://pay.test/iso{}",
                ]
                .map(|f| f.replace("{}", &i.to_string())),
            );
            t.invoices = ids(
                &mut db,
                &format!(
                    "SELECT md5(stripe_invoice_id)::uuid::text AS s FROM invoices WHERE tenant_id = '{id}'"
                ),
            )
            .await;
            let owner = if i == 0 { &a_owner } else { &b_owner };
            let lists = ok(&app, owner, ALL_LISTS, json!({})).await;
            let billing = ok(&app, owner, BILLING, json!({ "f": 10 })).await;
            let invoices = billing["data"]["tenant"]["billing"]["invoices"]["edges"]
                .as_array()
                .unwrap()
                .clone();
            assert_eq!(invoices.len(), 2, "{billing}");
            t.cursors.extend(
                invoices
                    .iter()
                    .map(|e| e["cursor"].as_str().unwrap().to_owned()),
            );
            for list in ["members", "invitations", "auditLog", "apiKeys"] {
                let edges = lists["data"]["tenant"][list]["edges"].as_array().unwrap();
                assert!(!edges.is_empty(), "{list} of tenant {i} is empty");
                t.cursors.extend(
                    edges
                        .iter()
                        .map(|e| e["cursor"].as_str().unwrap().to_owned()),
                );
            }
            t.strings.extend(t.cursors.iter().cloned());
        }
        assert_eq!(tenants[0].members.len(), 4);
        assert_eq!(tenants[1].members.len(), 4);

        // The anonymous caller is in no tenant.
        let memberships: Vec<&[usize]> = users
            .iter()
            .map(|u| u.tenants.as_slice())
            .chain([&[][..]])
            .collect();
        let foreign = memberships
            .iter()
            .map(|mine| {
                let seen: BTreeSet<&String> =
                    mine.iter().flat_map(|t| &tenants[*t].strings).collect();
                (0..2)
                    .filter(|t| !mine.contains(t))
                    .flat_map(|t| &tenants[t].strings)
                    .filter(|s| !seen.contains(s))
                    .cloned()
                    .collect()
            })
            .collect();
        let all_users = ids(&mut db, "SELECT id::text AS s FROM users").await;
        Self {
            app,
            tenants,
            users,
            foreign,
            all_users,
        }
    }

    /// The first string of `body` the caller `who` must not see.
    fn leak(&self, who: usize, body: &str) -> Option<&String> {
        self.foreign[who].iter().find(|s| body.contains(s.as_str()))
    }
}

/// X-Tenant-ID, relative to the caller's own tenant.
#[derive(Debug, Clone)]
enum Header {
    Own,
    Other,
    Random(u128),
    Absent,
    Garbage(Index),
}

const GARBAGE_HEADERS: [&str; 4] = ["not-a-tenant", "", "'; SELECT 1 --", "{{tenant}}"];

/// An `after` cursor.
#[derive(Debug, Clone)]
enum Cursor {
    Absent,
    /// One of the cursors seen in either tenant's lists.
    Seen(Index),
    /// A well-formed cursor at a made-up position.
    Forged(i64, u128),
    Garbage(String),
}

/// The id a write aims at.
#[derive(Debug, Clone)]
enum Target {
    /// A user (or invitation) of the other tenant only.
    Theirs(Index),
    Random(u128),
    Garbage(String),
}

#[derive(Debug, Clone)]
enum Op {
    Viewer,
    Members {
        first: Option<i32>,
        after: Cursor,
    },
    Invitations {
        first: Option<i32>,
        after: Cursor,
        all: bool,
    },
    AuditLog {
        first: Option<i32>,
        after: Cursor,
    },
    UpdateMemberRole {
        user: Target,
        role: &'static str,
    },
    RemoveMember {
        user: Target,
    },
    RevokeInvitation {
        invitation: Target,
    },
    ApiKeys {
        first: Option<i32>,
        after: Cursor,
    },
    /// `revokeApiKey` aimed at the other tenant's key.
    RevokeApiKey {
        key: Target,
    },
    /// `rotateApiKey` aimed at the other tenant's key.
    RotateApiKey {
        key: Target,
    },
    /// `updateApiKey` aimed at the other tenant's key.
    UpdateApiKey {
        key: Target,
    },
    /// `updateTenant` to the other tenant's slug.
    TakeSlug,
    /// The platform admins' read of the other tenant (no seeded user is one).
    AdminRead,
    /// `switchTenant` to the other tenant, or to a made-up one.
    Switch {
        random: Option<u128>,
    },
    /// `setTenantPlan` of the other tenant (platform admins only).
    SetPlan,
    /// `recordUsage` of one event with a fresh idempotency key: it may land
    /// only in a tenant where the caller is an owner or admin.
    RecordUsage,
    /// `createPlan` (platform admins only).
    CreatePlan,
    /// `tenant { billing { subscription invoices } }`
    Billing {
        first: Option<i32>,
        after: Cursor,
    },
    /// `cancelSubscription` (billing is off: refused for everyone, and
    /// across tenants before that).
    CancelSubscription,
    /// `changePlan`, likewise.
    ChangePlan,
    /// `updatePlan` (platform admins only).
    UpdatePlan,
    /// `tenant { quotas usage }`, split by key or not.
    Usage {
        by_key: bool,
    },
    /// `tenant { apiKeys { usage } }`
    KeyUsage,
    /// `GET /v1/audit-log/export`, JSON Lines or CSV, naming the other
    /// tenant in `tenant=` (the platform admins' parameter) or not.
    AuditExport {
        jsonl: bool,
        name_theirs: bool,
    },
    /// `tenant { dataExports }` (owners), with cursors of either tenant.
    DataExports {
        first: Option<i32>,
        after: Cursor,
    },
    /// `tenant { dataExport(id) }` and `viewer { dataExport(id) }` of the
    /// other tenant's export (a download link is minted only for one's own).
    DataExport {
        export: Target,
    },
    /// `deleteTenant` confirmed with the other tenant's slug.
    DeleteTenant,
    /// `cancelTenantDeletion` (neither tenant is pending deletion).
    CancelDeletion,
    /// `purgeTenant` of the other tenant (platform admins only).
    Purge,
    /// `tenant { publishableKeys allowedOrigins }`
    Publishable,
    /// `revokePublishableKey` of the other tenant's key.
    RevokePublishable {
        key: Target,
    },
    /// `removeAllowedOrigin` of the other tenant's origin.
    RemoveOrigin,
    /// `tenant { customDomain }` (the caller's own, with X-Tenant-ID as sent).
    CustomDomain,
    /// `setCustomDomain` of the domain the other tenant has verified.
    TakeDomain,
    /// A read sent to the other tenant's verified custom domain (`Host`).
    OnTheirHost,
    /// `tenant { webhookEndpoints webhookEndpoint(id) { deliveries } }` of
    /// the other tenant's endpoint, with cursors of either tenant.
    Webhooks {
        endpoint: Target,
        first: Option<i32>,
        after: Cursor,
    },
    /// A webhook write aimed at the other tenant's endpoint (update,
    /// delete, rotate, test: `kind` 0 to 3) or delivery (replay: 4).
    WebhookWrite {
        kind: u8,
        target: Target,
    },
}

/// How an answer is judged, besides the checks every answer gets.
enum Check {
    Read,
    /// A write aimed at the other tenant or at nothing: it must fail, and no
    /// tenant may change.
    Write(&'static str),
    /// Platform admins only: refused.
    PlatformOnly,
    /// A platform admin's change: refused, nothing changes.
    PlatformWrite(&'static str),
    /// Usage recorded under `key` lands only where the caller is an owner
    /// or admin.
    Usage {
        key: String,
    },
    /// Succeeds exactly when the caller belongs to `tenant`.
    Switch {
        tenant: String,
    },
}

#[derive(Debug, Clone)]
struct Case {
    /// An index into the seed's users; `users.len()` is the anonymous caller.
    caller: usize,
    header: Header,
    op: Op,
}

fn first() -> impl Strategy<Value = Option<i32>> {
    prop_oneof![
        2 => Just(None),
        4 => (1i32..=6).prop_map(Some),
        1 => any::<i32>().prop_map(Some),
    ]
}

fn cursor() -> impl Strategy<Value = Cursor> {
    prop_oneof![
        2 => Just(Cursor::Absent),
        5 => any::<Index>().prop_map(Cursor::Seen),
        1 => (1_700_000_000_000_000i64..1_900_000_000_000_000, any::<u128>())
            .prop_map(|(at, id)| Cursor::Forged(at, id)),
        // Any position at all: before 4713 BC PostgreSQL has no timestamps, and
        // before and after chrono's range there are none either.
        1 => (any::<i64>(), any::<u128>()).prop_map(|(at, id)| Cursor::Forged(at, id)),
        1 => "\\PC{0,24}".prop_map(Cursor::Garbage),
    ]
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        4 => any::<Index>().prop_map(Target::Theirs),
        1 => any::<u128>().prop_map(Target::Random),
        1 => "\\PC{0,40}".prop_map(Target::Garbage),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let role = prop::sample::select(vec!["OWNER", "ADMIN", "MEMBER", "BILLING", "VIEWER"]);
    prop_oneof![
        Just(Op::Viewer),
        (first(), cursor()).prop_map(|(first, after)| Op::Members { first, after }),
        (first(), cursor(), any::<bool>()).prop_map(|(first, after, all)| Op::Invitations {
            first,
            after,
            all
        }),
        (first(), cursor()).prop_map(|(first, after)| Op::AuditLog { first, after }),
        (target(), role).prop_map(|(user, role)| Op::UpdateMemberRole { user, role }),
        target().prop_map(|user| Op::RemoveMember { user }),
        target().prop_map(|invitation| Op::RevokeInvitation { invitation }),
        (first(), cursor()).prop_map(|(first, after)| Op::ApiKeys { first, after }),
        target().prop_map(|key| Op::RevokeApiKey { key }),
        target().prop_map(|key| Op::RotateApiKey { key }),
        target().prop_map(|key| Op::UpdateApiKey { key }),
        Just(Op::TakeSlug),
        Just(Op::AdminRead),
        prop::option::of(any::<u128>()).prop_map(|random| Op::Switch { random }),
        Just(Op::SetPlan),
        Just(Op::RecordUsage),
        Just(Op::CreatePlan),
        Just(Op::UpdatePlan),
        (first(), cursor()).prop_map(|(first, after)| Op::Billing { first, after }),
        Just(Op::CancelSubscription),
        Just(Op::ChangePlan),
        any::<bool>().prop_map(|by_key| Op::Usage { by_key }),
        Just(Op::KeyUsage),
        (any::<bool>(), any::<bool>())
            .prop_map(|(jsonl, name_theirs)| Op::AuditExport { jsonl, name_theirs }),
        (first(), cursor()).prop_map(|(first, after)| Op::DataExports { first, after }),
        target().prop_map(|export| Op::DataExport { export }),
        Just(Op::DeleteTenant),
        Just(Op::CancelDeletion),
        Just(Op::Purge),
        Just(Op::Publishable),
        target().prop_map(|key| Op::RevokePublishable { key }),
        Just(Op::RemoveOrigin),
        Just(Op::CustomDomain),
        Just(Op::TakeDomain),
        Just(Op::OnTheirHost),
        (target(), first(), cursor()).prop_map(|(endpoint, first, after)| Op::Webhooks {
            endpoint,
            first,
            after
        }),
        (0u8..5, target()).prop_map(|(kind, target)| Op::WebhookWrite { kind, target }),
    ]
}

fn case(callers: usize) -> impl Strategy<Value = Case> {
    let header = prop_oneof![
        3 => Just(Header::Own),
        3 => Just(Header::Other),
        1 => any::<u128>().prop_map(Header::Random),
        2 => Just(Header::Absent),
        1 => any::<Index>().prop_map(Header::Garbage),
    ];
    (0..=callers, header, op()).prop_map(|(caller, header, op)| Case { caller, header, op })
}

impl Seed {
    fn cursor(&self, c: &Cursor) -> Option<String> {
        match c {
            Cursor::Absent => None,
            Cursor::Seen(i) => {
                let all: Vec<&String> = self.tenants.iter().flat_map(|t| &t.cursors).collect();
                Some(i.get(&all).to_string())
            }
            Cursor::Forged(at, id) => {
                Some(URL_SAFE_NO_PAD.encode(format!("v1:{at}:{}", Uuid::from_u128(*id))))
            }
            Cursor::Garbage(s) => Some(s.clone()),
        }
    }

    /// The id a write aims at; `Theirs` picks among `pool`.
    fn target(pool: &[Uuid], t: &Target) -> String {
        match t {
            Target::Theirs(i) => i.get(pool).to_string(),
            Target::Random(n) => Uuid::from_u128(*n).to_string(),
            Target::Garbage(s) => s.clone(),
        }
    }

    /// The request of `op` for a caller whose other tenant is `other`, and how
    /// to judge its answer.
    fn request(&self, op: &Op, other: usize) -> (&'static str, Value, Check) {
        let (mine, theirs) = (&self.tenants[1 - other], &self.tenants[other]);
        // Users of the other tenant only: the shared user is a member of both.
        let their_users: Vec<Uuid> = theirs.members.difference(&mine.members).copied().collect();
        let their_invitations: Vec<Uuid> = theirs.invitations.iter().copied().collect();
        match op {
            Op::Viewer => (VIEWER, json!({}), Check::Read),
            Op::Members { first, after } => (
                if first.is_some_and(|f| f % 2 != 0) {
                    MEMBERS_COMPILED
                } else {
                    MEMBERS
                },
                json!({ "f": first, "a": self.cursor(after) }),
                Check::Read,
            ),
            Op::Invitations { first, after, all } => (
                INVITATIONS,
                json!({ "f": first, "a": self.cursor(after), "k": if *all { "ALL" } else { "PENDING" } }),
                Check::Read,
            ),
            Op::AuditLog { first, after } => (
                AUDIT,
                json!({ "f": first, "a": self.cursor(after) }),
                Check::Read,
            ),
            Op::UpdateMemberRole { user, role } => (
                UPDATE_ROLE,
                json!({ "u": Self::target(&their_users, user), "r": role }),
                Check::Write("updateMemberRole"),
            ),
            Op::RemoveMember { user } => (
                REMOVE,
                json!({ "u": Self::target(&their_users, user) }),
                Check::Write("removeMember"),
            ),
            Op::RevokeInvitation { invitation } => (
                REVOKE,
                json!({ "id": Self::target(&their_invitations, invitation) }),
                Check::Write("revokeInvitation"),
            ),
            Op::ApiKeys { first, after } => (
                API_KEYS,
                json!({ "f": first, "a": self.cursor(after) }),
                Check::Read,
            ),
            Op::RevokeApiKey { key } | Op::RotateApiKey { key } | Op::UpdateApiKey { key } => {
                let their_keys: Vec<Uuid> = theirs.keys.iter().copied().collect();
                let (query, field) = match op {
                    Op::RevokeApiKey { .. } => (REVOKE_KEY, "revokeApiKey"),
                    Op::RotateApiKey { .. } => (ROTATE_KEY, "rotateApiKey"),
                    _ => (UPDATE_KEY, "updateApiKey"),
                };
                (
                    query,
                    json!({ "id": Self::target(&their_keys, key) }),
                    Check::Write(field),
                )
            }
            Op::TakeSlug => (
                TAKE_SLUG,
                json!({ "s": theirs.slug }),
                Check::Write("updateTenant"),
            ),
            Op::AdminRead => (ADMIN_READ, json!({ "id": theirs.id }), Check::PlatformOnly),
            Op::DeleteTenant => (
                DELETE_TENANT,
                json!({ "s": theirs.slug }),
                Check::Write("deleteTenant"),
            ),
            Op::CancelDeletion => (
                CANCEL_DELETION,
                json!({}),
                Check::Write("cancelTenantDeletion"),
            ),
            Op::Purge => (
                PURGE,
                json!({ "id": theirs.id }),
                Check::PlatformWrite("purgeTenant"),
            ),
            Op::SetPlan => (
                SET_PLAN,
                json!({ "t": theirs.id }),
                Check::PlatformWrite("setTenantPlan"),
            ),
            Op::CreatePlan => (CREATE_PLAN, json!({}), Check::PlatformWrite("createPlan")),
            Op::UpdatePlan => (UPDATE_PLAN, json!({}), Check::PlatformWrite("updatePlan")),
            Op::Billing { first, after } => (
                BILLING,
                json!({ "f": first, "a": self.cursor(after) }),
                Check::Read,
            ),
            Op::CancelSubscription => (CANCEL, json!({}), Check::Write("cancelSubscription")),
            Op::ChangePlan => (CHANGE_PLAN, json!({}), Check::Write("changePlan")),
            Op::RecordUsage => {
                let key = Uuid::new_v4().to_string();
                let event = json!({ "metric": "api_calls", "quantity": 1,
                                    "occurredAt": chrono::Utc::now().to_rfc3339(),
                                    "idempotencyKey": key });
                (RECORD_USAGE, json!({ "e": [event] }), Check::Usage { key })
            }
            Op::Usage { by_key } => (
                USAGE_READ,
                json!({ "f": usage_from(), "t": usage_to(), "b": if *by_key { "KEY" } else { "NONE" } }),
                Check::Read,
            ),
            Op::KeyUsage => (
                KEY_USAGE,
                json!({ "f": usage_from(), "t": usage_to() }),
                Check::Read,
            ),
            // Not GraphQL: the runner sends it itself (`export_audit`).
            Op::AuditExport { .. } => (VIEWER, json!({}), Check::Read),
            Op::DataExports { first, after } => (
                DATA_EXPORTS,
                json!({ "f": first, "a": self.cursor(after) }),
                Check::Read,
            ),
            Op::DataExport { export } => {
                let their_exports: Vec<Uuid> = theirs.exports.iter().copied().collect();
                (
                    DATA_EXPORT,
                    json!({ "id": Self::target(&their_exports, export) }),
                    Check::Read,
                )
            }
            Op::Publishable => (PUBLISHABLE, json!({}), Check::Read),
            Op::RevokePublishable { key } => {
                let their_keys: Vec<Uuid> = theirs.publishable.iter().copied().collect();
                (
                    REVOKE_PUBLISHABLE,
                    json!({ "id": Self::target(&their_keys, key) }),
                    Check::Write("revokePublishableKey"),
                )
            }
            Op::RemoveOrigin => (
                REMOVE_ORIGIN,
                json!({ "o": theirs.origin_names[0] }),
                Check::Write("removeAllowedOrigin"),
            ),
            Op::CustomDomain => (CUSTOM_DOMAIN, json!({}), Check::Read),
            Op::TakeDomain => (
                TAKE_DOMAIN,
                json!({ "d": theirs.domain }),
                Check::Write("setCustomDomain"),
            ),
            // Sent by the runner itself (with the other tenant's `Host`).
            Op::OnTheirHost => (ON_HOST, json!({}), Check::Read),
            Op::Webhooks {
                endpoint,
                first,
                after,
            } => {
                let theirs: Vec<Uuid> = theirs.webhooks.iter().copied().collect();
                (
                    WEBHOOKS,
                    json!({ "id": Self::target(&theirs, endpoint), "f": first, "a": self.cursor(after) }),
                    Check::Read,
                )
            }
            Op::WebhookWrite { kind, target } => {
                let endpoints: Vec<Uuid> = theirs.webhooks.iter().copied().collect();
                let deliveries: Vec<Uuid> = theirs.webhook_deliveries.iter().copied().collect();
                let (query, field, pool) = match kind {
                    0 => (HOOK_UPDATE, "updateWebhookEndpoint", &endpoints),
                    1 => (HOOK_DELETE, "deleteWebhookEndpoint", &endpoints),
                    2 => (HOOK_ROTATE, "rotateWebhookSecret", &endpoints),
                    3 => (HOOK_TEST, "sendTestWebhook", &endpoints),
                    _ => (HOOK_REPLAY, "replayWebhookDelivery", &deliveries),
                };
                (
                    query,
                    json!({ "id": Self::target(pool, target) }),
                    Check::Write(field),
                )
            }
            Op::Switch { random } => {
                let tenant = random.map_or(theirs.id, Uuid::from_u128).to_string();
                (SWITCH, json!({ "t": tenant }), Check::Switch { tenant })
            }
        }
    }
}

/// POSTs `query` as if sent to `host` (a tenant's custom domain), with the
/// bearer token and X-Tenant-ID given.
async fn on_host(
    app: &TestApp,
    host: &str,
    token: Option<&str>,
    tenant: Option<&str>,
    query: &str,
) -> crate::support::Answer {
    let tenant_header = tenant.map(|t| [("x-tenant-id", t)]);
    crate::support::hosts::gql_on(
        app,
        host,
        query,
        json!({}),
        token,
        tenant_header.as_ref().map_or(&[][..], |h| &h[..]),
    )
    .await
}

/// `GET /v1/audit-log/export` as `token` (a session or a key) with
/// `X-Tenant-ID: header`: (status, body).
async fn export_audit(
    app: &TestApp,
    token: Option<&str>,
    header: Option<&str>,
    jsonl: bool,
    tenant: Option<Uuid>,
) -> (u16, String) {
    let mut url = format!(
        "{}/v1/audit-log/export?format={}",
        app.url,
        if jsonl { "jsonl" } else { "csv" }
    );
    if let Some(tenant) = tenant {
        url.push_str(&format!("&tenant={tenant}"));
    }
    let mut req = app.client.get(url);
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    if let Some(header) = header {
        req = req.header("x-tenant-id", header);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

/// The range of the usage reads: the seeded day and today.
fn usage_from() -> String {
    (chrono::Utc::now() - chrono::Duration::days(2)).to_rfc3339()
}

fn usage_to() -> String {
    chrono::Utc::now().to_rfc3339()
}

#[test]
fn no_caller_sees_or_changes_another_tenant() {
    let rt = runtime();
    let seed = rt.block_on(Seed::plant());
    let db = Mutex::new(rt.block_on(seed.app.db.owner()));
    let baseline = rt.block_on(async { fingerprints(&mut *db.lock().await, &seed.tenants).await });
    // Controls: the leak check flags another tenant's lists for a user of A,
    // and not for the tenant's own members.
    let b_lists = rt.block_on(async {
        let token = &seed.users[1].token;
        let q = "{ tenant { members { nodes { user { id email } } } invitations(filter: ALL) { nodes { id email } } auditLog { nodes { id } } } }";
        seed.app.gql(q, json!({}), Some(token)).await.body.to_string()
    });
    let alpha_member = seed
        .users
        .iter()
        .position(|u| u.label == "alpha member")
        .unwrap();
    let bravo_viewer = seed
        .users
        .iter()
        .position(|u| u.label == "bravo viewer")
        .unwrap();
    assert!(
        seed.leak(alpha_member, &b_lists).is_some(),
        "the leak check must see B's data"
    );
    assert!(seed.leak(bravo_viewer, &b_lists).is_none());
    // Likewise B's usage, split by key and per key: B's numbers, flagged for A.
    for (q, vars) in [
        (
            USAGE_READ,
            json!({ "f": usage_from(), "t": usage_to(), "b": "KEY" }),
        ),
        (KEY_USAGE, json!({ "f": usage_from(), "t": usage_to() })),
    ] {
        let body = rt.block_on(async {
            let token = &seed.users[1].token;
            seed.app.gql(q, vars, Some(token)).await.body.to_string()
        });
        let [whole, own] = SEEDED_USAGE[1];
        assert!(body.contains(&own.to_string()), "{body}");
        assert!(
            q == KEY_USAGE || body.contains(&whole.to_string()),
            "{body}"
        );
        assert!(seed.leak(alpha_member, &body).is_some(), "{body}");
        assert!(seed.leak(bravo_viewer, &body).is_none(), "{body}");
    }

    let listed = AtomicUsize::new(0);
    let refused_at_the_boundary = AtomicUsize::new(0);
    let anonymous = seed.users.len();
    let result = runner().run(&case(anonymous), |case| {
        rt.block_on(async {
            let user = seed.users.get(case.caller);
            let home = user.map_or(0, |u| u.home);
            let other = 1 - home;
            let header = match &case.header {
                Header::Own => Some(seed.tenants[home].id.to_string()),
                Header::Other => Some(seed.tenants[other].id.to_string()),
                Header::Random(n) => Some(Uuid::from_u128(*n).to_string()),
                Header::Absent => None,
                Header::Garbage(i) => Some(i.get(&GARBAGE_HEADERS).to_string()),
            };
            if let Op::AuditExport { jsonl, name_theirs } = case.op {
                let token = user.map(|u| u.token.as_str());
                let theirs = seed.tenants[other].id;
                let (status, body) =
                    export_audit(&seed.app, token, header.as_deref(), jsonl, name_theirs.then_some(theirs)).await;
                let who = user.map_or("anonymous", |u| u.label);
                let context = format!("{who} exporting the audit log with X-Tenant-ID {header:?}, tenant={name_theirs} -> {status} {body}");
                prop_assert!(status < 500, "a 5xx: {context}");
                prop_assert!(!name_theirs || status != 200, "the platform admins' parameter worked: {context}");
                if let Some(leak) = seed.leak(case.caller, &body) {
                    prop_assert!(false, "the export shows {leak:?} of another tenant: {context}");
                }
                if status == 200 {
                    listed.fetch_add(1, Ordering::Relaxed);
                }
                return Ok(());
            }
            let (query, vars, check) = seed.request(&case.op, other);
            let token = user.map(|u| u.token.as_str());
            let a = if matches!(case.op, Op::OnTheirHost) {
                on_host(&seed.app, &seed.tenants[other].domain, token, header.as_deref(), query).await
            } else {
                call(&seed.app, token, header.as_deref(), query, vars.clone()).await
            };
            if matches!(case.op, Op::OnTheirHost) {
                // The host names the other tenant: only its members read it;
                // keys of the caller's tenant are refused outright.
                let member = user.is_some_and(|u| u.tenants.contains(&other));
                let key = token.is_some_and(|t| t.starts_with("tg_"));
                prop_assert!(
                    member || a.body["data"]["tenant"].is_null(),
                    "{} read the tenant of another's host: {}",
                    user.map_or("anonymous", |u| u.label),
                    a.body
                );
                // (A garbage X-Tenant-ID is refused before the host is looked at.)
                prop_assert!(
                    !key || matches!(a.code(), "FORBIDDEN" | "BAD_USER_INPUT"),
                    "a key on another tenant's host: {}",
                    a.body
                );
            }
            let body = a.body.to_string();
            let who = user.map_or("anonymous", |u| u.label);
            let context = format!(
                "{who} with X-Tenant-ID {header:?}\n  {query}\n  {vars}\n  -> {} {body}",
                a.status
            );
            prop_assert!(a.status < 500, "a 5xx: {context}");
            prop_assert!(
                !body.contains("\"INTERNAL\""),
                "an internal error: {context}"
            );
            if let Some(leak) = seed.leak(case.caller, &body) {
                prop_assert!(
                    false,
                    "the answer shows {leak:?} of another tenant: {context}"
                );
            }
            match check {
                Check::Write(field) => {
                    // Every write aims at the other tenant or at nothing.
                    prop_assert!(
                        !no_errors(&a) && a.body["data"][field].is_null(),
                        "a write across tenants succeeded: {context}"
                    );
                    if matches!(a.code(), "NOT_FOUND" | "CONFLICT") {
                        refused_at_the_boundary.fetch_add(1, Ordering::Relaxed);
                    }
                    // No write of this run can rightly succeed, so neither
                    // tenant may change: the other's rows, and the caller's own.
                    let now = fingerprints(&mut *db.lock().await, &seed.tenants).await;
                    for t in 0..2 {
                        prop_assert_eq!(
                            &now[t],
                            &baseline[t],
                            "tenant {} changed: {}",
                            ["A", "B"][t],
                            context
                        );
                    }
                }
                Check::PlatformOnly => {
                    prop_assert!(
                        a.body["data"]["admin"].is_null() && a.code() != "<none>",
                        "the admin path answered: {context}"
                    );
                }
                Check::PlatformWrite(field) => {
                    prop_assert!(
                        a.body["data"][field].is_null()
                            && matches!(
                                a.code(),
                                "UNAUTHENTICATED" | "FORBIDDEN" | "BAD_USER_INPUT"
                            ),
                        "a platform admin's change answered: {context}"
                    );
                    let now = fingerprints(&mut *db.lock().await, &seed.tenants).await;
                    prop_assert_eq!(
                        &now,
                        &baseline,
                        "a refused plan change changed something: {}",
                        context
                    );
                }
                Check::Usage { key } => {
                    // Where the event landed, and the caller's role there.
                    let landed = text(
                        &mut *db.lock().await,
                        &format!(
                            "SELECT coalesce(string_agg(e.tenant_id::text || ':' || coalesce(m.role, 'none'), ','), '') AS s
                             FROM usage_events e
                             LEFT JOIN memberships m ON m.tenant_id = e.tenant_id
                                  AND m.user_id = '{}'
                             WHERE e.idempotency_key = '{key}'",
                            user.map_or(Uuid::nil(), |u| u.id)
                        ),
                    )
                    .await;
                    let recorded = a.body["data"]["recordUsage"]["recorded"] == 1;
                    prop_assert_eq!(recorded, !landed.is_empty(), "answer and rows differ: {}", context);
                    // A key records into its own tenant; a user where an owner or admin.
                    let allowed = landed.is_empty()
                        || user.is_some_and(|u| {
                            let (tenant, role) = landed.split_once(':').unwrap_or_default();
                            if u.token.starts_with("tg_") {
                                tenant == seed.tenants[u.home].id.to_string()
                            } else {
                                role == "owner" || role == "admin"
                            }
                        });
                    prop_assert!(allowed, "usage landed at {landed:?}: {context}");
                }
                Check::Switch { tenant } => {
                    let member = user.is_some_and(|u| {
                        u.tenants
                            .iter()
                            .any(|t| seed.tenants[*t].id.to_string() == tenant)
                    });
                    let switched = a.body["data"]["switchTenant"]["accessToken"].is_string();
                    // A garbage X-Tenant-ID refuses the request before it runs.
                    let garbage = matches!(case.header, Header::Garbage(_));
                    prop_assert_eq!(switched, member && !garbage, "switchTenant: {}", context);
                }
                Check::Read => {
                    let data = &a.body["data"]["tenant"];
                    // A count is of the answering tenant's own members.
                    if let Some(count) = data["memberCount"].as_u64() {
                        let own = seed
                            .tenants
                            .iter()
                            .find(|t| data["id"].as_str() == Some(t.id.to_string().as_str()));
                        prop_assert!(
                            own.is_some_and(|t| t.members.len() as u64 == count),
                            "memberCount {count} is not the tenant's own: {context}"
                        );
                    }
                    // The plan is the answering tenant's own.
                    if let Some(plan) = data["plan"]["key"].as_str() {
                        let own = seed
                            .tenants
                            .iter()
                            .position(|t| data["id"].as_str() == Some(t.id.to_string().as_str()));
                        prop_assert!(
                            own.is_some_and(|t| PLANS[t] == plan),
                            "plan {plan} is not the tenant's own: {context}"
                        );
                    }
                    let nonempty = ["members", "invitations", "auditLog", "apiKeys"]
                        .iter()
                        .any(|l| data[l]["edges"].as_array().is_some_and(|e| !e.is_empty()));
                    let usage = data["usage"]["total"].as_i64().is_some_and(|t| t > 0);
                    if nonempty || usage {
                        listed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            Ok(())
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // The run reached real data and the tenant boundary, not only the guards
    // (checked when there are enough cases for that to be all but certain).
    if cases() >= 200 {
        let (listed, boundary) = (listed.into_inner(), refused_at_the_boundary.into_inner());
        assert!(listed > 0, "no case listed anything");
        assert!(boundary > 0, "no write got past the role checks");
        // Members and keys pages were answered by compiled plans too.
        assert!(
            seed.app.state.compiled.counts().0 > 0,
            "no compiled read ran"
        );
    }
}

#[derive(diesel::QueryableByName)]
struct Row {
    #[diesel(sql_type = Nullable<SqlUuid>)]
    tenant_id: Option<Uuid>,
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

/// The tables read in SQL: (name, select, the column filters apply to).
const TABLES: [(&str, &str, &str); 13] = [
    (
        "publishable_keys",
        "SELECT tenant_id, id FROM publishable_keys",
        "tenant_id",
    ),
    (
        "allowed_origins",
        "SELECT tenant_id, md5(origin)::uuid AS id FROM allowed_origins",
        "tenant_id",
    ),
    (
        "webhook_endpoints",
        "SELECT tenant_id, id FROM webhook_endpoints",
        "tenant_id",
    ),
    (
        "webhook_deliveries",
        "SELECT tenant_id, id FROM webhook_deliveries",
        "tenant_id",
    ),
    (
        "data_exports",
        "SELECT tenant_id, id FROM data_exports",
        "tenant_id",
    ),
    (
        "billing_customers",
        "SELECT tenant_id, tenant_id AS id FROM billing_customers",
        "tenant_id",
    ),
    (
        "subscriptions",
        "SELECT tenant_id, tenant_id AS id FROM subscriptions",
        "tenant_id",
    ),
    (
        "invoices",
        "SELECT tenant_id, md5(stripe_invoice_id)::uuid AS id FROM invoices",
        "tenant_id",
    ),
    (
        "memberships",
        "SELECT tenant_id, user_id AS id FROM memberships",
        "tenant_id",
    ),
    (
        "invitations",
        "SELECT tenant_id, id FROM invitations",
        "tenant_id",
    ),
    ("tenants", "SELECT id AS tenant_id, id FROM tenants", "id"),
    (
        "audit_log",
        "SELECT tenant_id, id FROM audit_log",
        "tenant_id",
    ),
    (
        "users",
        "SELECT NULL::uuid AS tenant_id, id FROM users",
        "id",
    ),
];

/// A seeded tenant or user, or a made-up id.
#[derive(Debug, Clone)]
enum Pick {
    Seeded(Index),
    Random(u128),
}

/// A WHERE clause a query adds, trying to reach past the scope.
#[derive(Debug, Clone)]
enum Filter {
    None,
    /// `column = <a tenant>`
    Is(Pick),
    /// `column IS DISTINCT FROM <the scope's tenant>`
    NotScope,
}

#[derive(Debug, Clone)]
struct SqlCase {
    tenant: Pick,
    user: Pick,
    table: Index,
    filter: Filter,
}

fn pick() -> impl Strategy<Value = Pick> {
    prop_oneof![
        4 => any::<Index>().prop_map(Pick::Seeded),
        1 => any::<u128>().prop_map(Pick::Random),
    ]
}

fn sql_case() -> impl Strategy<Value = SqlCase> {
    let filter = prop_oneof![
        2 => Just(Filter::None),
        2 => pick().prop_map(Filter::Is),
        1 => Just(Filter::NotScope),
    ];
    (pick(), pick(), any::<Index>(), filter).prop_map(|(tenant, user, table, filter)| SqlCase {
        tenant,
        user,
        table,
        filter,
    })
}

#[test]
fn row_level_security_returns_the_scopes_tenant_only() {
    let rt = runtime();
    let seed = rt.block_on(Seed::plant());
    let db = Db::connect(&seed.app.db.app_url, &Default::default()).unwrap();
    let tenant_ids: Vec<Uuid> = seed.tenants.iter().map(|t| t.id).collect();
    let user_ids: Vec<Uuid> = seed.users.iter().map(|u| u.id).collect();
    let resolve = |p: &Pick, pool: &[Uuid]| match p {
        Pick::Seeded(i) => *i.get(pool),
        Pick::Random(n) => Uuid::from_u128(*n),
    };
    let rows_seen = AtomicUsize::new(0);
    let result = runner().run(&sql_case(), |case| {
        let tenant = resolve(&case.tenant, &tenant_ids);
        let user = resolve(&case.user, &user_ids);
        let (table, select, column) = *case.table.get(&TABLES);
        let (clause, bound) = match &case.filter {
            Filter::None => ("$1::uuid IS NOT NULL".to_owned(), tenant),
            Filter::Is(p) => (format!("{column} = $1"), resolve(p, &tenant_ids)),
            Filter::NotScope => (format!("{column} IS DISTINCT FROM $1"), tenant),
        };
        let sql = format!("{select} WHERE {clause}");
        let query = sql.clone();
        let rows: Vec<Row> = rt
            .block_on(db.scoped(Scope::tenant_user(tenant, user), |conn| {
                async move {
                    Ok::<_, AppError>(
                        diesel::sql_query(query)
                            .bind::<SqlUuid, _>(bound)
                            .load::<Row>(conn)
                            .await?,
                    )
                }
                .scope_boxed()
            }))
            .map_err(|e| TestCaseError::fail(format!("{sql}: {e:?}")))?;
        rows_seen.fetch_add(rows.len(), Ordering::Relaxed);

        // What the scope may see: (filter column's value, id) of each row.
        let seeded = seed.tenants.iter().find(|t| t.id == tenant);
        let mine = |f: fn(&Tenant) -> &BTreeSet<Uuid>| -> Vec<(Uuid, Uuid)> {
            seeded.map_or(Vec::new(), |t| {
                f(t).iter().map(|id| (tenant, *id)).collect()
            })
        };
        let visible: Vec<(Uuid, Uuid)> = match table {
            "memberships" => mine(|t| &t.members),
            "invitations" => mine(|t| &t.invitations),
            "audit_log" => mine(|t| &t.audit),
            "tenants" | "billing_customers" | "subscriptions" => {
                seeded.map_or(Vec::new(), |t| vec![(t.id, t.id)])
            }
            "invoices" => mine(|t| &t.invoices),
            // A tenant's exports; a person's own never in a tenant scope.
            "data_exports" => mine(|t| &t.exports),
            "publishable_keys" => mine(|t| &t.publishable),
            "allowed_origins" => mine(|t| &t.origins),
            "webhook_endpoints" => mine(|t| &t.webhooks),
            "webhook_deliveries" => mine(|t| &t.webhook_deliveries),
            _ => {
                let mut users: BTreeSet<Uuid> =
                    seeded.map_or(BTreeSet::new(), |t| t.members.clone());
                // Every user reads their own row.
                if seed.all_users.contains(&user) {
                    users.insert(user);
                }
                users.into_iter().map(|id| (id, id)).collect()
            }
        };
        let expected: BTreeSet<Uuid> = visible
            .into_iter()
            .filter(|(key, _)| match &case.filter {
                Filter::None => true,
                Filter::Is(_) => *key == bound,
                Filter::NotScope => *key != tenant,
            })
            .map(|(_, id)| id)
            .collect();
        let context = format!("scope (tenant {tenant}, user {user}): {sql} with $1 = {bound}");
        if table != "users" {
            for row in &rows {
                prop_assert_eq!(
                    row.tenant_id,
                    Some(tenant),
                    "a row of another tenant: {}",
                    context
                );
            }
        }
        let got: BTreeSet<Uuid> = rows.iter().map(|r| r.id).collect();
        prop_assert_eq!(got.len(), rows.len(), "duplicate rows: {}", context);
        prop_assert_eq!(got, expected, "{}", context);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    if cases() >= 200 {
        assert!(rows_seen.into_inner() > 0, "no case returned a row");
    }
    db.close();
}

/// 4713-11-24 BC 00:00 UTC, PostgreSQL's earliest `timestamptz`, in Unix microseconds.
const PG_MIN_MICROS: i64 = -210_866_803_200_000_000;

/// Found by the property above: a well-formed cursor at a time chrono can hold
/// but PostgreSQL cannot (before 4713 BC) failed the list with INTERNAL instead
/// of BAD_USER_INPUT. Every position is either a place in the list or bad input.
#[tokio::test]
async fn a_cursor_at_any_time_is_a_position_or_bad_input() {
    let app = TestApp::spawn().await;
    let (token, _, _) = app.sign_up("cursor@iso.test", "Cursor Range").await;
    let chrono_min = chrono::DateTime::<chrono::Utc>::MIN_UTC.timestamp_micros();
    let chrono_max = chrono::DateTime::<chrono::Utc>::MAX_UTC.timestamp_micros();
    for (at, must_refuse) in [
        (i64::MIN, true),
        (chrono_min - 1, true),
        (chrono_min, true),
        (PG_MIN_MICROS - 1, true),
        (PG_MIN_MICROS, false),
        (-1, false),
        (0, false),
        (1_800_000_000_000_000, false),
        (chrono_max, false),
        (chrono_max + 1, true),
        (i64::MAX, true),
    ] {
        let after = URL_SAFE_NO_PAD.encode(format!("v1:{at}:{}", Uuid::nil()));
        for list in ["members", "invitations", "auditLog"] {
            let query = format!(
                "query($a: String) {{ tenant {{ {list}(after: $a) {{ edges {{ cursor }} }} }} }}"
            );
            let a = app.gql(&query, json!({ "a": after }), Some(&token)).await;
            let allowed: &[&str] = if must_refuse {
                &["BAD_USER_INPUT"]
            } else {
                &["BAD_USER_INPUT", "<none>"]
            };
            assert!(
                allowed.contains(&a.code()),
                "{list} after {at} must be {allowed:?}: {:?}",
                a.body
            );
        }
    }
}
