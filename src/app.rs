//! Shared state of a running server: database, signing keys, schema, settings.

use std::sync::Arc;

use crate::auth::jwt::JwtKeys;
use crate::config::{Environment, Limits};
use crate::db::Db;
use crate::graphql::AppSchema;

/// Settings the request path reads.
#[derive(Debug, Clone)]
pub struct Settings {
    pub environment: Environment,
    pub limits: Limits,
}

impl Settings {
    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }
}

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub keys: Arc<JwtKeys>,
    pub settings: Arc<Settings>,
    pub schema: AppSchema,
}

impl AppState {
    /// Assembles the state and the GraphQL schema over it.
    pub fn new(db: Db, keys: JwtKeys, settings: Settings) -> Self {
        let keys = Arc::new(keys);
        let settings = Arc::new(settings);
        let schema = crate::graphql::build_schema(db.clone(), keys.clone(), &settings);
        Self {
            db,
            keys,
            settings,
            schema,
        }
    }
}
