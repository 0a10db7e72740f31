//! The integration tests: one binary, a real PostgreSQL, the real router.

mod support;

mod cli;
mod connections;
mod http_spec;
mod identity;
mod isolation;
mod keys;
mod limits;
mod matrix;
mod redis;
mod rls;
mod schema;
mod signup;
