//! From a read tree (what `graphql::compiled` compiled a query document
//! into) to one SQL statement that returns the whole response body
//! (`{"data":…}`) as text, in the executor's exact JSON: selection order,
//! aliases, enum names (given as [`Names`]), RFC 3339 times as chrono writes
//! them, cursors as `graphql::cursor` encodes them.
//!
//! The statement sets the request's tenant and user (transaction-local, as
//! `Scope::tenant_user` does) in an outer row computed first; the session
//! check and every list are correlated subqueries of that row, so they run
//! after it, under row-level security (the same shape as the ceiling of
//! `bench/dashboard.sh`). When the check fails (session ended, not a member,
//! tenant suspended, a billing member reading lists, a session bound to
//! another tenant) the body is NULL and the request runs on the executor,
//! which words the error.

use super::Piece;

/// One selected field: its response key (a GraphQL name:
/// `[_A-Za-z][_0-9A-Za-z]*`, checked by [`generate`]) and what it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sel {
    pub key: String,
    pub field: Field,
}

/// The fields the generator knows, by the object they belong to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    /// `__typename` of an object of this type.
    Typename(&'static str),
    /// A scalar or enum value.
    Leaf(Leaf),
    /// The tenant (`Query.tenant`).
    Tenant(Vec<Sel>),
    /// A tenant's members or API keys, as a connection.
    List(List),
    /// A connection's `edges`, `nodes`; an edge's `node`; `pageInfo`.
    Edges(Vec<Sel>),
    Nodes(Vec<Sel>),
    Node(Vec<Sel>),
    PageInfo(Vec<Sel>),
    /// A member's user.
    User(Vec<Sel>),
    /// An API key's own rate limit (null without one).
    RateLimit(Vec<Sel>),
}

impl Field {
    /// The selections under this field (none under a leaf).
    pub fn selections(&self) -> &[Sel] {
        match self {
            Self::Typename(_) | Self::Leaf(_) => &[],
            Self::List(list) => &list.sels,
            Self::Tenant(sub)
            | Self::Edges(sub)
            | Self::Nodes(sub)
            | Self::Node(sub)
            | Self::PageInfo(sub)
            | Self::User(sub)
            | Self::RateLimit(sub) => sub,
        }
    }
}

/// A scalar or enum field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Leaf {
    TenantId,
    TenantName,
    TenantSlug,
    TenantStatus,
    TenantStatusReason,
    TenantPlanKey,
    TenantCreatedAt,
    TenantMemberCount,
    MemberRole,
    MemberJoinedAt,
    UserId,
    UserEmail,
    UserEmailVerified,
    UserCreatedAt,
    KeyId,
    KeyName,
    KeyEnvironment,
    KeyDisplayPrefix,
    KeyScopes,
    KeyState,
    KeyExpiresAt,
    KeyRevokedAt,
    KeyRotationEndsAt,
    KeyLastUsedAt,
    KeyCreatedById,
    KeyCreatedAt,
    RateLimitLimit,
    RateLimitPeriod,
    Cursor,
    HasNextPage,
    HasPreviousPage,
    StartCursor,
    EndCursor,
}

/// Which list a connection reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListKind {
    Members,
    ApiKeys,
}

/// A connection: list number `n` of the tree (its page size and cursor are
/// the binds `PagePlusOne(n)`, `AfterAt(n)` …).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct List {
    pub kind: ListKind,
    pub n: usize,
    pub sels: Vec<Sel>,
}

/// The wire names of the enums: (stored value, name) pairs, and the name of
/// a value not listed.
#[derive(Debug, Clone)]
pub struct Names {
    pub tenant_status: Vec<(&'static str, &'static str)>,
    pub tenant_status_otherwise: &'static str,
    pub role: Vec<(&'static str, &'static str)>,
    pub environment: Vec<(&'static str, &'static str)>,
    pub environment_otherwise: &'static str,
    pub scope: Vec<(&'static str, &'static str)>,
    /// Revoked, expired, rotating, active.
    pub key_state: [&'static str; 4],
}

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
}

struct Gen<'a> {
    /// Whether the lists take a cursor (the statement for requests with one).
    cursors: bool,
    pieces: Vec<Piece>,
    slots: Vec<Slot>,
    /// The lists met so far, by number.
    lists: Vec<Option<List>>,
    names: &'a Names,
    text: String,
}

impl Gen<'_> {
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
        self.lists
            .get(n)
            .and_then(Option::as_ref)
            .map_or(&[][..], |l| &l.sels[..])
            .iter()
            .filter(|s| matches!(s.field, Field::Edges(_) | Field::Nodes(_)))
            .map(|s| s.field.clone())
            .collect()
    }

    /// A list: `(SELECT '{…}' FROM (aggregates) a)` over `x` (a row's JSON
    /// per selection of rows) over `r` (the page, one row more than asked).
    fn list(&mut self, list: &List) {
        let n = list.n;
        if self.lists.len() <= n {
            self.lists.resize(n + 1, None);
        }
        self.lists[n] = Some(list.clone());
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
                    // The per-key lookup runs only when this instance
                    // holds uses not yet written (rarely on a dashboard).
                    self.sql(", CASE WHEN cardinality(");
                    self.bind(Slot::PendingIds);
                    self.sql(
                        "::uuid[]) = 0 THEN m.last_used_at ELSE greatest(m.last_used_at, \
                         (SELECT max(p.at) FROM unnest(",
                    );
                    self.bind(Slot::PendingIds);
                    self.sql("::uuid[], ");
                    self.bind(Slot::PendingAts);
                    self.sql("::timestamptz[]) AS p(id, at) WHERE p.id = m.id)) END AS last_used");
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
        self.sql(" WHERE m.tenant_id = t.id");
        if self.cursors {
            // A list given no cursor starts before every row: one form (and
            // the index on (tenant, created_at, id)) serves both.
            self.sql(&format!(" AND (m.created_at, {id}) > (coalesce("));
            self.bind(Slot::AfterAt(n));
            self.sql("::timestamptz, '-infinity'), coalesce(");
            self.bind(Slot::AfterId(n));
            self.sql("::uuid, '00000000-0000-0000-0000-000000000000'))");
        }
        self.sql(&format!(" ORDER BY m.created_at, {id} LIMIT "));
        self.bind(Slot::PagePlusOne(n));
        self.sql(") r) x) a)");
    }

    fn leaf(&mut self, leaf: Leaf, ctx: Ctx) {
        use Leaf::*;
        let s = match leaf {
            TenantId => uuid("t.id"),
            TenantName => text("t.name"),
            TenantSlug => text("t.slug"),
            TenantStatus => status(self.names),
            TenantStatusReason => nullable_text("t.status_reason"),
            TenantPlanKey => text("t.plan_key"),
            TenantCreatedAt => time("t.created_at"),
            TenantMemberCount => {
                "(SELECT count(*) FROM memberships mc WHERE mc.tenant_id = t.id)::text".into()
            }
            MemberRole => role(self.names),
            MemberJoinedAt => time("r.created_at"),
            UserId => uuid("r.u_id"),
            UserEmail => text("r.u_email"),
            UserEmailVerified => {
                "CASE WHEN r.u_verified IS NULL THEN 'false' ELSE 'true' END".into()
            }
            UserCreatedAt => time("r.u_created"),
            KeyId => uuid("r.id"),
            KeyName => text("r.name"),
            KeyEnvironment => environment(self.names),
            KeyDisplayPrefix => text("r.display_prefix"),
            KeyScopes => scopes(self.names),
            KeyState => state(self.names),
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
/// `CASE e WHEN 'stored' THEN '"NAME"' … ELSE <otherwise> END`.
fn case(e: &str, arms: &[(&str, &str)], otherwise: &str) -> String {
    let mut s = format!("CASE {e}");
    for (stored, name) in arms {
        s.push_str(&format!(" WHEN {} THEN {}", literal(stored), quoted(name)));
    }
    s.push_str(&format!(" ELSE {otherwise} END"));
    s
}

/// A SQL string literal (`standard_conforming_strings` is on: only `'`
/// doubles).
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn quoted(name: &str) -> String {
    format!("'\"{name}\"'")
}

fn status(names: &Names) -> String {
    case(
        "t.status",
        &names.tenant_status,
        &quoted(names.tenant_status_otherwise),
    )
}

fn role(names: &Names) -> String {
    // Roles are CHECK-constrained to the listed ones.
    case("r.role", &names.role, "NULL")
}

fn environment(names: &Names) -> String {
    case(
        "r.environment",
        &names.environment,
        &quoted(names.environment_otherwise),
    )
}

fn scopes(names: &Names) -> String {
    let mapping = case("sc", &names.scope, "NULL");
    format!(
        "('[' || coalesce((SELECT string_agg({mapping}, ',' ORDER BY o) \
         FROM unnest(r.scopes) WITH ORDINALITY AS x(sc, o)), '') || ']')"
    )
}

fn state(names: &Names) -> String {
    let [revoked, expired, rotating, active] = names.key_state.map(quoted);
    format!(
        "CASE WHEN r.revoked_at IS NOT NULL THEN {revoked} WHEN r.expires_at <= now() THEN {expired} \
         WHEN r.previous_valid_until > now() THEN {rotating} ELSE {active} END"
    )
}

fn uses_leaf(sels: &[Sel], leaf: Leaf) -> bool {
    sels.iter().any(|s| match &s.field {
        Field::Leaf(l) => *l == leaf,
        field => uses_leaf(field.selections(), leaf),
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

/// The statement answering `root` (the operation's root selections);
/// `non_billing`: the session check also refuses billing members (the tree
/// reads lists they may not); `cursors`: the lists take `after` cursors (a
/// request without any gets the statement without, which reads less). `None`
/// when a response key or a `__typename` is not a GraphQL name (nothing else
/// is written into the text).
pub fn generate(
    root: &[Sel],
    names: &Names,
    non_billing: bool,
    cursors: bool,
) -> Option<Generated> {
    if !names_only(root) {
        return None;
    }
    let mut g = Gen {
        cursors,
        pieces: Vec::new(),
        slots: Vec::new(),
        lists: Vec::new(),
        names,
        text: String::new(),
    };
    g.sql("SELECT CASE WHEN v.ok THEN (SELECT '{\"data\":' || ");
    g.object(root, Ctx::Tenant);
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
    Some(Generated {
        pieces: g.pieces,
        slots: g.slots,
    })
}

/// Whether every response key and type name is a GraphQL name.
fn names_only(sels: &[Sel]) -> bool {
    let name = |s: &str| {
        let mut chars = s.chars();
        chars
            .next()
            .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
            && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
    };
    sels.iter().all(|s| {
        name(&s.key)
            && match &s.field {
                Field::Typename(t) => name(t),
                field => names_only(field.selections()),
            }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names {
            tenant_status: vec![("suspended", "SUSPENDED")],
            tenant_status_otherwise: "ACTIVE",
            role: vec![("owner", "OWNER")],
            environment: vec![("test", "TEST")],
            environment_otherwise: "LIVE",
            scope: vec![("it's", "X")],
            key_state: ["R", "E", "O", "A"],
        }
    }

    fn tenant(sels: Vec<Sel>) -> Vec<Sel> {
        vec![Sel {
            key: "tenant".into(),
            field: Field::Tenant(sels),
        }]
    }

    #[test]
    fn only_graphql_names_are_written_into_the_text() {
        let leaf = |key: &str| Sel {
            key: key.into(),
            field: Field::Leaf(Leaf::TenantId),
        };
        assert!(
            generate(
                &tenant(vec![leaf("id"), leaf("_a1")]),
                &names(),
                false,
                true
            )
            .is_some()
        );
        for bad in ["", "1a", "a'b", "a\"b", "a b", "é"] {
            assert!(
                generate(&tenant(vec![leaf(bad)]), &names(), false, true).is_none(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn binds_follow_the_lists_numbers() {
        let list = |kind, n| Sel {
            key: format!("l{n}"),
            field: Field::List(List {
                kind,
                n,
                sels: vec![Sel {
                    key: "pageInfo".into(),
                    field: Field::PageInfo(vec![Sel {
                        key: "hasNextPage".into(),
                        field: Field::Leaf(Leaf::HasNextPage),
                    }]),
                }],
            }),
        };
        let g = generate(
            &tenant(vec![list(ListKind::ApiKeys, 1), list(ListKind::Members, 0)]),
            &names(),
            true,
            true,
        )
        .unwrap();
        let pages: Vec<usize> = g
            .slots
            .iter()
            .filter_map(|s| match s {
                Slot::PagePlusOne(n) => Some(*n),
                _ => None,
            })
            .collect();
        assert!(pages.contains(&0) && pages.contains(&1));
        let text: String = g
            .pieces
            .iter()
            .map(|p| match p {
                Piece::Sql(s) => s.clone(),
                Piece::Bind(_) => "$".into(),
            })
            .collect();
        assert!(text.contains("m.role <> 'billing'"));
        assert!(text.contains("set_config('app.tenant_id', $"));
        // A stored value with a quote is a well-formed literal.
        assert_eq!(literal("it's"), "'it''s'");
    }
}
