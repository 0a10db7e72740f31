//! The role matrix: every tenant field and team mutation, tried by every role of
//! one tenant, by an anonymous caller and by a member of another tenant, against
//! the designed answer ([`MATRIX`]). A refused attempt must also leave the tenant
//! exactly as it was; an allowed mutation must have its effect.

use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{Answer, PASSWORD, TestApp};

const TENANT_NAME: &str = "Matrix Works";
/// The matrix tenant's plan.
const MATRIX_PLAN: &str = "pro";
pub(crate) const INVITE: &str =
    "mutation($i: InviteMemberInput!) { inviteMember(input: $i) { id email role status } }";
pub(crate) const ACCEPT: &str = "mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { accessToken user { id } } }";
const UPDATE_ROLE: &str =
    "mutation($u: ID!, $r: Role!) { updateMemberRole(userId: $u, role: $r) { role user { id } } }";
const REMOVE: &str = "mutation($u: ID!) { removeMember(userId: $u) }";
const LEAVE: &str = "mutation { leaveTenant }";
const CREATE_KEY: &str =
    "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { apiKey { name } } }";
const REVOKE_KEY: &str = "mutation($id: ID!) { revokeApiKey(id: $id) { state } }";

/// Who calls. The order is the order of the matrix's columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Actor {
    /// No credentials at all (but the tenant's id in X-Tenant-ID).
    Anonymous,
    /// The owner of another tenant, sending this tenant's id in X-Tenant-ID.
    Outsider,
    Owner,
    Admin,
    Member,
    Billing,
    Viewer,
}

const ACTORS: [Actor; 7] = [
    Actor::Anonymous,
    Actor::Outsider,
    Actor::Owner,
    Actor::Admin,
    Actor::Member,
    Actor::Billing,
    Actor::Viewer,
];

impl Actor {
    /// The actor's role in the tenant, as the API spells it.
    fn role(self) -> Option<&'static str> {
        match self {
            Self::Anonymous | Self::Outsider => None,
            Self::Owner => Some("OWNER"),
            Self::Admin => Some("ADMIN"),
            Self::Member => Some("MEMBER"),
            Self::Billing => Some("BILLING"),
            Self::Viewer => Some("VIEWER"),
        }
    }
}

/// What one cell of the matrix expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Answers with the data; a mutation takes effect.
    Allowed,
    /// Answers without an error, but with nothing of the tenant (a null value).
    Null,
    /// Refused with this `extensions.code`; nothing changes.
    Refused(&'static str),
}

const YES: Expect = Expect::Allowed;
const NULL: Expect = Expect::Null;
const UNAUTH: Expect = Expect::Refused("UNAUTHENTICATED");
const FORBID: Expect = Expect::Refused("FORBIDDEN");
const CONFLICT: Expect = Expect::Refused("CONFLICT");
const UNAVAIL: Expect = Expect::Refused("UNAVAILABLE");

/// The operations of the matrix. Mutations act on fresh targets made for each
/// attempt (a throwaway invitation, a new member or second owner), and what an
/// allowed attempt changes is put back afterwards, so no cell affects another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// `tenant { id name }`
    ReadTenant,
    /// `tenant { members(first: 5) { nodes { role } } }`
    ReadMembers,
    /// `tenant { memberCount }`
    ReadMemberCount,
    /// `tenant { invitations { nodes { id } } }`
    ReadInvitations,
    /// `tenant { auditLog(first: 5) { nodes { action } } }`
    ReadAuditLog,
    /// `viewer { role tenant { id name } }`
    ReadViewerRole,
    /// `inviteMember` of a new email as MEMBER.
    InviteMember,
    /// `inviteMember` of a new email as ADMIN.
    InviteAdmin,
    /// `inviteMember` of a new email as OWNER.
    InviteOwner,
    /// `revokeInvitation` of a pending invitation the owner just sent.
    RevokeInvitation,
    /// `updateMemberRole` of a new MEMBER to VIEWER.
    ChangeMemberRole,
    /// `updateMemberRole` of a new MEMBER to OWNER.
    GrantOwner,
    /// `updateMemberRole` of a second OWNER to MEMBER.
    DemoteOwner,
    /// `removeMember` of a new MEMBER.
    RemoveMember,
    /// `removeMember` of a second OWNER.
    RemoveOwner,
    /// `updateTenant(input: { name })`
    RenameTenant,
    /// `leaveTenant` (the caller leaves; the owner is the only owner).
    LeaveTenant,
    /// `createApiKey` with no scopes.
    CreateApiKey,
    /// `revokeApiKey` of a fresh key the owner made.
    RevokeApiKey,
    /// `updateMemberRole` of a new ADMIN who made a key, to MEMBER (the key
    /// is revoked with the demotion).
    DemoteKeyMaker,
    /// `removeMember` of a new ADMIN who made a key (revoked with the removal).
    RemoveKeyMaker,
    /// `tenant { publishableKeys { id } }`
    ReadPublishableKeys,
    /// `tenant { allowedOrigins { origin } }`
    ReadAllowedOrigins,
    /// `createPublishableKey` (live).
    CreatePublishableKey,
    /// `revokePublishableKey` of a fresh key.
    RevokePublishableKey,
    /// `addAllowedOrigin` of a new origin.
    AddAllowedOrigin,
    /// `removeAllowedOrigin` of a fresh origin.
    RemoveAllowedOrigin,
    /// `suspendTenant` of this tenant.
    SuspendTenant,
    /// `reactivateTenant` of this tenant.
    ReactivateTenant,
    /// `plans { key }` (public: anyone, signed in or not).
    ReadPlans,
    /// `tenant { plan { key } }` (the tenant's own plan).
    ReadTenantPlan,
    /// `updateTenant(input: { branding })` with custom branding (the
    /// tenant's plan includes it: only the role decides).
    BrandTenant,
    /// `admin { plans { key stripeMonthlyPriceId } }`
    ReadAdminPlans,
    /// `tenant { billing { configured subscription { status } } }`
    ReadBilling,
    /// `tenant { quotas { metric used limit } }` (the default plans have none).
    ReadQuotas,
    /// `createCheckoutSession` (billing is off here: an allowed caller gets
    /// UNAVAILABLE saying so, a refused one FORBIDDEN before that; allowed
    /// calls with Stripe on are in `billing.rs`).
    StartCheckout,
    /// `createBillingPortalSession`
    OpenBillingPortal,
    /// `changePlan`
    ChangeSubscriptionPlan,
    /// `cancelSubscription`
    CancelSubscription,
    /// `resumeSubscription`
    ResumeSubscription,
    /// `createPlan` of a new private plan.
    CreatePlan,
    /// `updatePlan` of the basic plan's name.
    UpdatePlan,
    /// `setTenantPlan` of this tenant to enterprise.
    SetTenantPlan,
    /// `recordUsage` of one api_calls event (for the active tenant).
    RecordUsage,
    /// `tenant { usage(…, granularity: DAY) { points { value } } }` of one day.
    ReadUsage,
    /// `tenant { usage(…, groupBy: KEY) { groups { total } } }` (also needs
    /// the right to list keys).
    ReadUsageByKey,
    /// `tenant { apiKeys { nodes { usage(…) { total } } } }` with a fresh key.
    ReadKeyUsage,
    /// `admin { usage topConsumers stats { apiCallsToday } }`
    ReadAdminUsage,
    /// `createMetric` of a new metric.
    CreateMetric,
    /// `GET /v1/audit-log/export?format=jsonl` (HTTP, not GraphQL: the
    /// answer is put in GraphQL's shape by `Matrix::export`).
    ExportAuditLog,
    /// `tenant { dataExports(first: 5) { nodes { id status } } }`
    ReadDataExports,
    /// `requestDataExport` (the active tenant's archive).
    RequestDataExport,
    /// `viewer { dataExports { nodes { id } } }` (the caller's own).
    ReadMyDataExports,
    /// `requestMyDataExport` (the caller's own archive, not the tenant's).
    RequestMyDataExport,
    /// `deleteTenant` of this tenant, its slug typed (the sessions are
    /// fresh: made at the start of the test).
    DeleteTenant,
    /// `cancelTenantDeletion` of this tenant while it is scheduled for
    /// deletion (made so by the database owner for the attempt).
    CancelTenantDeletion,
    /// `tenant { customDomain { domain } }` (a claim made for the attempt).
    ReadCustomDomain,
    /// `setCustomDomain` of a fresh domain.
    SetCustomDomain,
    /// `verifyCustomDomain` of a claim made for the attempt (the test's DNS
    /// server has no record: an allowed call answers FAILED).
    VerifyCustomDomain,
    /// `removeCustomDomain` of a claim made for the attempt.
    RemoveCustomDomain,
    /// `hostTenant` (public; null: the test's host names no tenant).
    ReadHostTenant,
    /// `tenant { webhookEndpoints { id url } }` with a fresh endpoint.
    ReadWebhookEndpoints,
    /// `tenant { webhookEndpoint(id) { deliveries { nodes { … attempts } } } }`
    /// of a fresh endpoint with one delivery.
    ReadWebhookDeliveries,
    /// `webhookEventTypes` (public).
    ReadWebhookEventTypes,
    /// `createWebhookEndpoint` of a new URL.
    CreateWebhookEndpoint,
    /// `updateWebhookEndpoint` of a fresh endpoint's description.
    UpdateWebhookEndpoint,
    /// `deleteWebhookEndpoint` of a fresh endpoint.
    DeleteWebhookEndpoint,
    /// `rotateWebhookSecret` of a fresh endpoint.
    RotateWebhookSecret,
    /// `replayWebhookDelivery` of a fresh endpoint's delivery.
    ReplayWebhookDelivery,
    /// `sendTestWebhook` to a fresh endpoint.
    SendTestWebhook,
}

impl Op {
    fn is_platform_only(self) -> bool {
        matches!(
            self,
            Self::SuspendTenant
                | Self::ReactivateTenant
                | Self::ReadAdminPlans
                | Self::CreatePlan
                | Self::UpdatePlan
                | Self::SetTenantPlan
                | Self::CreateMetric
                | Self::ReadAdminUsage
        )
    }
}

/// The designed answer of every operation for every caller.
#[rustfmt::skip]
const MATRIX: &[(Op, [Expect; 7])] = &[
    // operation              anonymous outsider owner     admin     member    billing   viewer
    (Op::ReadTenant,         [UNAUTH,   FORBID,  YES,      YES,      YES,      YES,      YES   ]),
    (Op::ReadMembers,        [UNAUTH,   FORBID,  YES,      YES,      YES,      FORBID,   YES   ]),
    (Op::ReadMemberCount,    [UNAUTH,   FORBID,  YES,      YES,      YES,      FORBID,   YES   ]),
    (Op::ReadInvitations,    [UNAUTH,   FORBID,  YES,      YES,      FORBID,   FORBID,   FORBID]),
    (Op::ReadAuditLog,       [UNAUTH,   FORBID,  YES,      YES,      FORBID,   FORBID,   FORBID]),
    (Op::ReadViewerRole,     [NULL,     NULL,    YES,      YES,      YES,      YES,      YES   ]),
    (Op::InviteMember,       [UNAUTH,   FORBID,  YES,      YES,      FORBID,   FORBID,   FORBID]),
    (Op::InviteAdmin,        [UNAUTH,   FORBID,  YES,      YES,      FORBID,   FORBID,   FORBID]),
    (Op::InviteOwner,        [UNAUTH,   FORBID,  YES,      FORBID,   FORBID,   FORBID,   FORBID]),
    (Op::RevokeInvitation,   [UNAUTH,   FORBID,  YES,      YES,      FORBID,   FORBID,   FORBID]),
    (Op::ChangeMemberRole,   [UNAUTH,   FORBID,  YES,      YES,      FORBID,   FORBID,   FORBID]),
    (Op::GrantOwner,         [UNAUTH,   FORBID,  YES,      FORBID,   FORBID,   FORBID,   FORBID]),
    (Op::DemoteOwner,        [UNAUTH,   FORBID,  YES,      FORBID,   FORBID,   FORBID,   FORBID]),
    (Op::RemoveMember,       [UNAUTH,   FORBID,  YES,      YES,      FORBID,   FORBID,   FORBID]),
    (Op::RemoveOwner,        [UNAUTH,   FORBID,  YES,      FORBID,   FORBID,   FORBID,   FORBID]),
    (Op::RenameTenant,       [UNAUTH,   FORBID,  YES,      YES,      FORBID,   FORBID,   FORBID]),
    // "Any role" may leave; the billing cell once got FORBIDDEN (Role::at_least
    // ranks billing with viewer but did not count it as viewer or higher).
    (Op::LeaveTenant,        [UNAUTH,   FORBID,  CONFLICT, YES,      YES,      YES,      YES   ]),
    (Op::CreateApiKey,       [UNAUTH,   FORBID,  YES,      YES,      FORBID,   FORBID,   FORBID]),
    (Op::RevokeApiKey,       [UNAUTH,   FORBID,  YES,      YES,      FORBID,   FORBID,   FORBID]),
    (Op::DemoteKeyMaker,     [UNAUTH,   FORBID,  YES,      YES,      FORBID,   FORBID,   FORBID]),
    (Op::RemoveKeyMaker,     [UNAUTH,   FORBID,  YES,      YES,      FORBID,   FORBID,   FORBID]),
    (Op::ReadPublishableKeys, [UNAUTH,  FORBID,  YES,      YES,      FORBID,   FORBID,   FORBID]),
    (Op::ReadAllowedOrigins, [UNAUTH,   FORBID,  YES,      YES,      FORBID,   FORBID,   FORBID]),
    (Op::CreatePublishableKey, [UNAUTH, FORBID,  YES,      YES,      FORBID,   FORBID,   FORBID]),
    (Op::RevokePublishableKey, [UNAUTH, FORBID,  YES,      YES,      FORBID,   FORBID,   FORBID]),
    (Op::AddAllowedOrigin,   [UNAUTH,   FORBID,  YES,      YES,      FORBID,   FORBID,   FORBID]),
    (Op::RemoveAllowedOrigin, [UNAUTH,  FORBID,  YES,      YES,      FORBID,   FORBID,   FORBID]),
    (Op::SuspendTenant,      [UNAUTH,   FORBID,  FORBID,   FORBID,   FORBID,   FORBID,   FORBID]),
    (Op::ReactivateTenant,   [UNAUTH,   FORBID,  FORBID,   FORBID,   FORBID,   FORBID,   FORBID]),
    (Op::ReadPlans,          [YES,      YES,     YES,      YES,      YES,      YES,      YES   ]),
    (Op::ReadTenantPlan,     [UNAUTH,   FORBID,  YES,      YES,      YES,      YES,      YES   ]),
    (Op::BrandTenant,        [UNAUTH,   FORBID,  YES,      YES,      FORBID,   FORBID,   FORBID]),
    (Op::ReadAdminPlans,     [UNAUTH,   FORBID,  FORBID,   FORBID,   FORBID,   FORBID,   FORBID]),
    (Op::CreatePlan,         [UNAUTH,   FORBID,  FORBID,   FORBID,   FORBID,   FORBID,   FORBID]),
    (Op::UpdatePlan,         [UNAUTH,   FORBID,  FORBID,   FORBID,   FORBID,   FORBID,   FORBID]),
    (Op::SetTenantPlan,      [UNAUTH,   FORBID,  FORBID,   FORBID,   FORBID,   FORBID,   FORBID]),
    (Op::RecordUsage,        [UNAUTH,   FORBID,  YES,      YES,      FORBID,   FORBID,   FORBID]),
    (Op::CreateMetric,       [UNAUTH,   FORBID,  FORBID,   FORBID,   FORBID,   FORBID,   FORBID]),
    (Op::ExportAuditLog,     [UNAUTH,   FORBID,  YES,      YES,      FORBID,   FORBID,   FORBID]),
    (Op::ReadBilling,        [UNAUTH,   FORBID,  YES,      YES,      FORBID,   YES,      FORBID]),
    (Op::ReadQuotas,         [UNAUTH,   FORBID,  YES,      YES,      YES,      YES,      YES   ]),
    (Op::ReadUsage,          [UNAUTH,   FORBID,  YES,      YES,      YES,      YES,      YES   ]),
    (Op::ReadUsageByKey,     [UNAUTH,   FORBID,  YES,      YES,      YES,      FORBID,   YES   ]),
    (Op::ReadKeyUsage,       [UNAUTH,   FORBID,  YES,      YES,      YES,      FORBID,   YES   ]),
    (Op::ReadAdminUsage,     [UNAUTH,   FORBID,  FORBID,   FORBID,   FORBID,   FORBID,   FORBID]),
    (Op::StartCheckout,      [UNAUTH,   FORBID,  UNAVAIL,  FORBID,   FORBID,   UNAVAIL,  FORBID]),
    (Op::OpenBillingPortal,  [UNAUTH,   FORBID,  UNAVAIL,  FORBID,   FORBID,   UNAVAIL,  FORBID]),
    (Op::ChangeSubscriptionPlan, [UNAUTH, FORBID, UNAVAIL, FORBID,   FORBID,   UNAVAIL,  FORBID]),
    (Op::CancelSubscription, [UNAUTH,   FORBID,  UNAVAIL,  FORBID,   FORBID,   UNAVAIL,  FORBID]),
    (Op::ResumeSubscription, [UNAUTH,   FORBID,  UNAVAIL,  FORBID,   FORBID,   UNAVAIL,  FORBID]),
    (Op::ReadDataExports,    [UNAUTH,   FORBID,  YES,      FORBID,   FORBID,   FORBID,   FORBID]),
    (Op::RequestDataExport,  [UNAUTH,   FORBID,  YES,      FORBID,   FORBID,   FORBID,   FORBID]),
    // A person's own: anyone signed in, the outsider included; the tenant
    // does not change (its fingerprint stays).
    (Op::ReadMyDataExports,  [NULL,     YES,     YES,      YES,      YES,      YES,      YES   ]),
    (Op::RequestMyDataExport, [UNAUTH,  YES,     YES,      YES,      YES,      YES,      YES   ]),
    (Op::DeleteTenant,       [UNAUTH,   FORBID,  YES,      FORBID,   FORBID,   FORBID,   FORBID]),
    (Op::CancelTenantDeletion, [UNAUTH, FORBID,  YES,      FORBID,   FORBID,   FORBID,   FORBID]),
    (Op::ReadCustomDomain,   [UNAUTH,   FORBID,  YES,      YES,      FORBID,   FORBID,   FORBID]),
    (Op::SetCustomDomain,    [UNAUTH,   FORBID,  YES,      YES,      FORBID,   FORBID,   FORBID]),
    (Op::VerifyCustomDomain, [UNAUTH,   FORBID,  YES,      YES,      FORBID,   FORBID,   FORBID]),
    (Op::RemoveCustomDomain, [UNAUTH,   FORBID,  YES,      YES,      FORBID,   FORBID,   FORBID]),
    (Op::ReadHostTenant,     [NULL,     NULL,    NULL,     NULL,     NULL,     NULL,     NULL  ]),
    (Op::ReadWebhookEndpoints, [UNAUTH, FORBID,  YES,      YES,      FORBID,   FORBID,   FORBID]),
    (Op::ReadWebhookDeliveries, [UNAUTH, FORBID, YES,      YES,      FORBID,   FORBID,   FORBID]),
    (Op::ReadWebhookEventTypes, [YES,   YES,     YES,      YES,      YES,      YES,      YES   ]),
    (Op::CreateWebhookEndpoint, [UNAUTH, FORBID, YES,      YES,      FORBID,   FORBID,   FORBID]),
    (Op::UpdateWebhookEndpoint, [UNAUTH, FORBID, YES,      YES,      FORBID,   FORBID,   FORBID]),
    (Op::DeleteWebhookEndpoint, [UNAUTH, FORBID, YES,      YES,      FORBID,   FORBID,   FORBID]),
    (Op::RotateWebhookSecret, [UNAUTH,  FORBID,  YES,      YES,      FORBID,   FORBID,   FORBID]),
    (Op::ReplayWebhookDelivery, [UNAUTH, FORBID, YES,      YES,      FORBID,   FORBID,   FORBID]),
    (Op::SendTestWebhook,    [UNAUTH,   FORBID,  YES,      YES,      FORBID,   FORBID,   FORBID]),
];

/// What an allowed answer's value must be.
enum Shows {
    Equals(Value),
    /// A list with exactly this many entries.
    Count(usize),
    /// A list with at least one entry.
    NonEmpty,
}

/// One attempt: the operation, how to judge its answer, and how to tidy up.
struct Plan {
    query: &'static str,
    vars: Value,
    /// JSON pointer to the answer's value.
    value: &'static str,
    shows: Shows,
    /// A `SELECT count(*) AS n …` whose result an allowed mutation changes.
    effect: Option<String>,
    /// Statements run (as the database owner) after the attempt, whatever its
    /// outcome: they drop fresh targets and put back what an allowed one changed.
    cleanup: Vec<String>,
}

impl Plan {
    fn read(query: &'static str, value: &'static str, shows: Shows) -> Self {
        Self {
            query,
            vars: json!({}),
            value,
            shows,
            effect: None,
            cleanup: Vec::new(),
        }
    }
}

/// What one attempt did.
struct Seen<'a> {
    answer: &'a Answer,
    /// Whether the tenant's fingerprint changed.
    changed: bool,
    /// Whether the plan's effect query changed.
    took_effect: bool,
}

#[derive(diesel::QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(diesel::QueryableByName)]
pub(crate) struct S {
    #[diesel(sql_type = Text)]
    pub(crate) s: String,
}

async fn count(conn: &mut AsyncPgConnection, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<N>(conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .n
}

pub(crate) async fn text(conn: &mut AsyncPgConnection, sql: &str) -> String {
    diesel::sql_query(sql)
        .get_result::<S>(conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .s
}

async fn exec(conn: &mut AsyncPgConnection, sql: &str) {
    conn.batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// POSTs an operation with optional bearer token and X-Tenant-ID.
pub(crate) async fn call(
    app: &TestApp,
    token: Option<&str>,
    tenant: Option<&str>,
    query: &str,
    vars: Value,
) -> Answer {
    let mut req = app
        .client
        .post(format!("{}/graphql", app.url))
        .header("content-type", "application/json")
        .header("accept", "application/graphql-response+json")
        .body(json!({ "query": query, "variables": vars }).to_string());
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    if let Some(tenant) = tenant {
        req = req.header("x-tenant-id", tenant);
    }
    app.send(req).await
}

pub(crate) fn no_errors(a: &Answer) -> bool {
    a.body.get("errors").is_none_or(Value::is_null)
}

/// The token of the newest invitation emailed to `email` (the outbox holds
/// bodies sealed under a key derived from the test servers' secret).
pub(crate) async fn invitation_token(conn: &mut AsyncPgConnection, email: &str) -> String {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: uuid::Uuid,
        #[diesel(sql_type = diesel::sql_types::Bytea)]
        sealed_body: Vec<u8>,
    }
    let row: Row = diesel::sql_query(
        "SELECT id, sealed_body FROM email_outbox WHERE recipient = $1
         ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind::<diesel::sql_types::Text, _>(email)
    .get_result(conn)
    .await
    .unwrap_or_else(|e| panic!("no invitation to {email}: {e}"));
    let keys = tenantgate::auth::jwt::JwtKeys::new(crate::support::SECRET, None).unwrap();
    let body = tenantgate::mail::Sealer::new(&keys)
        .open(row.id, &row.sealed_body)
        .expect("a sealed body opens");
    let start = body
        .find("token=")
        .unwrap_or_else(|| panic!("no token in the invitation to {email}: {body}"))
        + "token=".len();
    body[start..]
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// `inviter` invites `email` with `role`; the invitee accepts, creating their
/// account. Returns the invitee's (access token, user id).
pub(crate) async fn join(
    app: &TestApp,
    conn: &mut AsyncPgConnection,
    inviter: &str,
    email: &str,
    role: &str,
) -> (String, String) {
    let a = app
        .gql(
            INVITE,
            json!({ "i": { "email": email, "role": role } }),
            Some(inviter),
        )
        .await;
    assert!(no_errors(&a), "inviting {email}: {:?}", a.body);
    let token = invitation_token(conn, email).await;
    let a = app
        .gql(
            ACCEPT,
            json!({ "i": { "token": token, "password": PASSWORD } }),
            None,
        )
        .await;
    assert!(no_errors(&a), "{email} accepting: {:?}", a.body);
    let p = &a.body["data"]["acceptInvitation"];
    (
        p["accessToken"].as_str().unwrap().to_owned(),
        p["user"]["id"].as_str().unwrap().to_owned(),
    )
}

/// One tenant with a user per role, an outsider, and the owner's connection.
struct Matrix {
    app: TestApp,
    /// The name servers custom domains are verified against (no records).
    _dns: crate::support::dns::DnsServer,
    db: AsyncPgConnection,
    tenant: String,
    /// (token, user id) per actor; `None` for the anonymous caller.
    creds: Vec<(Actor, Option<(String, String)>)>,
    /// Strings of this tenant that neither anonymous callers nor the outsider may see.
    secrets: Vec<String>,
    fresh: usize,
}

impl Matrix {
    async fn seed() -> Self {
        let dns = crate::support::dns::DnsServer::start().await;
        let dns_addr = dns.addr;
        let app = TestApp::spawn_tuned(|s| s.domains.dns_servers = vec![dns_addr]).await;
        let mut db = app.db.owner().await;
        let (owner_token, owner_id, tenant) = app.sign_up("owner@matrix.test", TENANT_NAME).await;
        // Room for the team the matrix grows, and custom branding: only
        // roles decide here (plan limits have their own tests, plans.rs).
        app.set_plan(&tenant, MATRIX_PLAN).await;
        let mut creds = vec![
            (Actor::Anonymous, None),
            (Actor::Owner, Some((owner_token.clone(), owner_id.clone()))),
        ];
        let mut secrets = vec![
            tenant.clone(),
            TENANT_NAME.to_owned(),
            "owner@matrix.test".to_owned(),
            owner_id,
        ];
        for actor in [Actor::Admin, Actor::Member, Actor::Billing, Actor::Viewer] {
            let role = actor.role().unwrap();
            let email = format!("{}@matrix.test", role.to_lowercase());
            let (token, id) = join(&app, &mut db, &owner_token, &email, role).await;
            secrets.extend([email, id.clone()]);
            creds.push((actor, Some((token, id))));
        }
        let (outsider_token, outsider_id, _) =
            app.sign_up("outsider@elsewhere.test", "Elsewhere").await;
        creds.push((Actor::Outsider, Some((outsider_token, outsider_id))));
        // Something to list: a pending invitation (the joins wrote the audit trail).
        let a = app
            .gql(
                INVITE,
                json!({ "i": { "email": "pending@matrix.test", "role": "VIEWER" } }),
                Some(&owner_token),
            )
            .await;
        assert!(no_errors(&a), "{:?}", a.body);
        secrets.push(
            text(
                &mut db,
                &format!("SELECT slug AS s FROM tenants WHERE id = '{tenant}'"),
            )
            .await,
        );
        Self {
            app,
            _dns: dns,
            db,
            tenant,
            creds,
            secrets,
            fresh: 0,
        }
    }

    fn creds(&self, actor: Actor) -> Option<&(String, String)> {
        self.creds
            .iter()
            .find(|(a, _)| *a == actor)
            .and_then(|(_, c)| c.as_ref())
    }

    /// Calls as `actor`, always naming this tenant in X-Tenant-ID.
    async fn call(&self, actor: Actor, query: &str, vars: Value) -> Answer {
        let token = self.creds(actor).map(|(t, _)| t.as_str());
        call(&self.app, token, Some(&self.tenant), query, vars).await
    }

    /// The audit export as `actor` (naming this tenant in X-Tenant-ID), its
    /// answer in GraphQL's shape: `data.export` the lines, or the error.
    async fn export(&self, actor: Actor) -> Answer {
        let mut req = self
            .app
            .client
            .get(format!("{}/v1/audit-log/export?format=jsonl", self.app.url))
            .header("x-tenant-id", &self.tenant);
        if let Some((token, _)) = self.creds(actor) {
            req = req.header("authorization", format!("Bearer {token}"));
        }
        let res = req.send().await.unwrap();
        let (status, headers) = (res.status().as_u16(), res.headers().clone());
        let text = res.text().await.unwrap();
        let body = if status == 200 {
            let lines: Vec<Value> = text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            json!({ "data": { "export": lines } })
        } else {
            let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            json!({ "data": null, "errors": v["errors"] })
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    /// Everything of the tenant a change could touch, as one hash (plus the
    /// outbox, which a refused invitation must not write to).
    async fn fingerprint(&mut self) -> String {
        let t = &self.tenant;
        let sql = format!(
            "SELECT md5(concat_ws('|',
                (SELECT string_agg(m::text, ',' ORDER BY m.user_id) FROM memberships m WHERE m.tenant_id = '{t}'),
                (SELECT string_agg(i::text, ',' ORDER BY i.id) FROM invitations i WHERE i.tenant_id = '{t}'),
                (SELECT x::text FROM tenants x WHERE x.id = '{t}'),
                (SELECT count(*)::text FROM audit_log a WHERE a.tenant_id = '{t}'),
                (SELECT string_agg(concat_ws(':', k.id, k.name, k.revoked_at, encode(k.secret_hash, 'hex')), ','
                    ORDER BY k.id) FROM api_keys k WHERE k.tenant_id = '{t}'),
                (SELECT count(*)::text FROM email_outbox),
                (SELECT string_agg(p::text, ',' ORDER BY p.key) FROM plans p),
                (SELECT count(*)::text FROM usage_events u WHERE u.tenant_id = '{t}'),
                (SELECT count(*)::text FROM data_exports d WHERE d.tenant_id = '{t}'),
                (SELECT string_agg(concat_ws(':', k.id, k.revoked_at), ',' ORDER BY k.id)
                    FROM publishable_keys k WHERE k.tenant_id = '{t}'),
                (SELECT string_agg(o.origin, ',' ORDER BY o.origin) FROM allowed_origins o WHERE o.tenant_id = '{t}'),
                (SELECT d::text FROM tenant_domains d WHERE d.tenant_id = '{t}'),
                (SELECT string_agg(x::text, ',' ORDER BY x.key) FROM metrics x),
                (SELECT string_agg(concat_ws(':', e.id, e.url, e.description, e.enabled, e.event_types::text,
                    encode(e.secret_sealed, 'hex'), encode(e.previous_secret_sealed, 'hex')), ',' ORDER BY e.id)
                    FROM webhook_endpoints e WHERE e.tenant_id = '{t}'),
                (SELECT count(*)::text FROM webhook_deliveries w WHERE w.tenant_id = '{t}'))) AS s"
        );
        text(&mut self.db, &sql).await
    }

    fn fresh_name(&mut self, what: &str) -> String {
        self.fresh += 1;
        format!("{what}-{}", self.fresh)
    }

    /// A new user holding `role` in the tenant (made as the database owner).
    async fn fresh_member(&mut self, role: &str) -> Uuid {
        let id = Uuid::new_v4();
        let email = format!("{}@matrix.test", self.fresh_name("target"));
        exec(
            &mut self.db,
            &format!(
                "INSERT INTO users (id, email) VALUES ('{id}', '{email}');
                 INSERT INTO memberships (tenant_id, user_id, role) VALUES ('{}', '{id}', '{role}')",
                self.tenant
            ),
        )
        .await;
        id
    }

    /// A fresh API key of the tenant made by `maker` (inserted as the
    /// database owner); returns its id.
    async fn fresh_key(&mut self, maker: &str) -> Uuid {
        let id = Uuid::new_v4();
        exec(
            &mut self.db,
            &format!(
                "INSERT INTO api_keys (id, tenant_id, created_by, name, environment, display_prefix, secret_hash)
                 VALUES ('{id}', '{}', '{maker}', 'matrix key', 'live', 'tg_live_matrix',
                         sha256(convert_to('{id}', 'UTF8')))",
                self.tenant
            ),
        )
        .await;
        id
    }

    /// A fresh publishable key of the tenant (inserted as the database
    /// owner); returns its id.
    async fn fresh_publishable(&mut self) -> Uuid {
        let id = Uuid::new_v4();
        let random = format!("{}zz", id.simple());
        exec(
            &mut self.db,
            &format!(
                "INSERT INTO publishable_keys (id, tenant_id, name, environment, key)
                 VALUES ('{id}', '{}', 'matrix pk', 'live', 'tg_pk_live_{random}000000')",
                self.tenant
            ),
        )
        .await;
        id
    }

    /// A fresh allowed origin of the tenant (inserted as the database owner).
    async fn fresh_origin(&mut self) -> String {
        let origin = format!("https://{}.example.com", self.fresh_name("origin"));
        exec(
            &mut self.db,
            &format!(
                "INSERT INTO allowed_origins (tenant_id, origin) VALUES ('{}', '{origin}')",
                self.tenant
            ),
        )
        .await;
        origin
    }

    /// A fresh webhook endpoint of the tenant (inserted as the database
    /// owner; its sealed secret is a placeholder) with one delivery of a
    /// fresh event (the fan-out trigger writes it); returns (endpoint,
    /// delivery) ids.
    async fn fresh_webhook(&mut self) -> (Uuid, Uuid) {
        let (id, event) = (Uuid::new_v4(), Uuid::new_v4());
        exec(
            &mut self.db,
            &format!(
                "INSERT INTO webhook_endpoints (id, tenant_id, url, secret_sealed)
                 VALUES ('{id}', '{t}', 'https://hooks.example.com/{id}', '\\x00');
                 INSERT INTO webhook_events (id, tenant_id, event_type, payload)
                 VALUES ('{event}', '{t}', 'tenant.updated', '{{}}')",
                t = self.tenant
            ),
        )
        .await;
        let delivery = text(
            &mut self.db,
            &format!("SELECT id::text AS s FROM webhook_deliveries WHERE endpoint_id = '{id}'"),
        )
        .await;
        (id, Uuid::parse_str(&delivery).unwrap())
    }

    /// A fresh pending invitation, sent by the owner.
    async fn fresh_invitation(&mut self) -> String {
        let email = format!("{}@matrix.test", self.fresh_name("revocable"));
        let a = self
            .call(
                Actor::Owner,
                INVITE,
                json!({ "i": { "email": email, "role": "MEMBER" } }),
            )
            .await;
        assert!(no_errors(&a), "{:?}", a.body);
        a.body["data"]["inviteMember"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn plan(&mut self, op: Op, actor: Actor) -> Plan {
        let t = self.tenant.clone();
        let invite = |email: String, role: &'static str| Plan {
            query: INVITE,
            effect: Some(format!(
                "SELECT count(*) AS n FROM invitations WHERE tenant_id = '{t}'
                 AND email = '{email}' AND role = '{}'",
                role.to_lowercase()
            )),
            vars: json!({ "i": { "email": email, "role": role } }),
            value: "/data/inviteMember/role",
            shows: Shows::Equals(json!(role)),
            cleanup: Vec::new(),
        };
        let change_role = |target: Uuid, role: &'static str| Plan {
            query: UPDATE_ROLE,
            vars: json!({ "u": target, "r": role }),
            value: "/data/updateMemberRole/role",
            shows: Shows::Equals(json!(role)),
            effect: Some(format!(
                "SELECT count(*) AS n FROM memberships WHERE tenant_id = '{t}'
                 AND user_id = '{target}' AND role = '{}'",
                role.to_lowercase()
            )),
            cleanup: vec![format!("DELETE FROM users WHERE id = '{target}'")],
        };
        let remove = |target: Uuid| Plan {
            query: REMOVE,
            vars: json!({ "u": target }),
            value: "/data/removeMember",
            shows: Shows::Equals(json!(true)),
            effect: Some(format!(
                "SELECT count(*) AS n FROM memberships WHERE tenant_id = '{t}' AND user_id = '{target}'"
            )),
            cleanup: vec![format!("DELETE FROM users WHERE id = '{target}'")],
        };
        match op {
            Op::ReadTenant => Plan::read(
                "{ tenant { id name } }",
                "/data/tenant/name",
                Shows::Equals(json!(TENANT_NAME)),
            ),
            Op::ReadMembers => Plan::read(
                "{ tenant { members(first: 5) { nodes { role } } } }",
                "/data/tenant/members/nodes",
                // The owner and the four who joined.
                Shows::Count(5),
            ),
            Op::ReadMemberCount => Plan::read(
                "{ tenant { memberCount } }",
                "/data/tenant/memberCount",
                // The owner and the four who joined.
                Shows::Equals(json!(5)),
            ),
            Op::ReadInvitations => Plan::read(
                "{ tenant { invitations { nodes { id } } } }",
                "/data/tenant/invitations/nodes",
                Shows::NonEmpty,
            ),
            Op::ReadAuditLog => Plan::read(
                "{ tenant { auditLog(first: 5) { nodes { action } } } }",
                "/data/tenant/auditLog/nodes",
                Shows::NonEmpty,
            ),
            Op::ReadViewerRole => Plan::read(
                "{ viewer { role tenant { id name } } }",
                "/data/viewer/role",
                Shows::Equals(json!(actor.role())),
            ),
            Op::InviteMember => invite(format!("{}@new.test", self.fresh_name("m")), "MEMBER"),
            Op::InviteAdmin => invite(format!("{}@new.test", self.fresh_name("a")), "ADMIN"),
            Op::InviteOwner => invite(format!("{}@new.test", self.fresh_name("o")), "OWNER"),
            Op::RevokeInvitation => {
                let id = self.fresh_invitation().await;
                Plan {
                    query: "mutation($id: ID!) { revokeInvitation(id: $id) { id status } }",
                    vars: json!({ "id": id }),
                    value: "/data/revokeInvitation/status",
                    shows: Shows::Equals(json!("REVOKED")),
                    effect: Some(format!(
                        "SELECT count(*) AS n FROM invitations WHERE id = '{id}' AND revoked_at IS NOT NULL"
                    )),
                    cleanup: Vec::new(),
                }
            }
            Op::ChangeMemberRole => change_role(self.fresh_member("member").await, "VIEWER"),
            Op::GrantOwner => change_role(self.fresh_member("member").await, "OWNER"),
            Op::DemoteOwner => change_role(self.fresh_member("owner").await, "MEMBER"),
            Op::RemoveMember => remove(self.fresh_member("member").await),
            Op::RemoveOwner => remove(self.fresh_member("owner").await),
            Op::CreateApiKey => {
                let name = self.fresh_name("key");
                Plan {
                    query: CREATE_KEY,
                    vars: json!({ "i": { "name": name } }),
                    value: "/data/createApiKey/apiKey/name",
                    shows: Shows::Equals(json!(name)),
                    effect: Some(format!(
                        "SELECT count(*) AS n FROM api_keys WHERE tenant_id = '{t}' AND name = '{name}'"
                    )),
                    cleanup: Vec::new(),
                }
            }
            Op::RevokeApiKey => {
                let owner = self.creds(Actor::Owner).map(|(_, id)| id.clone());
                let id = self.fresh_key(&owner.unwrap_or_default()).await;
                Plan {
                    query: REVOKE_KEY,
                    vars: json!({ "id": id }),
                    value: "/data/revokeApiKey/state",
                    shows: Shows::Equals(json!("REVOKED")),
                    effect: Some(format!(
                        "SELECT count(*) AS n FROM api_keys WHERE id = '{id}' AND revoked_at IS NOT NULL"
                    )),
                    cleanup: Vec::new(),
                }
            }
            Op::ReadPublishableKeys => {
                self.fresh_publishable().await;
                Plan::read(
                    "{ tenant { publishableKeys { id key } } }",
                    "/data/tenant/publishableKeys",
                    Shows::NonEmpty,
                )
            }
            Op::ReadAllowedOrigins => {
                self.fresh_origin().await;
                Plan::read(
                    "{ tenant { allowedOrigins { origin } } }",
                    "/data/tenant/allowedOrigins",
                    Shows::NonEmpty,
                )
            }
            Op::CreatePublishableKey => {
                let name = self.fresh_name("pk");
                Plan {
                    query: "mutation($i: CreatePublishableKeyInput!) { createPublishableKey(input: $i) { name } }",
                    vars: json!({ "i": { "name": name } }),
                    value: "/data/createPublishableKey/name",
                    shows: Shows::Equals(json!(name)),
                    effect: Some(format!(
                        "SELECT count(*) AS n FROM publishable_keys WHERE tenant_id = '{t}' AND name = '{name}'"
                    )),
                    cleanup: vec![format!(
                        "DELETE FROM publishable_keys WHERE tenant_id = '{t}' AND name = '{name}'"
                    )],
                }
            }
            Op::RevokePublishableKey => {
                let id = self.fresh_publishable().await;
                Plan {
                    query: "mutation($id: ID!) { revokePublishableKey(id: $id) { id revokedAt } }",
                    vars: json!({ "id": id }),
                    value: "/data/revokePublishableKey/id",
                    shows: Shows::Equals(json!(id.to_string())),
                    effect: Some(format!(
                        "SELECT count(*) AS n FROM publishable_keys WHERE id = '{id}' AND revoked_at IS NOT NULL"
                    )),
                    cleanup: vec![format!("DELETE FROM publishable_keys WHERE id = '{id}'")],
                }
            }
            Op::AddAllowedOrigin => {
                let origin = format!("https://{}.example.com", self.fresh_name("add"));
                Plan {
                    query: "mutation($o: String!) { addAllowedOrigin(origin: $o) { origin } }",
                    vars: json!({ "o": origin }),
                    value: "/data/addAllowedOrigin/origin",
                    shows: Shows::Equals(json!(origin)),
                    effect: Some(format!(
                        "SELECT count(*) AS n FROM allowed_origins WHERE tenant_id = '{t}' AND origin = '{origin}'"
                    )),
                    cleanup: vec![format!(
                        "DELETE FROM allowed_origins WHERE tenant_id = '{t}' AND origin = '{origin}'"
                    )],
                }
            }
            Op::RemoveAllowedOrigin => {
                let origin = self.fresh_origin().await;
                Plan {
                    query: "mutation($o: String!) { removeAllowedOrigin(origin: $o) }",
                    vars: json!({ "o": origin }),
                    value: "/data/removeAllowedOrigin",
                    shows: Shows::Equals(json!(origin)),
                    effect: Some(format!(
                        "SELECT 1 - count(*) AS n FROM allowed_origins WHERE tenant_id = '{t}' AND origin = '{origin}'"
                    )),
                    cleanup: vec![format!(
                        "DELETE FROM allowed_origins WHERE tenant_id = '{t}' AND origin = '{origin}'"
                    )],
                }
            }
            Op::DemoteKeyMaker | Op::RemoveKeyMaker => {
                let target = self.fresh_member("admin").await;
                self.fresh_key(&target.to_string()).await;
                let mut plan = if op == Op::DemoteKeyMaker {
                    change_role(target, "MEMBER")
                } else {
                    remove(target)
                };
                // Allowed: the key goes with the role (or the membership).
                plan.effect = Some(format!(
                    "SELECT count(*) AS n FROM api_keys WHERE tenant_id = '{t}'
                     AND created_by = '{target}' AND revoked_at IS NOT NULL"
                ));
                plan
            }
            Op::RenameTenant => {
                let name = format!("Renamed {}", self.fresh_name("tenant"));
                Plan {
                    query: "mutation($i: UpdateTenantInput!) { updateTenant(input: $i) { name } }",
                    vars: json!({ "i": { "name": name } }),
                    value: "/data/updateTenant/name",
                    shows: Shows::Equals(json!(name)),
                    effect: Some(format!(
                        "SELECT count(*) AS n FROM tenants WHERE id = '{t}' AND name = '{name}'"
                    )),
                    cleanup: vec![format!(
                        "UPDATE tenants SET name = '{TENANT_NAME}' WHERE id = '{t}' AND name <> '{TENANT_NAME}'"
                    )],
                }
            }
            Op::LeaveTenant => Plan {
                query: LEAVE,
                vars: json!({}),
                value: "/data/leaveTenant",
                shows: Shows::Equals(json!(true)),
                effect: Some(format!(
                    "SELECT count(*) AS n FROM memberships WHERE tenant_id = '{t}'"
                )),
                // Whoever left comes back with the same role.
                cleanup: match (actor.role(), self.creds(actor)) {
                    (Some(role), Some((_, id))) => vec![format!(
                        "INSERT INTO memberships (tenant_id, user_id, role)
                         VALUES ('{t}', '{id}', '{}') ON CONFLICT DO NOTHING",
                        role.to_lowercase()
                    )],
                    _ => Vec::new(),
                },
            },
            Op::ReadPlans => Plan::read("{ plans { key } }", "/data/plans", Shows::Count(4)),
            Op::ReadDataExports => Plan::read(
                "{ tenant { dataExports(first: 5) { nodes { id status } } } }",
                "/data/tenant/dataExports/nodes",
                Shows::Count(0),
            ),
            Op::RequestDataExport => Plan {
                query: "mutation { requestDataExport { status kind } }",
                vars: json!({}),
                value: "/data/requestDataExport/status",
                shows: Shows::Equals(json!("QUEUED")),
                effect: Some(format!(
                    "SELECT count(*) AS n FROM data_exports WHERE tenant_id = '{t}'"
                )),
                cleanup: vec![format!("DELETE FROM data_exports WHERE tenant_id = '{t}'")],
            },
            Op::ReadMyDataExports => Plan::read(
                "{ viewer { dataExports { nodes { id } } } }",
                "/data/viewer/dataExports/nodes",
                Shows::Count(0),
            ),
            Op::RequestMyDataExport => Plan {
                query: "mutation { requestMyDataExport { status kind } }",
                vars: json!({}),
                value: "/data/requestMyDataExport/status",
                shows: Shows::Equals(json!("QUEUED")),
                effect: None,
                cleanup: vec!["DELETE FROM data_exports WHERE tenant_id IS NULL".to_owned()],
            },
            Op::ReadQuotas => Plan::read(
                "{ tenant { quotas { metric used limit } } }",
                "/data/tenant/quotas",
                Shows::Count(0),
            ),
            Op::ReadUsage => Plan::read(
                "{ tenant { usage(metric: \"api_calls\", from: \"2026-11-01T00:00:00Z\", to: \"2026-11-02T00:00:00Z\", granularity: DAY) { points { value } } } }",
                "/data/tenant/usage/points",
                Shows::Count(1),
            ),
            Op::ReadUsageByKey => Plan::read(
                "{ tenant { usage(metric: \"api_calls\", from: \"2026-11-01T00:00:00Z\", to: \"2026-11-02T00:00:00Z\", granularity: DAY, groupBy: KEY) { groups { total } } } }",
                "/data/tenant/usage/groups",
                Shows::Count(0),
            ),
            Op::ReadKeyUsage => {
                let owner = self.creds(Actor::Owner).map(|(_, id)| id.clone());
                self.fresh_key(&owner.unwrap_or_default()).await;
                Plan::read(
                    "{ tenant { apiKeys(first: 1) { nodes { usage(metric: \"api_calls\", from: \"2026-11-01T00:00:00Z\", to: \"2026-11-02T00:00:00Z\", granularity: DAY) { total } } } } }",
                    "/data/tenant/apiKeys/nodes/0/usage/total",
                    Shows::Equals(json!(0)),
                )
            }
            Op::ReadAdminUsage => Plan::read(
                "{ admin { usage(metric: \"api_calls\", from: \"2026-11-01T00:00:00Z\", to: \"2026-11-02T00:00:00Z\", granularity: DAY) { total } \
                 topConsumers(metric: \"api_calls\", from: \"2026-11-01T00:00:00Z\", to: \"2026-11-02T00:00:00Z\") { total } stats { apiCallsToday eventsToday } } }",
                "/data/admin",
                Shows::NonEmpty,
            ),
            Op::ReadBilling => Plan::read(
                "{ tenant { billing { configured subscription { status } } } }",
                "/data/tenant/billing/configured",
                Shows::Equals(json!(false)),
            ),
            Op::StartCheckout => Plan::read(
                "mutation { createCheckoutSession(planKey: \"pro\", interval: MONTH) { url } }",
                "/data/createCheckoutSession/url",
                Shows::NonEmpty,
            ),
            Op::OpenBillingPortal => Plan::read(
                "mutation { createBillingPortalSession { url } }",
                "/data/createBillingPortalSession/url",
                Shows::NonEmpty,
            ),
            Op::ChangeSubscriptionPlan => Plan::read(
                "mutation { changePlan(planKey: \"basic\", interval: YEAR) { status } }",
                "/data/changePlan/status",
                Shows::NonEmpty,
            ),
            Op::CancelSubscription => Plan::read(
                "mutation { cancelSubscription(atPeriodEnd: false) { status } }",
                "/data/cancelSubscription/status",
                Shows::NonEmpty,
            ),
            Op::ResumeSubscription => Plan::read(
                "mutation { resumeSubscription { status } }",
                "/data/resumeSubscription/status",
                Shows::NonEmpty,
            ),
            Op::ReadCustomDomain | Op::VerifyCustomDomain | Op::RemoveCustomDomain => {
                let domain = format!("claim-{}.matrix-domain.test", self.fresh);
                self.fresh += 1;
                exec(
                    &mut self.db,
                    &format!(
                        "INSERT INTO tenant_domains (tenant_id, domain, token) VALUES \
                         ('{t}', '{domain}', 'tg-verify-{}')",
                        "m".repeat(40)
                    ),
                )
                .await;
                let cleanup = vec![format!(
                    "DELETE FROM tenant_domains WHERE tenant_id = '{t}'"
                )];
                match op {
                    Op::ReadCustomDomain => Plan {
                        cleanup,
                        ..Plan::read(
                            "{ tenant { customDomain { domain } } }",
                            "/data/tenant/customDomain/domain",
                            Shows::Equals(json!(domain)),
                        )
                    },
                    Op::VerifyCustomDomain => Plan {
                        query: "mutation { verifyCustomDomain { status } }",
                        vars: json!({}),
                        value: "/data/verifyCustomDomain/status",
                        shows: Shows::Equals(json!("FAILED")),
                        effect: Some(format!(
                            "SELECT count(*) AS n FROM tenant_domains WHERE tenant_id = '{t}' \
                             AND last_checked_at IS NOT NULL"
                        )),
                        cleanup,
                    },
                    _ => Plan {
                        query: "mutation { removeCustomDomain }",
                        vars: json!({}),
                        value: "/data/removeCustomDomain",
                        shows: Shows::Equals(json!(true)),
                        effect: Some(format!(
                            "SELECT count(*) AS n FROM tenant_domains WHERE tenant_id = '{t}'"
                        )),
                        cleanup,
                    },
                }
            }
            Op::SetCustomDomain => {
                let domain = format!("set-{}.matrix-domain.test", self.fresh);
                self.fresh += 1;
                Plan {
                    query: "mutation($d: String!) { setCustomDomain(domain: $d) { domain } }",
                    vars: json!({ "d": domain }),
                    value: "/data/setCustomDomain/domain",
                    shows: Shows::Equals(json!(domain)),
                    effect: Some(format!(
                        "SELECT count(*) AS n FROM tenant_domains WHERE tenant_id = '{t}' \
                         AND domain = '{domain}'"
                    )),
                    cleanup: vec![format!(
                        "DELETE FROM tenant_domains WHERE tenant_id = '{t}'"
                    )],
                }
            }
            Op::ReadHostTenant => Plan::read(
                "{ hostTenant { id name } }",
                "/data/hostTenant",
                Shows::Equals(Value::Null),
            ),
            Op::ReadTenantPlan => Plan::read(
                "{ tenant { plan { key limits { members } } } }",
                "/data/tenant/plan/key",
                Shows::Equals(json!(MATRIX_PLAN)),
            ),
            Op::BrandTenant => {
                let color = format!("#{:06x}", self.fresh);
                self.fresh += 1;
                Plan {
                    query: "mutation($c: String!) { updateTenant(input: { branding: { primaryColor: $c } }) { branding { primaryColor } } }",
                    vars: json!({ "c": color }),
                    value: "/data/updateTenant/branding/primaryColor",
                    shows: Shows::Equals(json!(color)),
                    effect: Some(format!(
                        "SELECT count(*) AS n FROM tenants WHERE id = '{t}' AND branding->>'primaryColor' = '{color}'"
                    )),
                    cleanup: vec![format!(
                        "UPDATE tenants SET branding = '{{}}' WHERE id = '{t}' AND branding <> '{{}}'"
                    )],
                }
            }
            Op::ReadAdminPlans => Plan::read(
                "{ admin { plans { key stripeMonthlyPriceId } } }",
                "/data/admin/plans",
                Shows::NonEmpty,
            ),
            Op::CreatePlan => {
                let key = format!("matrix_{}", self.fresh);
                self.fresh += 1;
                Plan {
                    query: "mutation($k: String!) { createPlan(input: { key: $k, name: \"Matrix\", monthlyPrice: 100, limits: { members: 3, apiCallsPerHour: 10 } }) { key } }",
                    vars: json!({ "k": key }),
                    value: "/data/createPlan/key",
                    shows: Shows::Equals(json!(key)),
                    effect: Some(format!(
                        "SELECT count(*) AS n FROM plans WHERE key = '{key}'"
                    )),
                    cleanup: vec![format!("DELETE FROM plans WHERE key = '{key}'")],
                }
            }
            Op::RecordUsage => {
                let idem = self.fresh_name("usage");
                Plan {
                    query: "mutation($e: [UsageEventInput!]!) { recordUsage(events: $e) { recorded } }",
                    vars: json!({ "e": [{ "metric": "api_calls", "quantity": 1,
                                          "occurredAt": chrono::Utc::now().to_rfc3339(),
                                          "idempotencyKey": idem }] }),
                    value: "/data/recordUsage/recorded",
                    shows: Shows::Equals(json!(1)),
                    effect: Some(format!(
                        "SELECT count(*) AS n FROM usage_events WHERE tenant_id = '{t}' AND idempotency_key = '{idem}'"
                    )),
                    cleanup: Vec::new(),
                }
            }
            Op::ExportAuditLog => Plan {
                query: "",
                vars: json!({}),
                value: "/data/export",
                shows: Shows::NonEmpty,
                effect: Some(format!(
                    "SELECT count(*) AS n FROM audit_log WHERE tenant_id = '{t}'
                     AND action = 'audit_log.export'"
                )),
                cleanup: Vec::new(),
            },
            Op::CreateMetric => {
                let key = format!("matrix_{}", self.fresh);
                self.fresh += 1;
                Plan {
                    query: "mutation($k: String!) { createMetric(input: { key: $k, name: \"Matrix\", unit: \"things\", aggregation: SUM }) { key } }",
                    vars: json!({ "k": key }),
                    value: "/data/createMetric/key",
                    shows: Shows::Equals(json!(key)),
                    effect: Some(format!(
                        "SELECT count(*) AS n FROM metrics WHERE key = '{key}'"
                    )),
                    cleanup: vec![format!("DELETE FROM metrics WHERE key = '{key}'")],
                }
            }
            Op::UpdatePlan => Plan {
                query: "mutation { updatePlan(key: \"basic\", input: { name: \"Matrix Basic\" }) { name } }",
                vars: json!({}),
                value: "/data/updatePlan/name",
                shows: Shows::Equals(json!("Matrix Basic")),
                effect: Some(
                    "SELECT count(*) AS n FROM plans WHERE name = 'Matrix Basic'".to_owned(),
                ),
                cleanup: vec![
                    "UPDATE plans SET name = 'Basic' WHERE key = 'basic' AND name <> 'Basic'"
                        .to_owned(),
                ],
            },
            Op::SetTenantPlan => Plan {
                query: "mutation($t: ID!) { setTenantPlan(tenantId: $t, planKey: \"enterprise\") { planKey } }",
                vars: json!({ "t": t }),
                value: "/data/setTenantPlan/planKey",
                shows: Shows::Equals(json!("enterprise")),
                effect: Some(format!(
                    "SELECT count(*) AS n FROM tenants WHERE id = '{t}' AND plan_key = 'enterprise'"
                )),
                cleanup: vec![format!(
                    "UPDATE tenants SET plan_key = '{MATRIX_PLAN}' WHERE id = '{t}' AND plan_key <> '{MATRIX_PLAN}'"
                )],
            },
            Op::DeleteTenant | Op::CancelTenantDeletion => {
                let restore = format!(
                    "UPDATE tenants SET status = 'active', status_reason = NULL,
                       deletion_requested_at = NULL, deletion_requested_by = NULL,
                       purge_after = NULL WHERE id = '{t}' AND status <> 'active'"
                );
                // Every session signed in just now (the rule wants a sign-in of
                // the last 5 minutes; `erasure.rs` tests it).
                exec(&mut self.db, "UPDATE sessions SET created_at = now()").await;
                if op == Op::CancelTenantDeletion {
                    exec(
                        &mut self.db,
                        &format!(
                            "UPDATE tenants SET status = 'pending_deletion',
                               status_reason = 'deletion requested', deletion_requested_at = now(),
                               purge_after = now() + interval '14 days' WHERE id = '{t}'"
                        ),
                    )
                    .await;
                }
                let slug = text(
                    &mut self.db,
                    &format!("SELECT slug AS s FROM tenants WHERE id = '{t}'"),
                )
                .await;
                let (query, vars, value, shows, effect) = if op == Op::DeleteTenant {
                    (
                        "mutation($s: String!) { deleteTenant(confirmSlug: $s) { status } }",
                        json!({ "s": slug }),
                        "/data/deleteTenant/status",
                        "PENDING_DELETION",
                        format!(
                            "SELECT count(*) AS n FROM tenants WHERE id = '{t}' AND status = 'pending_deletion'"
                        ),
                    )
                } else {
                    (
                        "mutation { cancelTenantDeletion { status } }",
                        json!({}),
                        "/data/cancelTenantDeletion/status",
                        "ACTIVE",
                        format!(
                            "SELECT count(*) AS n FROM tenants WHERE id = '{t}' AND status = 'active'"
                        ),
                    )
                };
                Plan {
                    query,
                    vars,
                    value,
                    shows: Shows::Equals(json!(shows)),
                    effect: Some(effect),
                    cleanup: vec![restore],
                }
            }
            Op::ReadWebhookEventTypes => Plan::read(
                "{ webhookEventTypes }",
                "/data/webhookEventTypes",
                Shows::NonEmpty,
            ),
            Op::CreateWebhookEndpoint => {
                let url = format!("https://hooks.example.com/{}", self.fresh_name("new"));
                Plan {
                    query: "mutation($u: String!) { createWebhookEndpoint(input: { url: $u }) { endpoint { url } } }",
                    vars: json!({ "u": url }),
                    value: "/data/createWebhookEndpoint/endpoint/url",
                    shows: Shows::Equals(json!(url)),
                    effect: Some(format!(
                        "SELECT count(*) AS n FROM webhook_endpoints WHERE tenant_id = '{t}' AND url = '{url}'"
                    )),
                    cleanup: vec![format!(
                        "DELETE FROM webhook_endpoints WHERE tenant_id = '{t}'"
                    )],
                }
            }
            Op::ReadWebhookEndpoints
            | Op::ReadWebhookDeliveries
            | Op::UpdateWebhookEndpoint
            | Op::DeleteWebhookEndpoint
            | Op::RotateWebhookSecret
            | Op::ReplayWebhookDelivery
            | Op::SendTestWebhook => {
                let (endpoint, delivery) = self.fresh_webhook().await;
                let description = self.fresh_name("described");
                let cleanup = vec![format!(
                    "DELETE FROM webhook_endpoints WHERE tenant_id = '{t}'"
                )];
                let count = |sql: String| Some(format!("SELECT count(*) AS n FROM {sql}"));
                let (query, vars, value, shows, effect) = match op {
                    Op::ReadWebhookEndpoints => (
                        "{ tenant { webhookEndpoints { id url droppedEvents lastDroppedAt } } }",
                        json!({}),
                        "/data/tenant/webhookEndpoints",
                        Shows::Count(1),
                        None,
                    ),
                    Op::ReadWebhookDeliveries => (
                        "query($id: ID!) { tenant { webhookEndpoint(id: $id) { deliveries(first: 5) { nodes { eventType status attempts { statusCode } } } } } }",
                        json!({ "id": endpoint }),
                        "/data/tenant/webhookEndpoint/deliveries/nodes",
                        Shows::Count(1),
                        None,
                    ),
                    Op::UpdateWebhookEndpoint => (
                        "mutation($id: ID!, $d: String!) { updateWebhookEndpoint(input: { id: $id, description: $d }) { description } }",
                        json!({ "id": endpoint, "d": description }),
                        "/data/updateWebhookEndpoint/description",
                        Shows::Equals(json!(description)),
                        count(format!(
                            "webhook_endpoints WHERE id = '{endpoint}' AND description = '{description}'"
                        )),
                    ),
                    Op::DeleteWebhookEndpoint => (
                        "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { id } }",
                        json!({ "id": endpoint }),
                        "/data/deleteWebhookEndpoint/id",
                        Shows::Equals(json!(endpoint.to_string())),
                        count(format!("webhook_endpoints WHERE id = '{endpoint}'")),
                    ),
                    Op::RotateWebhookSecret => (
                        "mutation($id: ID!) { rotateWebhookSecret(id: $id) { endpoint { id } } }",
                        json!({ "id": endpoint }),
                        "/data/rotateWebhookSecret/endpoint/id",
                        Shows::Equals(json!(endpoint.to_string())),
                        count(format!(
                            "webhook_endpoints WHERE id = '{endpoint}' AND previous_secret_sealed IS NOT NULL"
                        )),
                    ),
                    Op::ReplayWebhookDelivery => (
                        "mutation($id: ID!) { replayWebhookDelivery(id: $id) { replayOf } }",
                        json!({ "id": delivery }),
                        "/data/replayWebhookDelivery/replayOf",
                        Shows::Equals(json!(delivery.to_string())),
                        count(format!("webhook_deliveries WHERE replay_of = '{delivery}'")),
                    ),
                    _ => (
                        "mutation($id: ID!) { sendTestWebhook(id: $id) { eventType } }",
                        json!({ "id": endpoint }),
                        "/data/sendTestWebhook/eventType",
                        Shows::Equals(json!("webhook.test")),
                        count(format!(
                            "webhook_deliveries WHERE endpoint_id = '{endpoint}'"
                        )),
                    ),
                };
                Plan {
                    query,
                    vars,
                    value,
                    shows,
                    effect,
                    cleanup,
                }
            }
            Op::SuspendTenant | Op::ReactivateTenant => {
                let suspend = op == Op::SuspendTenant;
                Plan {
                    query: if suspend {
                        "mutation($id: ID!) { suspendTenant(id: $id, reason: \"matrix\") { status } }"
                    } else {
                        "mutation($id: ID!) { reactivateTenant(id: $id) { status } }"
                    },
                    vars: json!({ "id": t }),
                    value: if suspend {
                        "/data/suspendTenant/status"
                    } else {
                        "/data/reactivateTenant/status"
                    },
                    shows: Shows::Equals(json!(if suspend { "SUSPENDED" } else { "ACTIVE" })),
                    effect: Some(format!(
                        "SELECT count(*) AS n FROM audit_log WHERE tenant_id = '{t}'"
                    )),
                    cleanup: vec![format!(
                        "UPDATE tenants SET status = 'active', status_reason = NULL
                         WHERE id = '{t}' AND status <> 'active'"
                    )],
                }
            }
        }
    }

    /// Runs one cell of the matrix; `Err` says how the answer disagrees.
    async fn check(&mut self, op: Op, actor: Actor, expect: Expect) -> Result<(), String> {
        let plan = self.plan(op, actor).await;
        let before = self.fingerprint().await;
        let effect_before = match &plan.effect {
            Some(sql) => count(&mut self.db, sql).await,
            None => 0,
        };
        let answer = if op == Op::ExportAuditLog {
            self.export(actor).await
        } else {
            self.call(actor, plan.query, plan.vars.clone()).await
        };
        let changed = self.fingerprint().await != before;
        let took_effect = match &plan.effect {
            Some(sql) => count(&mut self.db, sql).await != effect_before,
            None => false,
        };
        let seen = Seen {
            answer: &answer,
            changed,
            took_effect,
        };
        let verdict = self.judge(op, actor, expect, &plan, &seen);
        for sql in &plan.cleanup {
            exec(&mut self.db, sql).await;
        }
        verdict.map_err(|why| format!("{why}\n      answer: {} {}", answer.status, answer.body))
    }

    fn judge(
        &self,
        op: Op,
        actor: Actor,
        expect: Expect,
        plan: &Plan,
        seen: &Seen<'_>,
    ) -> Result<(), String> {
        let &Seen {
            answer,
            changed,
            took_effect,
        } = seen;
        if answer.status >= 500 {
            return Err(format!("status {}", answer.status));
        }
        if matches!(actor, Actor::Anonymous | Actor::Outsider) {
            let body = answer.body.to_string();
            if let Some(secret) = self.secrets.iter().find(|s| body.contains(s.as_str())) {
                return Err(format!("the answer shows {secret:?} of the tenant"));
            }
        }
        let value = answer.body.pointer(plan.value).unwrap_or(&Value::Null);
        let message = answer.body["errors"][0]["message"].as_str().unwrap_or("");
        match expect {
            Expect::Allowed => {
                if !no_errors(answer) {
                    return Err(format!("refused with {}", answer.code()));
                }
                let shown = match &plan.shows {
                    Shows::Equals(v) => value == v,
                    Shows::Count(n) => value.as_array().is_some_and(|a| a.len() == *n),
                    Shows::NonEmpty => value.as_array().is_some_and(|a| !a.is_empty()),
                };
                if !shown {
                    return Err(format!("unexpected value at {}: {value}", plan.value));
                }
                // The fingerprint must see every allowed change, or its silence
                // on refused attempts would prove nothing.
                if plan.effect.is_some() && !(took_effect && changed) {
                    return Err(format!(
                        "answered, but the change is not in the database \
                         (effect: {took_effect}, fingerprint changed: {changed})"
                    ));
                }
                if plan.effect.is_none() && changed {
                    return Err("a read changed the tenant".into());
                }
            }
            Expect::Null => {
                if !no_errors(answer) || !value.is_null() || changed {
                    return Err(format!(
                        "expected a null {} and no error (changed: {changed})",
                        plan.value
                    ));
                }
            }
            Expect::Refused(code) => {
                if answer.code() != code {
                    return Err(format!("got code {}", answer.code()));
                }
                if !value.is_null() {
                    return Err(format!("refused, yet answered {value}"));
                }
                if changed || took_effect {
                    return Err("refused, yet the tenant changed".into());
                }
                let reason = if op.is_platform_only() && actor != Actor::Anonymous {
                    "platform admin"
                } else if actor == Actor::Outsider {
                    "no active tenant"
                } else {
                    ""
                };
                if !message.contains(reason) {
                    return Err(format!("the message should say {reason:?}"));
                }
            }
        }
        Ok(())
    }
}

#[tokio::test]
async fn every_role_gets_what_the_matrix_says() {
    let mut m = Matrix::seed().await;
    let mut failures = Vec::new();
    let mut cells = 0;
    for (op, row) in MATRIX {
        for (actor, expect) in ACTORS.into_iter().zip(*row) {
            cells += 1;
            if let Err(why) = m.check(*op, actor, expect).await {
                failures.push(format!("  {op:?} as {actor:?}, expected {expect:?}: {why}"));
            }
        }
    }
    assert_eq!(cells, 70 * 7, "every operation has a row");
    assert!(
        failures.is_empty(),
        "{} of {cells} cells disagree with the role matrix:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The matrix left the tenant as it found it: five members, one owner.
    let t = &m.tenant;
    assert_eq!(
        count(
            &mut m.db,
            &format!("SELECT count(*) AS n FROM memberships WHERE tenant_id = '{t}'")
        )
        .await,
        5
    );
}

/// The owners of tenant `t`, as the database owner sees them.
async fn owners(conn: &mut AsyncPgConnection, t: &str) -> i64 {
    count(
        conn,
        &format!(
            "SELECT count(*) AS n FROM memberships WHERE tenant_id = '{t}' AND role = 'owner'"
        ),
    )
    .await
}

async fn role_of(conn: &mut AsyncPgConnection, t: &str, user: &str) -> String {
    text(
        conn,
        &format!(
            "SELECT coalesce((SELECT role FROM memberships WHERE tenant_id = '{t}' AND user_id = '{user}'), 'none') AS s"
        ),
    )
    .await
}

#[tokio::test]
async fn nobody_grants_above_their_own_role_and_a_tenant_keeps_an_owner() {
    let app = TestApp::spawn().await;
    let mut db = app.db.owner().await;
    let (owner, owner_id, t) = app.sign_up("first@keep.test", "Keep An Owner").await;
    let (admin, admin_id) = join(&app, &mut db, &owner, "admin@keep.test", "ADMIN").await;
    let (member, member_id) = join(&app, &mut db, &owner, "member@keep.test", "MEMBER").await;
    let ask = |token: String, query: &'static str, vars: Value| {
        let (app, t) = (&app, t.clone());
        async move { call(app, Some(&token), Some(&t), query, vars).await }
    };

    // Nobody grants above their own role, themselves included.
    let attempts = [
        (
            &admin,
            UPDATE_ROLE,
            json!({ "u": member_id, "r": "OWNER" }),
            "FORBIDDEN",
        ),
        (
            &admin,
            UPDATE_ROLE,
            json!({ "u": admin_id, "r": "OWNER" }),
            "FORBIDDEN",
        ),
        (
            &admin,
            UPDATE_ROLE,
            json!({ "u": owner_id, "r": "ADMIN" }),
            "FORBIDDEN",
        ),
        (&admin, REMOVE, json!({ "u": owner_id }), "FORBIDDEN"),
        (
            &admin,
            INVITE,
            json!({ "i": { "email": "boss@keep.test", "role": "OWNER" } }),
            "FORBIDDEN",
        ),
        (
            &member,
            UPDATE_ROLE,
            json!({ "u": member_id, "r": "ADMIN" }),
            "FORBIDDEN",
        ),
        (
            &member,
            INVITE,
            json!({ "i": { "email": "peer@keep.test", "role": "MEMBER" } }),
            "FORBIDDEN",
        ),
        // The only owner can neither step down nor go.
        (
            &owner,
            UPDATE_ROLE,
            json!({ "u": owner_id, "r": "ADMIN" }),
            "CONFLICT",
        ),
        (&owner, REMOVE, json!({ "u": owner_id }), "CONFLICT"),
        (&owner, LEAVE, json!({}), "CONFLICT"),
    ];
    for (token, query, vars, code) in attempts {
        let a = ask(token.clone(), query, vars.clone()).await;
        assert_eq!(a.code(), code, "{query} {vars}: {:?}", a.body);
        assert_eq!(
            role_of(&mut db, &t, &owner_id).await,
            "owner",
            "{query} {vars}"
        );
        assert_eq!(
            role_of(&mut db, &t, &admin_id).await,
            "admin",
            "{query} {vars}"
        );
        assert_eq!(
            role_of(&mut db, &t, &member_id).await,
            "member",
            "{query} {vars}"
        );
        assert_eq!(
            count(&mut db, &format!("SELECT count(*) AS n FROM invitations WHERE tenant_id = '{t}' AND accepted_at IS NULL")).await,
            0,
            "{query} {vars} sent an invitation"
        );
    }

    // With two owners, either may step down or leave; the last one never can.
    let a = ask(
        owner.clone(),
        UPDATE_ROLE,
        json!({ "u": admin_id, "r": "OWNER" }),
    )
    .await;
    assert!(no_errors(&a), "promoting the admin: {:?}", a.body);
    assert_eq!(owners(&mut db, &t).await, 2);
    let a = ask(
        owner.clone(),
        UPDATE_ROLE,
        json!({ "u": owner_id, "r": "ADMIN" }),
    )
    .await;
    assert!(
        no_errors(&a),
        "stepping down beside another owner: {:?}",
        a.body
    );
    assert_eq!(role_of(&mut db, &t, &owner_id).await, "admin");
    // Now the former admin is the only owner.
    for (query, vars) in [
        (UPDATE_ROLE, json!({ "u": admin_id, "r": "MEMBER" })),
        (LEAVE, json!({})),
    ] {
        let a = ask(admin.clone(), query, vars.clone()).await;
        assert_eq!(
            a.code(),
            "CONFLICT",
            "last owner {query} {vars}: {:?}",
            a.body
        );
        assert_eq!(role_of(&mut db, &t, &admin_id).await, "owner");
    }
    // And the demoted first owner (an admin now) cannot take ownership back.
    let a = ask(
        owner.clone(),
        UPDATE_ROLE,
        json!({ "u": owner_id, "r": "OWNER" }),
    )
    .await;
    assert_eq!(a.code(), "FORBIDDEN", "{:?}", a.body);
    let a = ask(
        admin.clone(),
        UPDATE_ROLE,
        json!({ "u": owner_id, "r": "OWNER" }),
    )
    .await;
    assert!(no_errors(&a), "giving ownership back: {:?}", a.body);
    let a = ask(admin.clone(), LEAVE, json!({})).await;
    assert!(
        no_errors(&a),
        "an owner beside another owner leaves: {:?}",
        a.body
    );
    assert_eq!(role_of(&mut db, &t, &admin_id).await, "none");
    assert_eq!(owners(&mut db, &t).await, 1);
    assert_eq!(role_of(&mut db, &t, &owner_id).await, "owner");
}
