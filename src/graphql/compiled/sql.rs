//! From a [`Tree`] to one SQL statement that returns the whole response body
//! (`{"data":…}`) as text, in the executor's exact JSON: selection order,
//! aliases, enum names, RFC 3339 times as chrono writes them, cursors as
//! `graphql::cursor` encodes them.
//!
//! The statement sets the request's tenant and user (transaction-local, as
//! [`crate::tenancy::Scope::tenant_user`] does) in an outer row computed
//! first; the session check and every list are correlated subqueries of that
//! row, so they run after it, under row-level security (the same shape as the
//! ceiling of `bench/dashboard.sh`). When the check fails (session ended,
//! not a member, tenant suspended, a billing member reading lists, a session
//! bound to another tenant) the body is NULL and the request runs on the
//! executor, which words the error.

use async_graphql::EnumType;

use super::plan::{Field, Leaf, List, ListKind, Sel, Tree};
use crate::db::compiled::Piece;
use crate::graphql::types::api_key::{KeyEnvironment, Scope, State};
use crate::graphql::types::tenant::TenantStatus;
use crate::graphql::types::viewer::Role;

/// What a bind parameter of the statement carries, filled per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// The tenant id, as text (for `set_config`).
    Tenant,
    /// The user id, as text.
    User,
    /// The session id.
    Session,
    /// List `n`'s page size plus one (the extra row says there is a next page).
    PagePlusOne(usize),
    /// List `n`'s `after` cursor: time, id (NULL without one).
    AfterAt(usize),
    AfterId(usize),
    /// Whether list `n` was given a cursor.
    HasPrevious(usize),
    /// This instance's last key uses not yet written: ids and times.
    PendingIds,
    PendingAts,
}

/// The statement of a tree: its pieces and the slot of each bind.
pub struct Generated {
    pub pieces: Vec<Piece>,
    pub slots: Vec<Slot>,
    /// The lists in slot order (the numbers of `PagePlusOne(n)` …).
    pub lists: Vec<List>,
}

struct Gen {
    pieces: Vec<Piece>,
    slots: Vec<Slot>,
    lists: Vec<List>,
    text: String,
}

impl Gen {
    fn sql(&mut self, s: &str) {
        self.text.push_str(s);
    }

    fn bind(&mut self, slot: Slot) {
        let text = std::mem::take(&mut self.text);
        self.pieces.push(Piece::Sql(text));
        self.pieces.push(Piece::Bind(self.slots.len()));
        self.slots.push(slot);
    }

    /// `'{"a":' || <a> || ',"b":' || <b> || '}'`.
    fn object(&mut self, sels: &[Sel], ctx: Ctx) {
        for (i, sel) in sels.iter().enumerate() {
            let open = if i == 0 { "{" } else { "," };
            // Response keys are GraphQL names: [_A-Za-z][_0-9A-Za-z]*, nothing
            // to escape in JSON or SQL.
            self.sql(&format!("'{open}\"{}\":' || ", sel.key));
            self.value(&sel.field, ctx);
            self.sql(" || ");
        }
        self.sql("'}'");
    }

    fn value(&mut self, field: &Field, ctx: Ctx) {
        match field {
            Field::Typename(name) => self.sql(&format!("'\"{name}\"'")),
            Field::Leaf(leaf) => self.leaf(*leaf, ctx),
            Field::Tenant(sels) => self.sql_object_in(sels, Ctx::Tenant),
            Field::List(list) => self.list(list),
            Field::Edges(_) | Field::Nodes(_) => {
                let Ctx::Page(n) = ctx else { unreachable!() };
                let column = self.row_json_column(n, field);
                self.sql(&format!("'[' || coalesce(a.{column}, '') || ']'"));
            }
            Field::PageInfo(sels) | Field::Node(sels) | Field::User(sels) => {
                self.sql_object_in(sels, ctx)
            }
            Field::RateLimit(sels) => {
                self.sql("CASE WHEN r.rate_limit IS NULL OR r.rate_limit_period IS NULL THEN 'null' ELSE ");
                self.object(sels, ctx);
                self.sql(" END");
            }
        }
    }

    fn sql_object_in(&mut self, sels: &[Sel], ctx: Ctx) {
        self.sql("(");
        self.object(sels, ctx);
        self.sql(")");
    }

    /// The column of level `x` that holds the rows' JSON for `field` (an
    /// `edges` or `nodes` selection of list `n`), numbered in order.
    fn row_json_column(&mut self, n: usize, field: &Field) -> String {
        let columns = self.columns_of(n);
        let index = columns.iter().position(|f| f == field).unwrap_or(0);
        format!("j{index}")
    }

    fn columns_of(&self, n: usize) -> Vec<Field> {
        self.lists[n]
            .sels
            .iter()
            .filter(|s| matches!(s.field, Field::Edges(_) | Field::Nodes(_)))
            .map(|s| s.field.clone())
            .collect()
    }

    /// A list: `(SELECT '{…}' FROM (aggregates) a)` over `x` (a row's JSON
    /// per selection of rows) over `r` (the page, one row more than asked).
    fn list(&mut self, list: &List) {
        let n = self.lists.len();
        self.lists.push(list.clone());
        let per_row: Vec<Field> = self.columns_of(n);
        let cursors = uses_cursor(&list.sels);
        let (order, users) = match list.kind {
            ListKind::Members => ("r.created_at, r.user_id", uses_user(&list.sels)),
            ListKind::ApiKeys => ("r.created_at, r.id", false),
        };
        self.sql("(SELECT ");
        self.object(&list.sels, Ctx::Page(n));
        self.sql(" FROM (SELECT count(*) AS n");
        for (i, _) in per_row.iter().enumerate() {
            self.sql(&format!(
                ", string_agg(x.j{i}, ',' ORDER BY x.rn) FILTER (WHERE x.rn < "
            ));
            self.bind(Slot::PagePlusOne(n));
            self.sql(&format!(") AS j{i}"));
        }
        if cursors {
            self.sql(", array_agg(x.cur ORDER BY x.rn) AS curs");
        }
        self.sql(&format!(
            " FROM (SELECT row_number() OVER (ORDER BY {order}) AS rn"
        ));
        for (i, field) in per_row.iter().enumerate() {
            self.sql(", ");
            match field {
                Field::Edges(sels) => self.object(sels, Ctx::Row),
                Field::Nodes(sels) => self.object(sels, Ctx::Row),
                _ => unreachable!(),
            }
            self.sql(&format!(" AS j{i}"));
        }
        if cursors {
            self.sql(", r.cur");
        }
        self.sql(" FROM (SELECT ");
        let (table, id) = match list.kind {
            ListKind::Members => {
                self.sql("m.user_id, m.role, m.created_at");
                if users {
                    self.sql(
                        ", u.id AS u_id, u.email AS u_email, u.email_verified_at AS u_verified, \
                         u.created_at AS u_created",
                    );
                }
                ("memberships m", "m.user_id")
            }
            ListKind::ApiKeys => {
                self.sql(
                    "m.id, m.name, m.environment, m.display_prefix, m.scopes, m.rate_limit, \
                     m.rate_limit_period, m.expires_at, m.revoked_at, m.previous_valid_until, \
                     m.created_by, m.created_at",
                );
                if uses_leaf(&list.sels, Leaf::KeyLastUsedAt) {
                    self.sql(", greatest(m.last_used_at, (SELECT max(p.at) FROM unnest(");
                    self.bind(Slot::PendingIds);
                    self.sql("::uuid[], ");
                    self.bind(Slot::PendingAts);
                    self.sql("::timestamptz[]) AS p(id, at) WHERE p.id = m.id)) AS last_used");
                }
                ("api_keys m", "m.id")
            }
        };
        if cursors {
            self.sql(&format!(
                ", rtrim(translate(encode(convert_to('v1:' || \
                 (extract(epoch FROM m.created_at) * 1000000)::bigint || ':' || {id}, 'UTF8'), \
                 'base64'), E'+/\\n', '-_'), '=') AS cur"
            ));
        }
        self.sql(&format!(" FROM {table}"));
        if users {
            self.sql(" JOIN users u ON u.id = m.user_id");
        }
        self.sql(" WHERE m.tenant_id = t.id AND (");
        self.bind(Slot::AfterAt(n));
        self.sql("::timestamptz IS NULL OR (m.created_at, ");
        self.sql(id);
        self.sql(") > (");
        self.bind(Slot::AfterAt(n));
        self.sql("::timestamptz, ");
        self.bind(Slot::AfterId(n));
        self.sql(&format!("::uuid)) ORDER BY m.created_at, {id} LIMIT "));
        self.bind(Slot::PagePlusOne(n));
        self.sql(") r) x) a)");
    }

    fn leaf(&mut self, leaf: Leaf, ctx: Ctx) {
        use Leaf::*;
        let s = match leaf {
            TenantId => uuid("t.id"),
            TenantName => text("t.name"),
            TenantSlug => text("t.slug"),
            TenantStatus => status(),
            TenantStatusReason => nullable_text("t.status_reason"),
            TenantPlanKey => text("t.plan_key"),
            TenantCreatedAt => time("t.created_at"),
            TenantMemberCount => {
                "(SELECT count(*) FROM memberships mc WHERE mc.tenant_id = t.id)::text".into()
            }
            MemberRole => role(),
            MemberJoinedAt => time("r.created_at"),
            UserId => uuid("r.u_id"),
            UserEmail => text("r.u_email"),
            UserEmailVerified => {
                "CASE WHEN r.u_verified IS NULL THEN 'false' ELSE 'true' END".into()
            }
            UserCreatedAt => time("r.u_created"),
            KeyId => uuid("r.id"),
            KeyName => text("r.name"),
            KeyEnvironment => environment(),
            KeyDisplayPrefix => text("r.display_prefix"),
            KeyScopes => scopes(),
            KeyState => state(),
            KeyExpiresAt => time("r.expires_at"),
            KeyRevokedAt => time("r.revoked_at"),
            KeyRotationEndsAt => {
                time("CASE WHEN r.previous_valid_until > now() THEN r.previous_valid_until END")
            }
            KeyLastUsedAt => time("r.last_used"),
            KeyCreatedById => "coalesce('\"' || r.created_by || '\"', 'null')".into(),
            KeyCreatedAt => time("r.created_at"),
            RateLimitLimit => "r.rate_limit::text".into(),
            RateLimitPeriod => "r.rate_limit_period::text".into(),
            Cursor => "('\"' || r.cur || '\"')".into(),
            HasNextPage | HasPreviousPage | StartCursor | EndCursor => {
                let Ctx::Page(n) = ctx else { unreachable!() };
                return self.page_info(leaf, n);
            }
        };
        self.sql(&s);
    }

    fn page_info(&mut self, leaf: Leaf, n: usize) {
        match leaf {
            Leaf::HasNextPage => {
                self.sql("CASE WHEN a.n >= ");
                self.bind(Slot::PagePlusOne(n));
                self.sql(" THEN 'true' ELSE 'false' END");
            }
            Leaf::HasPreviousPage => {
                self.sql("CASE WHEN ");
                self.bind(Slot::HasPrevious(n));
                self.sql("::boolean THEN 'true' ELSE 'false' END");
            }
            Leaf::StartCursor => self.sql("coalesce('\"' || a.curs[1] || '\"', 'null')"),
            Leaf::EndCursor => {
                self.sql("coalesce('\"' || a.curs[least(a.n, ");
                self.bind(Slot::PagePlusOne(n));
                self.sql("::bigint - 1)] || '\"', 'null')");
            }
            _ => unreachable!(),
        }
    }
}

/// Where a value is computed: the tenant row `t`, a page's aggregates `a`
/// (list `n`), or one row `r` of a page.
#[derive(Debug, Clone, Copy)]
enum Ctx {
    Tenant,
    Page(usize),
    Row,
}

fn uuid(e: &str) -> String {
    format!("('\"' || {e} || '\"')")
}

fn text(e: &str) -> String {
    format!("to_json({e})::text")
}

fn nullable_text(e: &str) -> String {
    format!("coalesce(to_json({e})::text, 'null')")
}

/// chrono's `to_rfc3339`: seconds, then 3 or 6 fraction digits when they are
/// not zero (`SecondsFormat::AutoSi`), then `+00:00`.
fn time(e: &str) -> String {
    let us = format!("(extract(microseconds FROM {e})::bigint % 1000000)");
    format!(
        "coalesce('\"' || to_char(({e}) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || \
         CASE WHEN {us} = 0 THEN '' WHEN {us} % 1000 = 0 THEN '.' || lpad(({us} / 1000)::text, 3, '0') \
         ELSE '.' || lpad({us}::text, 6, '0') END || '+00:00\"', 'null')"
    )
}

/// `CASE e WHEN 'stored' THEN '"NAME"' … ELSE <otherwise> END`.
fn case(
    e: &str,
    arms: impl IntoIterator<Item = (&'static str, &'static str)>,
    otherwise: &str,
) -> String {
    let mut s = format!("CASE {e}");
    for (stored, name) in arms {
        s.push_str(&format!(" WHEN '{stored}' THEN '\"{name}\"'"));
    }
    s.push_str(&format!(" ELSE {otherwise} END"));
    s
}

fn name_of<T: EnumType + PartialEq + Copy>(value: T) -> &'static str {
    T::items()
        .iter()
        .find(|item| item.value == value)
        .map_or("", |item| item.name)
}

fn status() -> String {
    let active = format!("'\"{}\"'", name_of(TenantStatus::Active));
    case(
        "t.status",
        [TenantStatus::Suspended, TenantStatus::PendingDeletion].map(|s| (s.as_db(), name_of(s))),
        &active,
    )
}

fn role() -> String {
    use crate::auth::Role as Stored;
    let arms = [
        Stored::Owner,
        Stored::Admin,
        Stored::Member,
        Stored::Billing,
        Stored::Viewer,
    ]
    .map(|r| (r.as_str(), name_of(Role::from(r))));
    // Roles are CHECK-constrained to these five.
    case("r.role", arms, "NULL")
}

fn environment() -> String {
    use crate::auth::api_keys::Environment;
    let live = format!("'\"{}\"'", name_of(KeyEnvironment::from(Environment::Live)));
    case(
        "r.environment",
        [(
            Environment::Test.as_str(),
            name_of(KeyEnvironment::from(Environment::Test)),
        )],
        &live,
    )
}

fn scopes() -> String {
    use crate::auth::api_keys::KeyScope;
    let mapping = case(
        "sc",
        KeyScope::ALL.map(|k| (k.as_str(), name_of(Scope::from(k)))),
        "NULL",
    );
    format!(
        "('[' || coalesce((SELECT string_agg({mapping}, ',' ORDER BY o) \
         FROM unnest(r.scopes) WITH ORDINALITY AS x(sc, o)), '') || ']')"
    )
}

fn state() -> String {
    use crate::db::api_keys::KeyState as Stored;
    let name = |s: Stored| name_of(State::from(s));
    format!(
        "CASE WHEN r.revoked_at IS NOT NULL THEN '\"{}\"' WHEN r.expires_at <= now() THEN '\"{}\"' \
         WHEN r.previous_valid_until > now() THEN '\"{}\"' ELSE '\"{}\"' END",
        name(Stored::Revoked),
        name(Stored::Expired),
        name(Stored::Rotating),
        name(Stored::Active),
    )
}

fn uses_leaf(sels: &[Sel], leaf: Leaf) -> bool {
    sels.iter().any(|s| match &s.field {
        Field::Leaf(l) => *l == leaf,
        Field::Edges(sub)
        | Field::Nodes(sub)
        | Field::Node(sub)
        | Field::PageInfo(sub)
        | Field::User(sub)
        | Field::RateLimit(sub) => uses_leaf(sub, leaf),
        _ => false,
    })
}

fn uses_cursor(sels: &[Sel]) -> bool {
    uses_leaf(sels, Leaf::Cursor)
        || uses_leaf(sels, Leaf::StartCursor)
        || uses_leaf(sels, Leaf::EndCursor)
}

fn uses_user(sels: &[Sel]) -> bool {
    sels.iter().any(|s| match &s.field {
        Field::User(_) => true,
        Field::Edges(sub) | Field::Nodes(sub) | Field::Node(sub) => uses_user(sub),
        _ => false,
    })
}

/// The statement for `tree`; `non_billing`: the session check also refuses
/// billing members (the tree reads lists they may not).
pub fn generate(tree: &Tree, non_billing: bool) -> Generated {
    let mut g = Gen {
        pieces: Vec::new(),
        slots: Vec::new(),
        lists: Vec::new(),
        text: String::new(),
    };
    g.sql("SELECT CASE WHEN v.ok THEN (SELECT '{\"data\":' || ");
    g.object(&tree.root, Ctx::Tenant);
    g.sql(
        " || '}' FROM tenants t WHERE t.id = v.tid) END AS body FROM (SELECT c.tid, (SELECT \
         s.revoked_at IS NULL AND s.expires_at > now() \
         AND (s.bound_tenant_id IS NULL OR s.bound_tenant_id = c.tid) \
         AND tt.status IN ('active', 'pending_deletion')",
    );
    if non_billing {
        g.sql(" AND m.role <> 'billing'");
    }
    g.sql(
        " FROM users u JOIN sessions s ON s.user_id = u.id \
         JOIN memberships m ON m.user_id = u.id JOIN tenants tt ON tt.id = m.tenant_id \
         WHERE u.id = c.uid AND s.id = ",
    );
    g.bind(Slot::Session);
    g.sql("::uuid AND m.tenant_id = c.tid) AS ok FROM (SELECT set_config('app.tenant_id', ");
    g.bind(Slot::Tenant);
    g.sql("::text, true)::uuid AS tid, set_config('app.user_id', ");
    g.bind(Slot::User);
    g.sql(
        "::text, true)::uuid AS uid, set_config('app.lookup_email', '', true) AS email \
         OFFSET 0) c OFFSET 0) v",
    );
    let text = std::mem::take(&mut g.text);
    g.pieces.push(Piece::Sql(text));
    Generated {
        pieces: g.pieces,
        slots: g.slots,
        lists: g.lists,
    }
}
