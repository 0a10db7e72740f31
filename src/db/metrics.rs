//! The metric catalogue: rows and queries.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::metrics;

/// A metric row.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = metrics)]
pub struct MetricRow {
    pub key: String,
    pub name: String,
    pub unit: String,
    /// `sum`, `count`, `max` or `unique_count`.
    pub aggregation: String,
    /// The property counted by a `unique_count` metric.
    pub unique_property: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a platform admin sets of a new metric.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = metrics)]
pub struct NewMetric {
    pub key: String,
    pub name: String,
    pub unit: String,
    pub aggregation: String,
    pub unique_property: Option<String>,
}

/// Every metric, by key.
pub async fn all(conn: &mut AsyncPgConnection) -> QueryResult<Vec<MetricRow>> {
    metrics::table
        .select(MetricRow::as_select())
        .order(metrics::key)
        .load(conn)
        .await
}

/// The metrics among `keys`.
pub async fn among(conn: &mut AsyncPgConnection, keys: &[&str]) -> QueryResult<Vec<MetricRow>> {
    metrics::table
        .filter(metrics::key.eq_any(keys))
        .select(MetricRow::as_select())
        .load(conn)
        .await
}

/// Inserts `metric` unless its key is taken (`None` then).
pub async fn insert_if_key_free(
    conn: &mut AsyncPgConnection,
    metric: &NewMetric,
) -> QueryResult<Option<MetricRow>> {
    diesel::insert_into(metrics::table)
        .values(metric)
        .on_conflict_do_nothing()
        .returning(MetricRow::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// The metric `key`, locked for an update.
pub async fn find_for_update(
    conn: &mut AsyncPgConnection,
    key: &str,
) -> QueryResult<Option<MetricRow>> {
    metrics::table
        .find(key)
        .select(MetricRow::as_select())
        .for_update()
        .get_result(conn)
        .await
        .optional()
}

/// Sets a metric's name and unit (its aggregation is fixed once created).
pub async fn update(
    conn: &mut AsyncPgConnection,
    key: &str,
    name: &str,
    unit: &str,
) -> QueryResult<MetricRow> {
    diesel::update(metrics::table.find(key))
        .set((metrics::name.eq(name), metrics::unit.eq(unit)))
        .returning(MetricRow::as_returning())
        .get_result(conn)
        .await
}
