//! Compiled reads' statements: generated from a read tree ([`generate`]),
//! run with their binds and kept prepared per connection.
//! Its text is one of a bounded set (the compiled plans' budget), so the
//! statement cache (one entry per text and bind types, per connection) stays
//! bounded too.

use chrono::{DateTime, Utc};
use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Bool, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

pub mod generate;

/// A piece of a generated statement: text, or the bind at this index of the
/// values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Sql(String),
    Bind(usize),
}

/// A bind value.
#[derive(Debug, Clone)]
pub enum BindValue {
    Text(String),
    BigInt(i64),
    Bool(bool),
    OptTime(Option<DateTime<Utc>>),
    OptUuid(Option<Uuid>),
    Uuids(Vec<Uuid>),
    Times(Vec<DateTime<Utc>>),
}

/// The statement: pieces and the values their binds name.
struct Statement<'a> {
    pieces: &'a [Piece],
    values: &'a [BindValue],
}

impl QueryFragment<Pg> for Statement<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        for piece in self.pieces {
            match piece {
                Piece::Sql(text) => out.push_sql(text),
                Piece::Bind(i) => match &self.values[*i] {
                    BindValue::Text(v) => out.push_bind_param::<Text, _>(v)?,
                    BindValue::BigInt(v) => out.push_bind_param::<BigInt, _>(v)?,
                    BindValue::Bool(v) => out.push_bind_param::<Bool, _>(v)?,
                    BindValue::OptTime(v) => out.push_bind_param::<Nullable<Timestamptz>, _>(v)?,
                    BindValue::OptUuid(v) => {
                        out.push_bind_param::<Nullable<diesel::sql_types::Uuid>, _>(v)?
                    }
                    BindValue::Uuids(v) => {
                        out.push_bind_param::<Array<diesel::sql_types::Uuid>, _>(v)?
                    }
                    BindValue::Times(v) => out.push_bind_param::<Array<Timestamptz>, _>(v)?,
                },
            }
        }
        Ok(())
    }

    /// The text is one of the bounded set of compiled plans: cached by it.
    fn is_safe_to_cache_prepared(&self, _backend: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

impl QueryId for Statement<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Statement<'_> {
    type SqlType = Nullable<Text>;
}

/// Why a compiled read did not answer.
#[derive(Debug)]
pub enum ReadError {
    /// No pooled connection came within the pool's wait.
    Pool(diesel_async::pooled_connection::deadpool::PoolError),
    /// The statement failed.
    Statement(diesel::result::Error),
}

impl super::Db {
    /// Runs a compiled read's statement on a pooled connection, outside any
    /// transaction: the statement is its own, and sets the request's tenant
    /// and user itself, transaction-locally (see [`generate`]); its one row's
    /// one text column, NULL when its checks refused.
    pub async fn compiled_read(
        &self,
        pieces: &[Piece],
        values: &[BindValue],
    ) -> Result<Option<String>, ReadError> {
        let mut conn = self.checkout().await.map_err(ReadError::Pool)?;
        run(&mut conn, pieces, values)
            .await
            .map_err(ReadError::Statement)
    }
}

async fn run(
    conn: &mut AsyncPgConnection,
    pieces: &[Piece],
    values: &[BindValue],
) -> QueryResult<Option<String>> {
    Statement { pieces, values }.get_result(conn).await
}
