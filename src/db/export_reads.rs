//! What a data export reads: one [`Kind`] per JSON Lines file of the
//! archive, each a statement over the tenant's (or the person's) rows read
//! in keyset pages, every row already rendered as one JSON line by
//! PostgreSQL (`row_to_json`). Columns are listed one by one: password
//! hashes, token hashes, key secrets, webhook signing secrets and the custom
//! domain's verification token are never selected (the runtime role
//! cannot read password hashes at all). Runs inside the export's read-only
//! snapshot, in that tenant's or person's scope, so row-level security
//! filters underneath the explicit `WHERE`.

use diesel::prelude::*;
use diesel::sql_types::{Int4, Int8, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// One file of an archive: the statement that yields its rows (`$1` is the
/// tenant's or person's id; `$2` the page's cursor and `$3` its size, for a
/// source that pages itself) and the keyset it is read in.
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    /// The file's name in the archive.
    pub file: &'static str,
    source: &'static str,
    /// The key columns, in order, with their SQL types.
    keys: &'static [(&'static str, &'static str)],
    /// How many rows the file will hold (`$1` the owner), for a source
    /// whose rows are not its statement's rows one for one; none: counted
    /// from the source.
    total: Option<&'static str>,
}

/// The files of a tenant's archive.
pub const TENANT: &[Kind] = &[
    Kind {
        file: "tenant.jsonl",
        source: "SELECT id, name, slug, status, status_reason, plan_key, branding,
                        settings, created_at, updated_at
                 FROM tenants WHERE id = $1",
        keys: &[("id", "uuid")],
        total: None,
    },
    Kind {
        file: "members.jsonl",
        source: "SELECT m.user_id, m.role, m.created_at, m.updated_at,
                        json_build_object('id', u.id, 'email', u.email,
                                          'email_verified_at', u.email_verified_at,
                                          'created_at', u.created_at) AS \"user\"
                 FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.tenant_id = $1",
        keys: &[("created_at", "timestamptz"), ("user_id", "uuid")],
        total: None,
    },
    Kind {
        file: "invitations.jsonl",
        source:
            "SELECT id, email, role, invited_by, created_at, expires_at, accepted_at, revoked_at
                 FROM invitations WHERE tenant_id = $1",
        keys: &[("created_at", "timestamptz"), ("id", "uuid")],
        total: None,
    },
    Kind {
        file: "api_keys.jsonl",
        source: "SELECT id, name, environment, display_prefix, scopes, rate_limit,
                        rate_limit_period, created_by, expires_at, previous_valid_until,
                        revoked_at, last_used_at, created_at, updated_at
                 FROM api_keys WHERE tenant_id = $1",
        keys: &[("created_at", "timestamptz"), ("id", "uuid")],
        total: None,
    },
    Kind {
        file: "publishable_keys.jsonl",
        source: "SELECT id, name, environment, key, created_by, created_at, revoked_at
                 FROM publishable_keys WHERE tenant_id = $1",
        keys: &[("created_at", "timestamptz"), ("id", "uuid")],
        total: None,
    },
    Kind {
        file: "allowed_origins.jsonl",
        source: "SELECT origin, created_by, created_at FROM allowed_origins WHERE tenant_id = $1",
        keys: &[("origin", "text")],
        total: None,
    },
    Kind {
        file: "custom_domain.jsonl",
        source: "SELECT domain,
                        CASE WHEN verified_at IS NOT NULL THEN 'verified'
                             WHEN last_checked_at IS NOT NULL THEN 'failed'
                             ELSE 'pending' END AS status,
                        verified_at, last_checked_at, missing_since, created_at
                 FROM tenant_domains WHERE tenant_id = $1",
        keys: &[("domain", "text")],
        total: None,
    },
    Kind {
        file: "webhook_endpoints.jsonl",
        source: "SELECT id, url, description, event_types, enabled, disabled_reason, disabled_at,
                        failing_since, created_at, updated_at
                 FROM webhook_endpoints WHERE tenant_id = $1",
        keys: &[("created_at", "timestamptz"), ("id", "uuid")],
        total: None,
    },
    Kind {
        file: "plan.jsonl",
        source: "SELECT p.* FROM plans p JOIN tenants t ON t.plan_key = p.key WHERE t.id = $1",
        keys: &[("key", "text")],
        total: None,
    },
    Kind {
        file: "billing_customer.jsonl",
        source: "SELECT stripe_customer_id, trial_used, created_at
                 FROM billing_customers WHERE tenant_id = $1",
        keys: &[("stripe_customer_id", "text")],
        total: None,
    },
    Kind {
        file: "subscription.jsonl",
        source: "SELECT stripe_subscription_id, stripe_customer_id, status, plan_key, price_id,
                        price_interval, amount, currency, current_period_start,
                        current_period_end, cancel_at_period_end, trial_end, canceled_at,
                        ended_at, stripe_created, synced_at
                 FROM subscriptions WHERE tenant_id = $1",
        keys: &[("stripe_subscription_id", "text")],
        total: None,
    },
    Kind {
        file: "invoices.jsonl",
        source: "SELECT stripe_invoice_id, stripe_subscription_id, number, status, total,
                        currency, hosted_invoice_url, pdf_url, period_start, period_end,
                        stripe_created, synced_at
                 FROM invoices WHERE tenant_id = $1",
        keys: &[
            ("stripe_created", "timestamptz"),
            ("stripe_invoice_id", "text"),
        ],
        total: None,
    },
    Kind {
        file: "quota_alerts.jsonl",
        source: "SELECT metric, period, threshold, used, quota, created_at
                 FROM quota_alerts WHERE tenant_id = $1",
        keys: &[
            ("metric", "text"),
            ("period", "date"),
            ("threshold", "smallint"),
        ],
        total: None,
    },
    Kind {
        // Raw events are stored a call to a row (`usage_batches`): a page
        // reads the batches from the cursor's on in key order, at most as
        // many as it has lines (each holds one event or more), keeps those
        // its lines can need (by the running count of events) and unnests
        // only them.
        file: "usage_events.jsonl",
        source: "SELECT b.month, b.id AS batch_id, e.position::integer AS position,
                        b.environment, e.metric, e.quantity, e.api_key_id, e.idempotency_key,
                        COALESCE(e.properties, '{}'::jsonb) AS properties, e.occurred_at,
                        b.created_at
                 FROM (SELECT w.*
                       FROM (SELECT b.*, sum(b.events) OVER (ORDER BY b.month, b.id) AS upto
                             FROM usage_batches b
                             WHERE b.tenant_id = $1
                               AND (b.month, b.id) >= (
                                   COALESCE(($2::json->>0)::timestamptz, '-infinity'),
                                   COALESCE(($2::json->>1)::uuid,
                                            '00000000-0000-0000-0000-000000000000'))
                             ORDER BY b.month, b.id
                             LIMIT $3) w
                       WHERE w.upto - w.events < $3 + COALESCE(($2::json->>2)::integer, 0)) b
                 CROSS JOIN LATERAL unnest(b.metrics, b.quantities, b.api_key_ids,
                                           b.idempotency_keys, b.properties, b.occurred_at)
                      WITH ORDINALITY AS e(metric, quantity, api_key_id, idempotency_key,
                                           properties, occurred_at, position)",
        keys: &[
            ("month", "timestamptz"),
            ("batch_id", "uuid"),
            ("position", "integer"),
        ],
        total: Some(
            "SELECT COALESCE(sum(events), 0)::bigint AS n FROM usage_batches WHERE tenant_id = $1",
        ),
    },
    Kind {
        file: "usage_rollups.jsonl",
        source: "SELECT environment, metric, granularity, api_key_id, bucket, value, events,
                        updated_at
                 FROM usage_rollups WHERE tenant_id = $1",
        keys: &[
            ("environment", "text"),
            ("metric", "text"),
            ("granularity", "text"),
            ("api_key_id", "uuid"),
            ("bucket", "timestamptz"),
        ],
        total: None,
    },
    Kind {
        file: "audit_log.jsonl",
        source: "SELECT id, actor_type, actor_id, actor_label, action, target_type, target_id,
                        ip, user_agent, request_id, before, after, created_at
                 FROM audit_log WHERE tenant_id = $1",
        keys: &[("created_at", "timestamptz"), ("id", "uuid")],
        total: None,
    },
];

/// The files of a person's archive.
pub const PERSON: &[Kind] = &[
    Kind {
        file: "user.jsonl",
        source: "SELECT id, email, email_verified_at, created_at, updated_at
                 FROM users WHERE id = $1",
        keys: &[("id", "uuid")],
        total: None,
    },
    Kind {
        file: "memberships.jsonl",
        source: "SELECT m.tenant_id, t.name AS tenant_name, t.slug AS tenant_slug, m.role,
                        m.created_at, m.updated_at
                 FROM memberships m JOIN tenants t ON t.id = m.tenant_id WHERE m.user_id = $1",
        keys: &[("created_at", "timestamptz"), ("tenant_id", "uuid")],
        total: None,
    },
    Kind {
        file: "sessions.jsonl",
        source: "SELECT id, default_tenant_id, user_agent, ip, created_at, last_used_at,
                        expires_at, revoked_at, revoked_reason
                 FROM sessions WHERE user_id = $1",
        keys: &[("created_at", "timestamptz"), ("id", "uuid")],
        total: None,
    },
    Kind {
        // Every tenant's entries this person is the actor of: only through
        // the function (which pages itself), never by a policy of the
        // runtime role.
        file: "audit_log.jsonl",
        source: "SELECT id, tenant_id, actor_type, actor_id, actor_label, action, target_type,
                        target_id, ip, user_agent, request_id, before, after, created_at
                 FROM tg_data_export_my_audit(($2::json->>0)::timestamptz,
                                              ($2::json->>1)::uuid, $3)
                 WHERE $1::uuid IS NOT NULL",
        keys: &[("created_at", "timestamptz"), ("id", "uuid")],
        total: None,
    },
];

impl Kind {
    /// The statement of one page: rows after the cursor `$2` (a JSON array of
    /// the key values, or NULL for the first page), at most `$3`.
    fn page_sql(&self, first: bool) -> String {
        let cols: Vec<&str> = self.keys.iter().map(|(c, _)| *c).collect();
        let after: Vec<String> = self
            .keys
            .iter()
            .enumerate()
            .map(|(i, (_, t))| format!("($2::json->>{i})::{t}"))
            .collect();
        let keyed = cols
            .iter()
            .map(|c| format!("s.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let cursor = cols
            .iter()
            .map(|c| format!("r.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        // The first page and the next ones are two statements: a condition
        // such as `$2 IS NULL OR (…) > (…)` could not bound a generic plan's
        // index scan.
        let after = if first {
            "$2::text IS NULL".to_owned()
        } else {
            format!("({keyed}) > ({})", after.join(", "))
        };
        format!(
            "SELECT row_to_json(r)::text AS line, json_build_array({cursor})::text AS cursor
             FROM (SELECT * FROM ({source}) s WHERE {after} ORDER BY {keyed} LIMIT $3) r",
            source = self.source,
        )
    }
}

/// One row of a page: its JSON line and the cursor after it.
#[derive(Debug, QueryableByName)]
pub struct Line {
    #[diesel(sql_type = Text)]
    pub line: String,
    #[diesel(sql_type = Text)]
    pub cursor: String,
}

/// A page of `kind` for `owner` after `cursor`, at most `limit` rows.
pub async fn page(
    conn: &mut AsyncPgConnection,
    kind: &Kind,
    owner: Uuid,
    cursor: Option<&str>,
    limit: i32,
) -> QueryResult<Vec<Line>> {
    diesel::sql_query(kind.page_sql(cursor.is_none()))
        .bind::<SqlUuid, _>(owner)
        .bind::<Nullable<Text>, _>(cursor)
        .bind::<Int4, _>(limit)
        .load(conn)
        .await
}

/// How many rows `kind` holds for `owner` (for progress; a self-paging
/// source counts at most one of its pages).
pub async fn count(conn: &mut AsyncPgConnection, kind: &Kind, owner: Uuid) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = Int8)]
        n: i64,
    }
    if let Some(total) = kind.total {
        let n: N = diesel::sql_query(total)
            .bind::<SqlUuid, _>(owner)
            .get_result(conn)
            .await?;
        return Ok(n.n);
    }
    let n: N = diesel::sql_query(format!("SELECT count(*) AS n FROM ({}) s", kind.source))
        .bind::<SqlUuid, _>(owner)
        .bind::<Nullable<Text>, _>(None::<String>)
        .bind::<Int4, _>(10_000)
        .get_result(conn)
        .await?;
    Ok(n.n)
}

/// Readies the export's read-only snapshot transaction and returns its time
/// (the transaction's start, RFC 3339). The pages must be read in index
/// order, starting at the cursor: PostgreSQL estimates a row comparison
/// (`(a, b, c) > (…)`) at one row, and then prefers to scan the rest of the
/// tenant's rows and sort them for every page (a seq scan or a parallel
/// append and a top-N sort), and a cached statement's generic plan cannot
/// start its index scan at the cursor: either makes an export quadratic
/// (1M usage events: 8 minutes). In this transaction of its own, which only
/// reads pages, index scans in key order (merge append, incremental sort,
/// the limit) planned for each cursor are always right, so the alternatives
/// are switched off for it alone (`SET LOCAL`).
pub async fn begin_snapshot(conn: &mut AsyncPgConnection) -> QueryResult<String> {
    diesel::sql_query(
        "SELECT set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true),
                set_config('enable_sort', 'off', true),
                set_config('max_parallel_workers_per_gather', '0', true),
                set_config('plan_cache_mode', 'force_custom_plan', true)",
    )
    .execute(conn)
    .await?;
    snapshot_time(conn).await
}

/// The snapshot's time (the transaction's start), as RFC 3339.
async fn snapshot_time(conn: &mut AsyncPgConnection) -> QueryResult<String> {
    #[derive(QueryableByName)]
    struct T {
        #[diesel(sql_type = Text)]
        t: String,
    }
    let t: T = diesel::sql_query(
        "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS t",
    )
    .get_result(conn)
    .await?;
    Ok(t.t)
}
