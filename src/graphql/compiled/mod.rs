//! Compiled reads: the hot dashboard queries answered by one SQL statement
//! that PostgreSQL turns into the response body, with no GraphQL execution.
//!
//! A query document that ran on the executor without an error is compiled
//! ([`plan::compile`]) when every field it selects is one the generator knows
//! (a tenant's own fields, its members with their users, its API keys, their
//! connections and page info) and kept, per text and operation name, in a
//! bounded cache. The next request with the same text, from a signed-in user
//! acting in a tenant, skips parsing, validation and execution: its arguments
//! are read from the variables and checked as the resolvers check them
//! (`first` 1..=100, cursors, the complexity limit), and one statement
//! ([`sql::generate`]) sets the tenant, checks the session, membership, role
//! and tenant status, and builds the JSON under row-level security (the
//! statement is generated in `db::compiled::generate`; the enums' wire names
//! come from here, [`names`]). Anything
//! the statement or the arguments refuse runs on the executor instead, which
//! words the error: the compiled path never answers an error itself.
//!
//! Budgets: documents up to [`MAX_TEXT`] bytes, statements up to
//! [`MAX_STATEMENT`]; at most [`MAX_PLANS`] distinct read trees per process
//! ever, two statements each (with and without cursors), each prepared once
//! per pooled connection; past the budget, new documents run on the
//! executor. Only requests the plans can answer (a
//! signed-in user acting in a tenant) teach them, never an API key.

pub mod plan;

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::Variables;
use async_graphql::parser::types::ExecutableDocument;
use uuid::Uuid;

use crate::auth::key_cache::KeyCache;
use crate::db::Db;
use crate::db::compiled::generate::{self, Field, Names, Sel, Slot};
use crate::db::compiled::{BindValue, Piece, ReadError};
use crate::error::AppResult;
use crate::graphql::cursor;
use plan::{Arg, Tree};

/// The longest document text that is compiled.
pub const MAX_TEXT: usize = 8 * 1024;
/// The most distinct compiled trees per process (two statements each, with
/// and without cursors, each prepared once per pooled connection: at most
/// twice this many per connection).
pub const MAX_PLANS: usize = 64;
/// The longest generated statement (the dashboard's is about 6 KiB): with
/// [`MAX_PLANS`], what a connection can be made to keep prepared is bounded.
pub const MAX_STATEMENT: usize = 32 * 1024;

/// A compiled document.
pub struct Plan {
    /// The document's text and operation name (the cache is keyed by their
    /// hash; a plan answers only its own text).
    text: String,
    operation_name: Option<String>,
    tree: Tree,
    /// The statement for requests without a cursor, and with one.
    statements: [generate::Generated; 2],
    last_used: bool,
}

/// The compiled documents of this instance.
#[derive(Clone)]
pub struct CompiledReads {
    plans: moka::sync::Cache<u64, Arc<Plan>>,
    hasher: RandomState,
    /// The statements ever admitted (a hash of their tree), for
    /// [`MAX_PLANS`].
    admitted: Arc<Mutex<HashSet<u64>>>,
    answered: Arc<AtomicU64>,
    declined: Arc<AtomicU64>,
}

impl Default for CompiledReads {
    fn default() -> Self {
        Self {
            plans: moka::sync::Cache::new(MAX_PLANS as u64),
            hasher: RandomState::new(),
            admitted: Arc::default(),
            answered: Arc::default(),
            declined: Arc::default(),
        }
    }
}

/// Who asks: the verified-by-the-statement caller.
pub struct Asker {
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub tenant_id: Uuid,
}

impl CompiledReads {
    /// The plan of `text` (with `operation_name`), if compiled.
    pub fn plan(&self, text: &str, operation_name: Option<&str>) -> Option<Arc<Plan>> {
        if text.len() > MAX_TEXT {
            return None;
        }
        self.plans
            .get(&self.key(text, operation_name))
            .filter(|p| p.text == text && p.operation_name.as_deref() == operation_name)
    }

    fn key(&self, text: &str, operation_name: Option<&str>) -> u64 {
        self.hasher.hash_one((text, operation_name))
    }

    /// Notes whether a plan answered a request (or it ran on the executor).
    pub fn count(&self, answered: bool) {
        let counter = if answered {
            &self.answered
        } else {
            &self.declined
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Requests a plan answered, and requests with a plan that ran on the
    /// executor instead, since start.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.answered.load(Ordering::Relaxed),
            self.declined.load(Ordering::Relaxed),
        )
    }

    /// Compiles `doc` (the text `text`, which just ran without an error) if
    /// it can be, within the budgets.
    pub fn learn(&self, text: &str, operation_name: Option<&str>, doc: &ExecutableDocument) {
        if text.len() > MAX_TEXT {
            return;
        }
        if self.plan(text, operation_name).is_some() {
            return;
        }
        let Some(tree) = plan::compile(doc, operation_name) else {
            return;
        };
        if !tree
            .root
            .iter()
            .any(|s| matches!(s.field, Field::Tenant(_)))
        {
            return;
        }
        // The statement is a function of the tree: budgeted by its hash, so a
        // full budget costs no generation.
        let non_billing = tree.reads_lists();
        let id = self.hasher.hash_one((&tree.root, non_billing));
        {
            let Ok(admitted) = self.admitted.lock() else {
                return;
            };
            if !admitted.contains(&id) && admitted.len() >= MAX_PLANS {
                return;
            }
        }
        // Two statements: for requests without any cursor (the lists read
        // from their start, nothing to compare) and with one.
        let (Some(plain), Some(paged)) = (
            generate::generate(&tree.root, names(), non_billing, false),
            generate::generate(&tree.root, names(), non_billing, true),
        ) else {
            return;
        };
        let size = |g: &generate::Generated| -> usize {
            g.pieces
                .iter()
                .map(|p| match p {
                    Piece::Sql(s) => s.len(),
                    Piece::Bind(_) => 4,
                })
                .sum()
        };
        if size(&paged) > MAX_STATEMENT {
            return;
        }
        {
            let Ok(mut admitted) = self.admitted.lock() else {
                return;
            };
            if !admitted.contains(&id) {
                if admitted.len() >= MAX_PLANS {
                    return;
                }
                admitted.insert(id);
            }
        }
        let last_used = paged.slots.iter().any(|s| matches!(s, Slot::PendingIds));
        self.plans.insert(
            self.key(text, operation_name),
            Arc::new(Plan {
                text: text.to_owned(),
                operation_name: operation_name.map(str::to_owned),
                tree,
                statements: [plain, paged],
                last_used,
            }),
        );
    }
}

/// One list's arguments for this request.
struct ListArgs {
    plus_one: i64,
    after: Option<(chrono::DateTime<chrono::Utc>, Uuid)>,
}

impl Plan {
    /// The response body (`{"data":…}`), UNAVAILABLE when no pooled
    /// connection comes, or `None` when this request must run on the executor
    /// (an argument it refuses, the complexity limit, a session, membership,
    /// role or tenant the statement refuses, or a failed statement, which the
    /// executor meets again and reports).
    pub async fn answer(
        &self,
        db: &Db,
        keys: &KeyCache,
        asker: &Asker,
        variables: &Variables,
        max_complexity: usize,
    ) -> Option<AppResult<String>> {
        let args: Vec<ListArgs> = self
            .tree
            .args
            .iter()
            .map(|list| {
                let first = int(&list.first, variables)?;
                let limit = cursor::page_size(first).ok()?;
                let after = match string(&list.after, variables)? {
                    Some(text) => Some(cursor::decode(&text).ok()?),
                    None => None,
                };
                Some(ListArgs {
                    plus_one: limit + 1,
                    after,
                })
            })
            .collect::<Option<_>>()?;
        if complexity(&self.tree.root, &self.tree.args, variables)? > max_complexity {
            return None;
        }
        let pending = if self.last_used {
            keys.pending_last_used_in(asker.tenant_id)
        } else {
            (Vec::new(), Vec::new())
        };
        let statement = &self.statements[usize::from(args.iter().any(|a| a.after.is_some()))];
        let values: Vec<BindValue> = statement
            .slots
            .iter()
            .map(|slot| match *slot {
                Slot::Tenant => BindValue::Text(asker.tenant_id.to_string()),
                Slot::User => BindValue::Text(asker.user_id.to_string()),
                Slot::Session => BindValue::OptUuid(Some(asker.session_id)),
                Slot::PagePlusOne(n) => BindValue::BigInt(args[n].plus_one),
                Slot::AfterAt(n) => BindValue::OptTime(args[n].after.map(|a| a.0)),
                Slot::AfterId(n) => BindValue::OptUuid(args[n].after.map(|a| a.1)),
                Slot::HasPrevious(n) => BindValue::Bool(args[n].after.is_some()),
                Slot::PendingIds => BindValue::Uuids(pending.0.clone()),
                Slot::PendingAts => BindValue::Times(pending.1.clone()),
            })
            .collect();
        match db.compiled_read(&statement.pieces, &values).await {
            Ok(body) => body.map(Ok),
            // No connection within the pool's wait: UNAVAILABLE now (the
            // executor would wait as long again for the same answer).
            Err(ReadError::Pool(err)) => Some(Err(err.into())),
            Err(ReadError::Statement(err)) => {
                // The executor runs the request and reports what it meets.
                tracing::warn!(error = %err, "a compiled read failed; running it on the executor");
                None
            }
        }
    }
}

/// The value of an `Int` argument: `None` inside when null or absent;
/// `None` outside when the executor must judge it (a value of another type,
/// out of `i32`, a missing non-null variable).
fn int(arg: &Arg, variables: &Variables) -> Option<Option<i32>> {
    match value(arg, variables)? {
        None => Some(None),
        Some(async_graphql::Value::Number(n)) => Some(Some(i32::try_from(n.as_i64()?).ok()?)),
        Some(_) => None,
    }
}

/// The value of a `String` argument, as [`int`].
fn string(arg: &Arg, variables: &Variables) -> Option<Option<String>> {
    match value(arg, variables)? {
        None => Some(None),
        Some(async_graphql::Value::String(s)) => Some(Some(s)),
        Some(_) => None,
    }
}

fn value(arg: &Arg, variables: &Variables) -> Option<Option<async_graphql::Value>> {
    let v = match arg {
        Arg::Absent => return Some(None),
        Arg::Literal(v) => v.clone(),
        Arg::Variable {
            name,
            nullable,
            default,
        } => match variables.get(name) {
            Some(v) => v.clone(),
            None => match default {
                Some(v) => v.clone(),
                None if *nullable => async_graphql::Value::Null,
                None => return None,
            },
        },
    };
    if let (
        async_graphql::Value::Null,
        Arg::Variable {
            nullable: false, ..
        },
    ) = (&v, arg)
    {
        return None;
    }
    Some(match v {
        async_graphql::Value::Null => None,
        v => Some(v),
    })
}

/// The executor's complexity of the selections (each field 1 plus its
/// children; a list [`cursor::list_cost`]).
fn complexity(sels: &[Sel], args: &[plan::ListArgs], variables: &Variables) -> Option<usize> {
    let mut total = 0usize;
    for sel in sels {
        let cost = match &sel.field {
            Field::Typename(_) | Field::Leaf(_) => 1,
            Field::List(list) => cursor::list_cost(
                int(&args.get(list.n)?.first, variables)?,
                complexity(&list.sels, args, variables)?,
            ),
            field => complexity(field.selections(), args, variables)?.saturating_add(1),
        };
        total = total.saturating_add(cost);
    }
    Some(total)
}

/// The wire names of the enums the statements write, from the GraphQL enums
/// themselves (computed once).
pub fn names() -> &'static Names {
    use crate::auth::Role as StoredRole;
    use crate::auth::api_keys::{Environment, KeyScope};
    use crate::db::api_keys::KeyState;
    use crate::graphql::types::api_key::{KeyEnvironment, Scope, State};
    use crate::graphql::types::tenant::TenantStatus;
    use crate::graphql::types::viewer::Role;
    use async_graphql::EnumType;
    fn name<T: EnumType + PartialEq + Copy>(value: T) -> &'static str {
        T::items()
            .iter()
            .find(|item| item.value == value)
            .map_or("", |item| item.name)
    }
    static NAMES: std::sync::OnceLock<Names> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| Names {
        tenant_status: [TenantStatus::Suspended, TenantStatus::PendingDeletion]
            .map(|s| (s.as_db(), name(s)))
            .to_vec(),
        // `TenantStatus::from_db` reads anything else as active.
        tenant_status_otherwise: name(TenantStatus::Active),
        role: [
            StoredRole::Owner,
            StoredRole::Admin,
            StoredRole::Member,
            StoredRole::Billing,
            StoredRole::Viewer,
        ]
        .map(|r| (r.as_str(), name(Role::from(r))))
        .to_vec(),
        environment: vec![(
            Environment::Test.as_str(),
            name(KeyEnvironment::from(Environment::Test)),
        )],
        // `Environment::parse` failing reads as live.
        environment_otherwise: name(KeyEnvironment::from(Environment::Live)),
        scope: KeyScope::ALL
            .map(|k| (k.as_str(), name(Scope::from(k))))
            .to_vec(),
        key_state: [
            KeyState::Revoked,
            KeyState::Expired,
            KeyState::Rotating,
            KeyState::Active,
        ]
        .map(|s| name(State::from(s))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_read_as_the_executor_reads_them() {
        let vars = Variables::from_json(serde_json::json!({"n": 5, "s": "x", "z": null, "f": 1.5}));
        let var = |name: &str, nullable: bool, default: Option<i32>| Arg::Variable {
            name: async_graphql::Name::new(name),
            nullable,
            default: default.map(async_graphql::Value::from),
        };
        assert_eq!(int(&Arg::Absent, &vars), Some(None));
        assert_eq!(int(&var("n", true, None), &vars), Some(Some(5)));
        assert_eq!(int(&var("missing", true, Some(9)), &vars), Some(Some(9)));
        assert_eq!(int(&var("missing", true, None), &vars), Some(None));
        assert_eq!(int(&var("missing", false, None), &vars), None);
        assert_eq!(int(&var("z", false, Some(3)), &vars), None);
        assert_eq!(int(&var("z", true, Some(3)), &vars), Some(None));
        assert_eq!(int(&var("s", true, None), &vars), None);
        assert_eq!(int(&var("f", true, None), &vars), None);
        let big = Variables::from_json(serde_json::json!({"n": 5_000_000_000i64}));
        assert_eq!(int(&var("n", true, None), &big), None);
        assert_eq!(string(&var("s", true, None), &vars), Some(Some("x".into())));
        assert_eq!(string(&var("n", true, None), &vars), None);
    }

    #[test]
    fn complexity_counts_as_the_executor_does() {
        let doc = async_graphql::parser::parse_query(
            "{ tenant { id members(first: 10) { edges { node { role } } } } }",
        )
        .unwrap();
        let tree = plan::compile(&doc, None).unwrap();
        // tenant 1 + id 1 + members (10 × (edges 1 + node 1 + role 1) + 1).
        assert_eq!(
            complexity(&tree.root, &tree.args, &Variables::default()),
            Some(1 + 1 + 10 * 3 + 1)
        );
    }

    #[test]
    fn the_budgets_hold() {
        let reads = CompiledReads::default();
        let long = format!("{{ tenant {{ id }} }}{}", " ".repeat(MAX_TEXT));
        let doc = async_graphql::parser::parse_query(&long).unwrap();
        reads.learn(&long, None, &doc);
        assert!(reads.plan(&long, None).is_none());
        for i in 0..MAX_PLANS + 10 {
            let q = format!("{{ tenant {{ a{i}: id }} }}");
            let doc = async_graphql::parser::parse_query(&q).unwrap();
            reads.learn(&q, None, &doc);
        }
        assert_eq!(reads.admitted.lock().unwrap().len(), MAX_PLANS);
        let q = "{ tenant { id } }";
        reads.learn(q, None, &async_graphql::parser::parse_query(q).unwrap());
        reads.plans.run_pending_tasks();
        assert!(reads.plan(q, None).is_none(), "past the budget: executor");
        // Without a tenant field there is nothing to compile.
        let fresh = CompiledReads::default();
        let q = "{ __typename }";
        fresh.learn(q, None, &async_graphql::parser::parse_query(q).unwrap());
        assert!(fresh.plan(q, None).is_none());
    }
}
