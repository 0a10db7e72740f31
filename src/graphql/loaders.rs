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

/// What one `ApiKey.usage` asks for: a key's series over a range (in the
/// key's own environment).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyUsage {
    pub key_id: Uuid,
    pub environment: &'static str,
    pub range: crate::db::usage_reads::Range,
}

/// Keys' usage series: one statement per distinct range asked in a batch
/// (a page of keys asking the same range costs one), in the list's scope.
pub struct KeyUsageLoader {
    pub db: Db,
    pub scope: Scope,
    pub tenant_id: Uuid,
}

impl Loader<KeyUsage> for KeyUsageLoader {
    type Value = crate::usage::reads::Series;
    type Error = SharedError;

    async fn load(&self, keys: &[KeyUsage]) -> Result<HashMap<KeyUsage, Self::Value>, Self::Error> {
        let mut by_range: HashMap<&crate::db::usage_reads::Range, Vec<&KeyUsage>> = HashMap::new();
        for key in keys {
            by_range.entry(&key.range).or_default().push(key);
        }
        let mut out = HashMap::with_capacity(keys.len());
        for (range, asked) in by_range {
            let ids: Vec<Uuid> = asked.iter().map(|k| k.key_id).collect();
            let (tenant, owned) = (self.tenant_id, range.clone());
            let rows = self
                .db
                .scoped(self.scope.clone(), |conn| {
                    async move {
                        Ok(crate::db::usage_reads::series(
                            conn,
                            tenant,
                            &["live", "test"],
                            &ids,
                            &owned,
                        )
                        .await?)
                    }
                    .scope_boxed()
                })
                .await
                .map_err(SharedError::from)?;
            let now = chrono::Utc::now();
            for key in asked {
                // A key records only in its own environment; the filter keeps
                // that true even for a row that says otherwise.
                let mine = rows
                    .iter()
                    .filter(|r| r.api_key_id == key.key_id && r.environment == key.environment);
                let distinct = mine.clone().find(|r| r.bucket.is_none()).map(|r| r.value);
                let values = mine.filter_map(|r| Some((r.bucket?, r.value)));
                let series = crate::usage::reads::Series::build(range, values, distinct, now);
                out.insert((*key).clone(), series);
            }
        }
        Ok(out)
    }
}
