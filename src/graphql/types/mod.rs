//! GraphQL object, input and enum types, one file per domain.

pub mod admin;
pub mod admin_tenants;
pub mod api_key;
pub mod audit;
pub mod billing;
pub mod custom_domain;
pub mod data_export;
pub mod erasure;
pub mod invitation;
pub mod member;
pub mod metric;
pub mod plan;
pub mod publishable;
pub mod session;
pub mod tenant;
pub mod tenant_usage;
pub mod usage;
pub mod usage_series;
pub mod user;
pub mod viewer;
pub mod webhook;
