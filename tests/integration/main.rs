//! The integration tests: one binary, a real PostgreSQL, the real router.

mod support;

mod admin_tenants;
mod audit_export;

mod billing;
mod billing_rls;
mod billing_webhooks;
mod budgets;
mod cli;
mod connections;
mod demo;
mod erasure;
mod exports;
mod hostile;
mod http_spec;
mod identity;
mod introspection;
mod invitations;
mod isolation;
mod key_detail;
mod key_owners;
mod key_reach;
mod keys;
mod layering;
mod limits;
mod matrix;
mod metrics;
mod owner_role;
mod plan_limits;
mod plans;
mod quotas;
mod reads;
mod redis;
mod rls;
mod schema;
mod secrets;
mod signup;
mod stripe_sim;
mod tenant_settings;
mod trusted_documents;
mod usage;
mod usage_durability;
mod usage_harden;
mod usage_live;
mod usage_reads;
