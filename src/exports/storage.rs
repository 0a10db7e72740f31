//! Where archives are kept: one small trait ([`ExportStorage`]: put
//! streamed, open streamed, delete, delete everything of a tenant or a
//! person) so an object store can take the folder's place, and
//! [`FolderStorage`], a folder (by default `exports/` under the data dir).
//!
//! Keys are made here from ids only ([`key_for`]):
//! `tenants/<tenant>/<export>.zip` and `users/<user>/<export>.zip`, so a
//! tenant's or a person's files are one prefix.

use std::io;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use tokio::io::{AsyncRead, AsyncWriteExt};
use uuid::Uuid;

use crate::db::data_exports::Owner;

/// A readable archive: its length and its bytes, streamed.
pub type Opened = (u64, Box<dyn AsyncRead + Send + Unpin>);

/// Archive storage. Every method is idempotent where it can be (deleting
/// what is gone is fine).
#[async_trait]
pub trait ExportStorage: Send + Sync + std::fmt::Debug {
    /// Stores `body` under `key` (replacing what was there), streamed; the
    /// key appears only once it is complete. Returns the bytes written.
    async fn put(&self, key: &str, body: &mut (dyn AsyncRead + Send + Unpin)) -> io::Result<u64>;
    /// Opens `key` for reading, streamed (`None`: no such archive).
    async fn open(&self, key: &str) -> io::Result<Option<Opened>>;
    /// Deletes `key` (fine when it is gone).
    async fn delete(&self, key: &str) -> io::Result<()>;
    /// Deletes every archive of a tenant.
    async fn delete_tenant(&self, tenant: Uuid) -> io::Result<()>;
    /// Deletes every personal archive of a user.
    async fn delete_user(&self, user: Uuid) -> io::Result<()>;
}

/// The key of export `id` of `owner`.
pub fn key_for(owner: Owner, id: Uuid) -> String {
    match owner {
        Owner::Tenant(t) => format!("tenants/{t}/{id}.zip"),
        Owner::Person(u) => format!("users/{u}/{id}.zip"),
    }
}

/// Archives as files in a folder.
#[derive(Debug, Clone)]
pub struct FolderStorage {
    root: PathBuf,
}

impl FolderStorage {
    /// Storage under `root` (created on first use).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The path of `key`: keys are ours (ids, `/`, `.zip`), but a key with
    /// anything else is refused rather than joined.
    fn path(&self, key: &str) -> io::Result<PathBuf> {
        let ok = !key.is_empty()
            && key.split('/').all(|part| {
                !part.is_empty()
                    && !part.starts_with('.')
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            });
        if !ok {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("not an export key: {key:?}"),
            ));
        }
        Ok(self.root.join(key))
    }
}

async fn remove_dir(path: &Path) -> io::Result<()> {
    match tokio::fs::remove_dir_all(path).await {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[async_trait]
impl ExportStorage for FolderStorage {
    async fn put(&self, key: &str, body: &mut (dyn AsyncRead + Send + Unpin)) -> io::Result<u64> {
        let path = self.path(key)?;
        let dir = path.parent().expect("keys have a folder");
        tokio::fs::create_dir_all(dir).await?;
        let part = dir.join(format!(".{}.part", Uuid::new_v4().simple()));
        let result = async {
            let mut file = tokio::fs::File::create(&part).await?;
            let n = tokio::io::copy(body, &mut file).await?;
            file.flush().await?;
            file.sync_all().await?;
            tokio::fs::rename(&part, &path).await?;
            Ok(n)
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&part).await;
        }
        result
    }

    async fn open(&self, key: &str) -> io::Result<Option<Opened>> {
        let path = self.path(key)?;
        match tokio::fs::File::open(&path).await {
            Ok(file) => {
                let len = file.metadata().await?.len();
                Ok(Some((len, Box::new(file))))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn delete(&self, key: &str) -> io::Result<()> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    async fn delete_tenant(&self, tenant: Uuid) -> io::Result<()> {
        remove_dir(&self.root.join("tenants").join(tenant.to_string())).await
    }

    async fn delete_user(&self, user: Uuid) -> io::Result<()> {
        remove_dir(&self.root.join("users").join(user.to_string())).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn put_open_delete_round_trip() {
        let root = PathBuf::from("/tmp").join(format!("tg-storage-{}", Uuid::new_v4()));
        let store = FolderStorage::new(&root);
        let (t, id) = (Uuid::new_v4(), Uuid::new_v4());
        let key = key_for(Owner::Tenant(t), id);
        let mut body: &[u8] = b"PK archive bytes";
        assert_eq!(store.put(&key, &mut body).await.unwrap(), 16);
        let (len, mut reader) = store.open(&key).await.unwrap().unwrap();
        assert_eq!(len, 16);
        let mut read = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut reader, &mut read)
            .await
            .unwrap();
        assert_eq!(read, b"PK archive bytes");
        store.delete_tenant(t).await.unwrap();
        assert!(store.open(&key).await.unwrap().is_none());
        store.delete(&key).await.unwrap();
        for bad in ["", "../x", "tenants/../../etc", "a//b", ".hidden/x.zip"] {
            assert!(store.open(bad).await.is_err(), "{bad}");
        }
        let _ = std::fs::remove_dir_all(root);
    }
}
