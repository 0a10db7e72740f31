//! From a parsed query document to a [`Plan`]: the selected fields as a typed
//! tree, when every one of them is a field the SQL generator knows.
//!
//! Anything else (a fragment, a directive, a field or argument not listed
//! here, two selections with the same response key) makes the document not
//! compilable, and it runs on the executor as before. Argument values are
//! kept as written (a literal or a variable) and read per request by
//! [`super::bind`].

use async_graphql::parser::types::{
    BaseType, ExecutableDocument, OperationType, Selection, SelectionSet, Type,
};
use async_graphql::{Name, Value};

use crate::db::compiled::generate::{Field, Leaf, List, ListKind, Sel};
use crate::graphql::document::Operations;

/// An argument as written in the document.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// Not given (the field's default).
    Absent,
    /// A literal (`null` included).
    Literal(Value),
    /// `$name`, declared by the operation with this type and default.
    Variable {
        name: Name,
        nullable: bool,
        default: Option<Value>,
    },
}

/// A compiled operation: its root selections, and each list's `first` and
/// `after` as written (by list number).
#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    pub root: Vec<Sel>,
    pub args: Vec<ListArgs>,
}

/// A list's arguments as written.
#[derive(Debug, Clone, PartialEq)]
pub struct ListArgs {
    pub first: Arg,
    pub after: Arg,
}

/// The GraphQL types the generator knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Query,
    Tenant,
    Connection(ListKind),
    Edge(ListKind),
    Member,
    User,
    ApiKey,
    PageInfo,
    RateLimit,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Self::Query => "Query",
            Self::Tenant => "Tenant",
            Self::Connection(ListKind::Members) => "MemberConnection",
            Self::Connection(ListKind::ApiKeys) => "ApiKeyConnection",
            Self::Edge(ListKind::Members) => "MemberEdge",
            Self::Edge(ListKind::ApiKeys) => "ApiKeyEdge",
            Self::Member => "Member",
            Self::User => "User",
            Self::ApiKey => "ApiKey",
            Self::PageInfo => "PageInfo",
            Self::RateLimit => "RateLimit",
        }
    }

    fn node(kind: ListKind) -> Self {
        match kind {
            ListKind::Members => Self::Member,
            ListKind::ApiKeys => Self::ApiKey,
        }
    }

    /// A leaf of this type by name.
    fn leaf(self, name: &str) -> Option<Leaf> {
        use Leaf::*;
        Some(match (self, name) {
            (Self::Tenant, "id") => TenantId,
            (Self::Tenant, "name") => TenantName,
            (Self::Tenant, "slug") => TenantSlug,
            (Self::Tenant, "status") => TenantStatus,
            (Self::Tenant, "statusReason") => TenantStatusReason,
            (Self::Tenant, "planKey") => TenantPlanKey,
            (Self::Tenant, "createdAt") => TenantCreatedAt,
            (Self::Tenant, "memberCount") => TenantMemberCount,
            (Self::Member, "role") => MemberRole,
            (Self::Member, "joinedAt") => MemberJoinedAt,
            (Self::User, "id") => UserId,
            (Self::User, "email") => UserEmail,
            (Self::User, "emailVerified") => UserEmailVerified,
            (Self::User, "createdAt") => UserCreatedAt,
            (Self::ApiKey, "id") => KeyId,
            (Self::ApiKey, "name") => KeyName,
            (Self::ApiKey, "environment") => KeyEnvironment,
            (Self::ApiKey, "displayPrefix") => KeyDisplayPrefix,
            (Self::ApiKey, "scopes") => KeyScopes,
            (Self::ApiKey, "state") => KeyState,
            (Self::ApiKey, "expiresAt") => KeyExpiresAt,
            (Self::ApiKey, "revokedAt") => KeyRevokedAt,
            (Self::ApiKey, "rotationEndsAt") => KeyRotationEndsAt,
            (Self::ApiKey, "lastUsedAt") => KeyLastUsedAt,
            (Self::ApiKey, "createdById") => KeyCreatedById,
            (Self::ApiKey, "createdAt") => KeyCreatedAt,
            (Self::RateLimit, "limit") => RateLimitLimit,
            (Self::RateLimit, "periodSeconds") => RateLimitPeriod,
            (Self::Edge(_), "cursor") => Cursor,
            (Self::PageInfo, "hasNextPage") => HasNextPage,
            (Self::PageInfo, "hasPreviousPage") => HasPreviousPage,
            (Self::PageInfo, "startCursor") => StartCursor,
            (Self::PageInfo, "endCursor") => EndCursor,
            _ => return None,
        })
    }
}

/// The compilable tree of `operation_name`'s operation of `doc`, or `None`.
pub fn compile(doc: &ExecutableDocument, operation_name: Option<&str>) -> Option<Tree> {
    if !doc.fragments.is_empty() {
        return None;
    }
    // One operation only: the executor validates every operation of the
    // document (its variables, the complexity of them all), the plan only its
    // own.
    if doc.operations.iter().count() != 1 {
        return None;
    }
    let op = Operations::named(operation_name).one(doc)?;
    let op = &op.node;
    if op.ty != OperationType::Query || !op.directives.is_empty() {
        return None;
    }
    let mut vars = Vars(Vec::new());
    for def in &op.variable_definitions {
        let def = &def.node;
        if !def.directives.is_empty() {
            return None;
        }
        vars.0.push((
            def.name.node.clone(),
            def.var_type.node.clone(),
            def.default_value.as_ref().map(|v| v.node.clone()),
        ));
    }
    let mut args = Vec::new();
    let root = set(Ty::Query, &op.selection_set.node, &vars, &mut args)?;
    Some(Tree { root, args })
}

/// The operation's variable definitions: name, type, default.
struct Vars(Vec<(Name, Type, Option<Value>)>);

impl Vars {
    /// An argument of scalar type `scalar` (`Int`, `String`): a literal of
    /// that type or null (`constant`), or a variable (`variable`: the
    /// argument is exactly `$name`) declared with exactly that (nullable or
    /// not) type.
    fn arg(&self, variable: Option<Name>, constant: Value, scalar: &str) -> Option<Arg> {
        if let Some(name) = variable {
            if constant != Value::Null {
                // A variable inside a list or object.
                return None;
            }
            let (_, ty, default) = self.0.iter().find(|(n, _, _)| *n == name)?;
            let BaseType::Named(base) = &ty.base else {
                return None;
            };
            if base.as_str() != scalar {
                return None;
            }
            return Some(Arg::Variable {
                name,
                nullable: ty.nullable,
                default: default.clone(),
            });
        }
        match &constant {
            Value::Null => Some(Arg::Literal(Value::Null)),
            Value::Number(n) if scalar == "Int" && n.is_i64() => Some(Arg::Literal(constant)),
            Value::String(_) if scalar == "String" => Some(Arg::Literal(constant)),
            _ => None,
        }
    }
}

fn set(ty: Ty, set: &SelectionSet, vars: &Vars, args: &mut Vec<ListArgs>) -> Option<Vec<Sel>> {
    let mut out: Vec<Sel> = Vec::with_capacity(set.items.len());
    for item in &set.items {
        let Selection::Field(field) = &item.node else {
            return None;
        };
        let field = &field.node;
        if !field.directives.is_empty() {
            return None;
        }
        let name = field.name.node.as_str();
        let key = field
            .alias
            .as_ref()
            .map_or(name, |a| a.node.as_str())
            .to_owned();
        if out.iter().any(|s| s.key == key) {
            return None;
        }
        let sub = &field.selection_set.node;
        let leafy = sub.items.is_empty();
        let compiled = if field.arguments.is_empty() {
            plain(ty, name, sub, leafy, vars, args)?
        } else {
            list(ty, name, field, sub, vars, args)?
        };
        out.push(Sel {
            key,
            field: compiled,
        });
    }
    (!out.is_empty()).then_some(out)
}

/// A field without arguments.
fn plain(
    ty: Ty,
    name: &str,
    sub: &SelectionSet,
    leafy: bool,
    vars: &Vars,
    args: &mut Vec<ListArgs>,
) -> Option<Field> {
    if name == "__typename" {
        return leafy.then_some(Field::Typename(ty.name()));
    }
    if let Some(leaf) = ty.leaf(name) {
        return leafy.then_some(Field::Leaf(leaf));
    }
    if leafy {
        return None;
    }
    let kind = match (ty, name) {
        (Ty::Tenant, "members") => Some(ListKind::Members),
        (Ty::Tenant, "apiKeys") => Some(ListKind::ApiKeys),
        _ => None,
    };
    if let Some(kind) = kind {
        // Numbered before its selections are read (it holds no lists).
        let n = args.len();
        args.push(ListArgs {
            first: Arg::Absent,
            after: Arg::Absent,
        });
        return Some(Field::List(List {
            kind,
            n,
            sels: set(Ty::Connection(kind), sub, vars, args)?,
        }));
    }
    Some(match (ty, name) {
        (Ty::Query, "tenant") => Field::Tenant(set(Ty::Tenant, sub, vars, args)?),
        (Ty::Connection(kind), "edges") => Field::Edges(set(Ty::Edge(kind), sub, vars, args)?),
        (Ty::Connection(kind), "nodes") => Field::Nodes(set(Ty::node(kind), sub, vars, args)?),
        (Ty::Connection(_), "pageInfo") => Field::PageInfo(set(Ty::PageInfo, sub, vars, args)?),
        (Ty::Edge(kind), "node") => Field::Node(set(Ty::node(kind), sub, vars, args)?),
        (Ty::Member, "user") => Field::User(set(Ty::User, sub, vars, args)?),
        (Ty::ApiKey, "rateLimit") => Field::RateLimit(set(Ty::RateLimit, sub, vars, args)?),
        _ => return None,
    })
}

/// A list field with `first` and/or `after` (nothing else: a filter runs on
/// the executor).
fn list(
    ty: Ty,
    name: &str,
    field: &async_graphql::parser::types::Field,
    sub: &SelectionSet,
    vars: &Vars,
    args: &mut Vec<ListArgs>,
) -> Option<Field> {
    let Field::List(list) = plain(ty, name, sub, sub.items.is_empty(), vars, args)? else {
        return None;
    };
    for (arg, value) in &field.arguments {
        let slot = &mut args[list.n];
        let (slot, scalar) = match arg.node.as_str() {
            "first" => (&mut slot.first, "Int"),
            "after" => (&mut slot.after, "String"),
            _ => return None,
        };
        if *slot != Arg::Absent {
            return None;
        }
        // The parser's value type is not re-exported: a variable is told by
        // `into_const_with`, which hands over every variable's name.
        let mut variable = None;
        let mut variables = 0;
        let constant = value
            .node
            .clone()
            .into_const_with(|name| {
                variable = Some(name);
                variables += 1;
                Ok::<_, std::convert::Infallible>(Value::Null)
            })
            .ok()?;
        if variables > 1 {
            return None;
        }
        *slot = vars.arg(variable, constant, scalar)?;
    }
    Some(Field::List(list))
}

impl Tree {
    /// Whether any list reads members: billing members may not.
    pub fn reads_lists(&self) -> bool {
        fn any(sels: &[Sel]) -> bool {
            sels.iter().any(|s| match &s.field {
                Field::List(_) | Field::Leaf(Leaf::TenantMemberCount) => true,
                Field::Tenant(sub) => any(sub),
                _ => false,
            })
        }
        any(&self.root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(q: &str) -> Option<Tree> {
        let doc = async_graphql::parser::parse_query(q).unwrap();
        compile(&doc, None)
    }

    #[test]
    fn the_dashboard_query_compiles() {
        let t = tree(
            "{ tenant { members(first: 50) { edges { node { role user { email } } } } \
             apiKeys(first: 50) { edges { node { id name displayPrefix state scopes environment \
             lastUsedAt } } } } }",
        )
        .unwrap();
        assert!(t.reads_lists());
        let Field::Tenant(sub) = &t.root[0].field else {
            panic!()
        };
        assert!(matches!(&sub[0].field, Field::List(l) if l.kind == ListKind::Members && l.n == 0));
        assert!(matches!(&sub[1].field, Field::List(l) if l.kind == ListKind::ApiKeys && l.n == 1));
        assert_eq!(t.args[0].first, Arg::Literal(Value::from(50)));
    }

    #[test]
    fn anything_unknown_runs_on_the_executor() {
        for q in [
            "{ viewer { id } }",
            "{ tenant { members(first: 5) { edges { node { role } } } } } fragment F on Tenant { id }",
            "{ tenant { ...on Tenant { id } } }",
            "{ tenant { id @include(if: true) } }",
            "{ tenant { id id } }",
            "{ tenant { a: id a: name } }",
            "{ tenant { apiKeys(filter: {state: ACTIVE}) { edges { cursor } } } }",
            "{ tenant { apiKeys(first: \"5\") { edges { cursor } } } }",
            "{ tenant { apiKeys(after: 5) { edges { cursor } } } }",
            "{ tenant { apiKeys(first: 1, first: 2) { edges { cursor } } } }",
            "query($n: String) { tenant { apiKeys(first: $n) { edges { cursor } } } }",
            "query($n: [Int]) { tenant { apiKeys(first: $n) { edges { cursor } } } }",
            "{ tenant { apiKeys { edges { node { usage(metric: \"x\") { total } } } } } }",
            "{ tenant { members } }",
            "{ tenant { id { x } } }",
            "mutation { logOut }",
            "subscription { auditEvents { id } }",
            "{ tenant { __typename(x: 1) } }",
            "{ tenant { id(x: 1) } }",
            "{ __schema { types { name } } }",
            "query A { tenant { id } } query B($n: Int!) { tenant { members(first: $n) { nodes { role } } } }",
        ] {
            assert_eq!(tree(q), None, "{q}");
        }
    }

    #[test]
    fn variables_keep_their_declared_type_and_default() {
        let t = tree(
            "query($n: Int = 7, $c: String!) { tenant { members(first: $n, after: $c) \
             { pageInfo { endCursor } } } }",
        )
        .unwrap();
        let l = &t.args[0];
        assert_eq!(
            l.first,
            Arg::Variable {
                name: Name::new("n"),
                nullable: true,
                default: Some(Value::from(7))
            }
        );
        assert!(matches!(
            &l.after,
            Arg::Variable {
                nullable: false,
                default: None,
                ..
            }
        ));
        assert!(tree("query { tenant { id name __typename } __typename }").is_some());
        assert!(!tree("{ tenant { id } }").unwrap().reads_lists());
    }
}
