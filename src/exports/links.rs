//! Download links. Each read of `downloadUrl` mints one:
//! `/v1/exports/<export>/download?token=<user>.<nonce>`, valid until the
//! export expires (24 hours at most) and once. Only SHA-256 hashes of the
//! nonce and of a second secret (the *binding*) are stored.
//!
//! Who downloads: a URL carries no bearer token (URLs end up in logs and
//! histories). The binding secret goes back to the browser that read the
//! URL as an HttpOnly, `SameSite=Strict` cookie scoped to that export's
//! download path (`tg_export_<id>`; the refresh cookie is scoped to
//! `/graphql` and never reaches `/v1/`); a client that is not a browser
//! sends the access token of the same user in `Authorization` instead. The
//! link is bound to the user who read it: anyone else (another tenant's user
//! included) is refused even with the URL, and at download the user must
//! still be an owner of an active tenant (for a tenant export).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::RngCore;
use scoped_futures::ScopedFutureExt;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::Exports;
use super::storage::{Opened, key_for};
use crate::audit::{self, Actor, Entry, RequestMeta};
use crate::db::data_exports::{self, Export, Owner};
use crate::error::{AppError, AppResult};
use crate::tenancy::Scope;

/// A minted link: the URL and the cookie that binds it to the browser.
#[derive(Debug, Clone)]
pub struct Minted {
    pub url: String,
    /// The `Set-Cookie` value carrying the binding secret.
    pub cookie: String,
}

/// The name of the binding cookie of `export`.
pub fn cookie_name(export: Uuid) -> String {
    format!("tg_export_{}", export.simple())
}

/// The path downloads of `export` are served at.
pub fn download_path(export: Uuid) -> String {
    format!("/v1/exports/{export}/download")
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn secret() -> String {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    URL_SAFE_NO_PAD.encode(raw)
}

/// How the downloader proves who they are.
#[derive(Debug, Clone, Default)]
pub struct Proof {
    /// The binding cookie of this export, if sent.
    pub cookie: Option<String>,
    /// The user of a valid access token in `Authorization`, if sent.
    pub bearer_user: Option<Uuid>,
    /// The tenant that token's session is bound to (signed in on its custom
    /// domain), if any: it opens only that tenant's exports.
    pub bearer_bound: Option<Uuid>,
}

/// What may be streamed: the archive and its download name.
pub struct Download {
    pub file_name: String,
    pub opened: Opened,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("file_name", &self.file_name)
            .field("len", &self.opened.0)
            .finish()
    }
}

impl Exports {
    /// Mints a link to `export` (ready) for `user`, who may read it (checked
    /// by the caller). `None` when the export is not ready.
    pub async fn mint(&self, export: &Export, user: Uuid) -> AppResult<Option<Minted>> {
        let Some(expires) = export.expires_at.filter(|_| export.status == "ready") else {
            return Ok(None);
        };
        let now = Utc::now();
        let expires = expires.min(now + self.settings().retention.min(chrono::Duration::hours(24)));
        if expires <= now {
            return Ok(None);
        }
        let (nonce, binding) = (secret(), secret());
        let scope = match export.owner() {
            Owner::Tenant(t) => Scope::tenant_user(t, user),
            Owner::Person(u) => Scope::user(u),
        };
        let (nonce_hash, binding_hash) = (sha256(nonce.as_bytes()), sha256(binding.as_bytes()));
        let row = export.clone();
        self.db()
            .scoped(scope, |conn| {
                async move {
                    let made = data_exports::insert_link(
                        conn,
                        &nonce_hash,
                        &row,
                        user,
                        &binding_hash,
                        expires,
                    )
                    .await?;
                    if !made {
                        return Err(AppError::rate_limited(
                            format!(
                                "at most {} download links per export: use one you have \
                                 (each works once), or ask for a new export",
                                data_exports::LINKS_PER_EXPORT_AND_USER
                            ),
                            std::time::Duration::from_secs(3600),
                        ));
                    }
                    Ok(())
                }
                .scope_boxed()
            })
            .await?;
        let path = download_path(export.id);
        let url = format!(
            "{}{path}?token={}.{nonce}",
            self.mailer().public_url.trim_end_matches('/'),
            user.simple()
        );
        let max_age = (expires - now).num_seconds().max(1);
        let cookie = format!(
            "{}={binding}; HttpOnly; Secure; SameSite=Strict; Path={path}; Max-Age={max_age}",
            cookie_name(export.id)
        );
        Ok(Some(Minted { url, cookie }))
    }

    /// Checks a download of `export_id` with `token` (the URL's) and `proof`,
    /// spends the link and opens the archive. NOT_FOUND for an unknown link
    /// or export, FORBIDDEN for anyone but the link's user (or a user who is
    /// no longer an owner), GONE for a used or expired link or archive.
    pub async fn open_download(
        &self,
        export_id: Uuid,
        token: &str,
        proof: &Proof,
        meta: &RequestMeta,
    ) -> AppResult<Download> {
        let unknown = || AppError::not_found("no such download link: ask for a new one");
        let (user, nonce) = token.split_once('.').ok_or_else(unknown)?;
        let user = Uuid::try_parse(user).map_err(|_| unknown())?;
        if nonce.is_empty() || nonce.len() > 64 {
            return Err(unknown());
        }
        let nonce_hash = sha256(nonce.as_bytes());
        // The token names its user: the link is looked up in that scope.
        let link = self
            .db()
            .scoped(Scope::user(user), |conn| {
                async move { Ok(data_exports::lock_link(conn, &nonce_hash).await?) }.scope_boxed()
            })
            .await?
            .filter(|l| l.export_id == export_id && l.user_id == user)
            .ok_or_else(unknown)?;
        let bound = proof
            .cookie
            .as_deref()
            .is_some_and(|c| bool::from(sha256(c.as_bytes()).ct_eq(link.binding_hash.as_slice())));
        match proof.bearer_user {
            Some(other) if other != user => {
                return Err(AppError::forbidden(
                    "this download link belongs to another user: ask for your own",
                ));
            }
            Some(_) if proof.bearer_bound.is_some() && proof.bearer_bound != link.tenant_id => {
                return Err(AppError::forbidden(crate::auth::BOUND_ELSEWHERE));
            }
            Some(_) => {}
            None if bound => {}
            None => {
                return Err(AppError::forbidden(
                    "this download link works only for the user who asked for it: open it in \
                     the browser that asked for it, or send that user's access token",
                ));
            }
        }
        if link.used_at.is_some() {
            return Err(AppError::gone(
                "this download link was already used: ask for a new one",
            ));
        }
        if link.expires_at <= Utc::now() {
            return Err(AppError::gone(
                "this download link has expired: ask for a new one",
            ));
        }
        let (owner, scope) = match link.tenant_id {
            Some(t) => (Owner::Tenant(t), Scope::tenant_user(t, user)),
            None => (Owner::Person(user), Scope::user(user)),
        };
        let meta = meta.clone();
        let export = self
            .db()
            .scoped(scope, |conn| {
                async move {
                    if let Owner::Tenant(t) = owner {
                        match data_exports::member_role(conn, t, user).await? {
                            // Pending deletion too: the grace period is for taking data away.
                            Some((role, status))
                                if role == "owner"
                                    && (status == "active" || status == "pending_deletion") => {}
                            Some((role, _)) if role == "owner" => {
                                return Err(AppError::forbidden(
                                    "this tenant is not active: its exports cannot be downloaded",
                                ));
                            }
                            _ => {
                                return Err(AppError::forbidden(
                                    "only an owner of the tenant may download its export",
                                ));
                            }
                        }
                    }
                    let export = data_exports::find(conn, owner, export_id)
                        .await?
                        .ok_or_else(unknown)?;
                    let live = export.status == "ready"
                        && export.expires_at.is_some_and(|e| e > Utc::now());
                    if !live {
                        return Err(AppError::gone(
                            "this export has expired (or is not ready): ask for a new one",
                        ));
                    }
                    if !data_exports::spend_link(conn, &nonce_hash).await? {
                        return Err(AppError::gone(
                            "this download link was already used: ask for a new one",
                        ));
                    }
                    if let Owner::Tenant(t) = owner {
                        audit::record(
                            conn,
                            &meta,
                            Entry::new(Some(t), Actor::user(user), "data_export.download")
                                .target("data_export", export.id),
                        )
                        .await?;
                    }
                    Ok(export)
                }
                .scope_boxed()
            })
            .await?;
        let opened = self
            .storage()
            .open(&key_for(owner, export.id))
            .await
            .map_err(AppError::internal)?
            .ok_or_else(|| AppError::gone("this export's archive is no longer kept"))?;
        Ok(Download {
            file_name: file_name(&export, export.finished_at.unwrap_or(export.created_at)),
            opened,
        })
    }
}

/// `tenantgate-export-<kind>-<date>-<short id>.zip`.
fn file_name(export: &Export, at: DateTime<Utc>) -> String {
    let kind = if export.tenant_id.is_some() {
        "tenant"
    } else {
        "personal"
    };
    let id = export.id.simple().to_string();
    format!(
        "tenantgate-export-{kind}-{}-{}.zip",
        at.format("%Y%m%d"),
        &id[id.len() - 8..]
    )
}
