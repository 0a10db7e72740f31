//! GraphQL object, input and enum types, one file per domain.

pub mod tenant;
pub mod user;
pub mod viewer;
