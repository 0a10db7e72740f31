//! `Metric` (an entry of the usage metric catalogue), its aggregation, and
//! the inputs of `createMetric` and `updateMetric`.

use async_graphql::{Enum, InputObject, SimpleObject};
use chrono::{DateTime, Utc};

use crate::db::metrics::MetricRow;

/// How a metric's events add up.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricAggregation {
    /// The sum of the events' quantities.
    Sum,
    /// The number of events.
    Count,
    /// The largest quantity.
    Max,
    /// The number of distinct values of one property of the events.
    UniqueCount,
}

impl MetricAggregation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sum => "sum",
            Self::Count => "count",
            Self::Max => "max",
            Self::UniqueCount => "unique_count",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "count" => Self::Count,
            "max" => Self::Max,
            "unique_count" => Self::UniqueCount,
            _ => Self::Sum,
        }
    }
}

/// A usage metric that can be recorded.
#[derive(SimpleObject, Debug, Clone)]
pub struct Metric {
    /// The metric's key, as events name it (`api_calls`, …).
    pub key: String,
    /// Its name for people.
    pub name: String,
    /// The unit of a quantity (`calls`, `GB`, …).
    pub unit: String,
    /// How its events add up.
    pub aggregation: MetricAggregation,
    /// The event property counted by a UNIQUE_COUNT metric.
    pub unique_property: Option<String>,
    /// When it was added to the catalogue.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<&MetricRow> for Metric {
    fn from(row: &MetricRow) -> Self {
        Self {
            key: row.key.clone(),
            name: row.name.clone(),
            unit: row.unit.clone(),
            aggregation: MetricAggregation::parse(&row.aggregation),
            unique_property: row.unique_property.clone(),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// What `createMetric` needs.
#[derive(InputObject, Debug, Clone)]
pub struct CreateMetricInput {
    /// A lower-case letter, then up to 63 of a-z 0-9 _ . : -
    pub key: String,
    /// Its name for people (1-100 characters).
    pub name: String,
    /// The unit of a quantity (1-32 characters).
    pub unit: String,
    /// How its events add up (fixed once created).
    pub aggregation: MetricAggregation,
    /// The property counted, for UNIQUE_COUNT only.
    pub unique_property: Option<String>,
}

impl From<CreateMetricInput> for crate::admin::MetricDraft {
    fn from(input: CreateMetricInput) -> Self {
        Self {
            key: input.key,
            name: input.name,
            unit: input.unit,
            aggregation: input.aggregation.as_str().to_owned(),
            unique_property: input.unique_property,
        }
    }
}

/// What `updateMetric` changes (only the fields given).
#[derive(InputObject, Debug, Clone)]
pub struct UpdateMetricInput {
    /// A new name (1-100 characters).
    pub name: Option<String>,
    /// A new unit (1-32 characters).
    pub unit: Option<String>,
}
