//! Hand-written statements kept prepared per connection. `diesel::sql_query`
//! marks its statement as not cacheable, so PostgreSQL parses and plans it
//! on every call (for a batch write, about 4 % of the database's CPU in
//! bench/usage.sh). [`prepared`] takes only a `&'static str`, so its text is
//! the same on every call and the statement cache (one entry per text and
//! bind types, per connection) stays as small as the code that uses it.

use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId, SqlQuery};

/// A statement of constant text that the connection keeps prepared.
#[derive(Debug, Clone)]
pub struct Prepared<Q>(Q);

/// `diesel::sql_query(text)` with the parameters `binds` adds to it, kept
/// prepared per connection.
pub fn prepared<Q>(text: &'static str, binds: impl FnOnce(SqlQuery) -> Q) -> Prepared<Q> {
    Prepared(binds(diesel::sql_query(text)))
}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Prepared<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    /// The text is constant (see [`prepared`]): cached by its text.
    fn is_safe_to_cache_prepared(&self, _backend: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q> QueryId for Prepared<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Prepared<Q> {
    type SqlType = Q::SqlType;
}
