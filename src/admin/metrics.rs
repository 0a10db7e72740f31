//! Platform admins' changes to the metric catalogue (`createMetric`,
//! `updateMetric`): every field validated before anything is written
//! (BAD_USER_INPUT naming it), each change audited with its before and after
//! in the transaction that makes it; the catalogue's trigger announces it to
//! every instance on commit. A metric's aggregation is fixed once created
//! (its rollups were added up by it).

use scoped_futures::ScopedFutureExt;
use serde_json::{Value, json};

use super::{actor, scope};
use crate::audit::{self, Entry, RequestMeta};
use crate::auth::Verified;
use crate::db::Db;
use crate::db::metrics::{self as rows, MetricRow, NewMetric};
use crate::error::{AppError, AppResult};
use crate::input::check_str;
use crate::tenancy::not_found;

/// The aggregations a metric may have.
pub const AGGREGATIONS: &[&str] = &["sum", "count", "max", "unique_count"];

/// A metric key: a lower-case letter, then up to 63 of a-z 0-9 _ . : -
pub fn metric_key(field: &str, key: &str) -> AppResult<String> {
    let ok = (1..=64).contains(&key.len())
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.' | b':' | b'-')
        });
    if !ok {
        return Err(AppError::bad_field(
            field,
            "use 1-64 characters: a lower-case letter, then a-z, 0-9, _ . : -",
        ));
    }
    Ok(key.to_owned())
}

/// A trimmed text of 1 to `max` characters without control characters.
fn text(field: &str, value: &str, max: usize) -> AppResult<String> {
    let value = value.trim();
    check_str(field, value)?;
    if value.is_empty() || value.chars().count() > max {
        return Err(AppError::bad_field(
            field,
            format!("must be 1 to {max} characters"),
        ));
    }
    Ok(value.to_owned())
}

/// What a platform admin gives of a new metric.
#[derive(Debug, Clone)]
pub struct MetricDraft {
    pub key: String,
    pub name: String,
    pub unit: String,
    /// One of [`AGGREGATIONS`].
    pub aggregation: String,
    pub unique_property: Option<String>,
}

impl MetricDraft {
    fn validated(self) -> AppResult<NewMetric> {
        let key = metric_key("key", &self.key)?;
        let name = text("name", &self.name, 100)?;
        let unit = text("unit", &self.unit, 32)?;
        if !AGGREGATIONS.contains(&self.aggregation.as_str()) {
            return Err(AppError::bad_field(
                "aggregation",
                "one of sum, count, max, unique_count",
            ));
        }
        let unique_property = match (self.aggregation.as_str(), self.unique_property) {
            ("unique_count", Some(p)) => {
                let ok = (1..=64).contains(&p.len())
                    && p.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                    && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                if !ok {
                    return Err(AppError::bad_field(
                        "uniqueProperty",
                        "1-64 letters, digits or underscores, not starting with a digit",
                    ));
                }
                Some(p)
            }
            ("unique_count", None) => {
                return Err(AppError::bad_field(
                    "uniqueProperty",
                    "a UNIQUE_COUNT metric needs the property it counts",
                ));
            }
            (_, Some(_)) => {
                return Err(AppError::bad_field(
                    "uniqueProperty",
                    "only a UNIQUE_COUNT metric counts a property",
                ));
            }
            (_, None) => None,
        };
        Ok(NewMetric {
            key,
            name,
            unit,
            aggregation: self.aggregation,
            unique_property,
        })
    }
}

/// What the audit trail records of a metric.
fn summary(name: &str, unit: &str, aggregation: &str, property: Option<&str>) -> Value {
    json!({ "name": name, "unit": unit, "aggregation": aggregation, "uniqueProperty": property })
}

/// Creates a metric. CONFLICT when its key is taken.
pub async fn create_metric(
    db: &Db,
    meta: &RequestMeta,
    admin: &Verified,
    draft: MetricDraft,
) -> AppResult<MetricRow> {
    let metric = draft.validated()?;
    let (meta, actor) = (meta.clone(), actor(admin));
    db.scoped(scope(admin), |conn| {
        async move {
            let created = rows::insert_if_key_free(conn, &metric)
                .await?
                .ok_or_else(|| {
                    AppError::conflict(format!("a metric with the key {} exists", metric.key))
                })?;
            let after = summary(
                &metric.name,
                &metric.unit,
                &metric.aggregation,
                metric.unique_property.as_deref(),
            );
            audit::record(
                conn,
                &meta,
                Entry::new(None, actor, "metric.create")
                    .target("metric", &metric.key)
                    .change(None, Some(after)),
            )
            .await?;
            tracing::info!(metric = %metric.key, "metric created");
            Ok(created)
        }
        .scope_boxed()
    })
    .await
}

/// Changes a metric's name or unit (only those given).
pub async fn update_metric(
    db: &Db,
    meta: &RequestMeta,
    admin: &Verified,
    key: &str,
    name: Option<String>,
    unit: Option<String>,
) -> AppResult<MetricRow> {
    let key = metric_key("key", key)?;
    if name.is_none() && unit.is_none() {
        return Err(AppError::bad_input(
            "nothing to change: give a name or a unit",
        ));
    }
    let name = name.map(|n| text("name", &n, 100)).transpose()?;
    let unit = unit.map(|u| text("unit", &u, 32)).transpose()?;
    let (meta, actor) = (meta.clone(), actor(admin));
    db.scoped(scope(admin), |conn| {
        async move {
            let before = rows::find_for_update(conn, &key)
                .await?
                .ok_or_else(|| not_found("metric"))?;
            let name = name.unwrap_or_else(|| before.name.clone());
            let unit = unit.unwrap_or_else(|| before.unit.clone());
            let updated = rows::update(conn, &key, &name, &unit).await?;
            let property = before.unique_property.as_deref();
            audit::record(
                conn,
                &meta,
                Entry::new(None, actor, "metric.update")
                    .target("metric", &key)
                    .change(
                        Some(summary(
                            &before.name,
                            &before.unit,
                            &before.aggregation,
                            property,
                        )),
                        Some(summary(&name, &unit, &before.aggregation, property)),
                    ),
            )
            .await?;
            tracing::info!(metric = %key, "metric changed");
            Ok(updated)
        }
        .scope_boxed()
    })
    .await
}
