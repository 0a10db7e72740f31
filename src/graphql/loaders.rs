//! DataLoaders: one `= ANY` statement per batch, under the scope of the list
//! that needs them (a loader is made per list, so it reads in that list's scope).

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use scoped_futures::ScopedFutureExt;
use uuid::Uuid;

use crate::db::{Db, users::User};
use crate::error::SharedError;
use crate::tenancy::Scope;

/// Users by id.
pub struct UserLoader {
    pub db: Db,
    pub scope: Scope,
}

impl Loader<Uuid> for UserLoader {
    type Value = User;
    type Error = SharedError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, User>, Self::Error> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let ids = keys.to_vec();
        let rows = self
            .db
            .scoped(self.scope.clone(), |conn| {
                async move { Ok(crate::db::users::by_ids(conn, &ids).await?) }.scope_boxed()
            })
            .await
            .map_err(SharedError::from)?;
        Ok(rows.into_iter().map(|u| (u.id, u)).collect())
    }
}
