//! The distinct values of UNIQUE_COUNT metrics this instance has seen
//! committed, so that a batch sends the database only values it may not
//! have yet: most values of a bucket repeat (the same active users hour
//! after hour), and each one sent costs a probe of `usage_distinct`'s
//! primary key that finds it there.
//!
//! Only what a committed transaction wrote (or found stored) is remembered,
//! after the commit, so a value is never taken as stored when it is not: a
//! rolled-back write remembers nothing. Rows of `usage_distinct` are
//! removed only by the prune, for buckets older than any event still
//! accepted (35 days), and by a tenant's purge, after which the tenant
//! records nothing. Another instance's values are not here: they are sent,
//! and the database answers that they are stored.
//!
//! Bounded: at most [`CAPACITY`] entries of 16 bytes (a digest of tenant,
//! bucket and value), the least used dropped first; forgetting costs only
//! a probe.

use chrono::{DateTime, Utc};
use moka::sync::Cache;
use uuid::Uuid;

use crate::db::usage::RollupKey;

/// Most distinct values remembered per instance (about 3 MB).
pub const CAPACITY: u64 = 50_000;

/// A distinct value of a bucket: SHA-256 of tenant, environment, metric,
/// granularity, key, bucket and the value's own digest, cut to 16 bytes.
pub type Id = u128;

/// What a value of a bucket is remembered by.
pub fn id(tenant: Uuid, key: &RollupKey<'_>, digest: &[u8; 16]) -> Id {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(tenant.as_bytes());
    for part in [key.environment, key.metric, key.granularity] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    hash.update(key.api_key_id.as_bytes());
    hash.update(micros(key.bucket).to_be_bytes());
    hash.update(digest);
    let mut first = [0u8; 16];
    first.copy_from_slice(&hash.finalize()[..16]);
    u128::from_be_bytes(first)
}

fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// The values this instance saw committed.
#[derive(Clone)]
pub struct KnownDistinct {
    stored: Cache<Id, ()>,
}

impl Default for KnownDistinct {
    fn default() -> Self {
        Self {
            stored: Cache::builder().max_capacity(CAPACITY).build(),
        }
    }
}

impl KnownDistinct {
    /// Whether a committed write stored (or found) this value.
    pub fn known(&self, id: Id) -> bool {
        self.stored.contains_key(&id)
    }

    /// Remembers the values of a committed write.
    pub fn remember(&self, ids: impl IntoIterator<Item = Id>) {
        for id in ids {
            self.stored.insert(id, ());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn key(metric: &str) -> RollupKey<'_> {
        RollupKey {
            environment: "live",
            metric,
            granularity: "hour",
            api_key_id: Uuid::nil(),
            bucket: Utc.with_ymd_and_hms(2026, 12, 6, 10, 0, 0).unwrap(),
        }
    }

    #[test]
    fn every_part_of_a_value_tells_it_apart() {
        let tenant = Uuid::from_u128(1);
        let digest = [7u8; 16];
        let base = id(tenant, &key("seats"), &digest);
        assert_eq!(base, id(tenant, &key("seats"), &digest));
        assert_ne!(base, id(Uuid::from_u128(2), &key("seats"), &digest));
        assert_ne!(base, id(tenant, &key("seat"), &digest));
        assert_ne!(base, id(tenant, &key("seats"), &[8u8; 16]));
        let mut other = key("seats");
        other.granularity = "day";
        assert_ne!(base, id(tenant, &other, &digest));
        other = key("seats");
        other.environment = "test";
        assert_ne!(base, id(tenant, &other, &digest));
        other = key("seats");
        other.api_key_id = Uuid::from_u128(3);
        assert_ne!(base, id(tenant, &other, &digest));
        other = key("seats");
        other.bucket += chrono::Duration::hours(1);
        assert_ne!(base, id(tenant, &other, &digest));
        // Parts are delimited: "ab"+"c" is not "a"+"bc".
        let mut left = key("ab");
        left.granularity = "c";
        let mut right = key("a");
        right.granularity = "bc";
        assert_ne!(id(tenant, &left, &digest), id(tenant, &right, &digest));
    }

    #[test]
    fn only_what_is_remembered_is_known() {
        let known = KnownDistinct::default();
        assert!(!known.known(1));
        known.remember([1, 2]);
        assert!(known.known(1) && known.known(2) && !known.known(3));
    }
}
