//! tenantgate: the control plane of a multi-tenant SaaS, served as one GraphQL API.
//!
//! See ARCHITECTURE.md for the bird's-eye view and the codemap.

pub mod admin;
pub mod app;
pub mod audit;
pub mod auth;
pub mod billing;
pub mod config;
pub mod db;
pub mod demo;
pub mod domains;
pub mod erasure;
pub mod error;
pub mod exports;
pub mod graphql;
pub mod http;
pub mod input;
pub mod mail;
pub mod members;
pub mod plans;
pub mod server;
pub mod stripe_sim;
pub mod tenancy;
pub mod usage;
pub mod webhooks;
