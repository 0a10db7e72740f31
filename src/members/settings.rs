//! The tenant's own settings: name, slug and branding (custom branding only
//! on plans that include it: the same check as the `FeatureGuard` on
//! `updateTenant`, made again on the locked row), with their validation.

use scoped_futures::ScopedFutureExt;
use serde_json::{Value, json};

use super::actor;
use crate::audit::{self, Entry, RequestMeta};
use crate::auth::signup::{normalize_email, normalize_tenant_name};
use crate::auth::{Role, TenantAccess, Verified};
use crate::db::{Db, tenants};
use crate::error::{AppError, AppResult, unique_violation};
use crate::plans::{Catalogue, Feature};
use crate::webhooks::{self, EventType};

/// A tenant's public look.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Branding {
    pub display_name: Option<String>,
    pub logo_url: Option<String>,
    pub primary_color: Option<String>,
    pub accent_color: Option<String>,
    pub support_email: Option<String>,
}

impl Branding {
    /// Validates every field; the first bad one is a BAD_USER_INPUT naming it.
    pub fn validate(mut self) -> AppResult<Self> {
        if let Some(name) = &self.display_name {
            self.display_name = Some(normalize_tenant_name(name).map_err(|_| {
                AppError::bad_field(
                    "branding.displayName",
                    "1 to 100 characters, no control characters",
                )
            })?);
        }
        if let Some(url) = &self.logo_url {
            let ok = url.len() <= 2048
                && url.starts_with("https://")
                && url.len() > "https://".len()
                && !url.chars().any(|c| c.is_whitespace() || c.is_control());
            if !ok {
                return Err(AppError::bad_field(
                    "branding.logoUrl",
                    "must be an https:// URL",
                ));
            }
        }
        for (field, value) in [
            ("branding.primaryColor", &self.primary_color),
            ("branding.accentColor", &self.accent_color),
        ] {
            if let Some(color) = value {
                let hex = color.strip_prefix('#').unwrap_or("");
                if !(hex.len() == 6 || hex.len() == 3)
                    || !hex.chars().all(|c| c.is_ascii_hexdigit())
                {
                    return Err(AppError::bad_field(
                        field,
                        "must be a hex color such as #4f46e5",
                    ));
                }
            }
        }
        if let Some(email) = &self.support_email {
            self.support_email = Some(normalize_email(email).map_err(|_| {
                AppError::bad_field("branding.supportEmail", "not a valid email address")
            })?);
        }
        Ok(self)
    }

    /// Whether anything differs from the defaults (custom branding needs a
    /// plan that includes it; clearing it never does).
    pub fn is_custom(&self) -> bool {
        self != &Self::default()
    }
}

/// Slugs no tenant may take: as `<slug>.<base domain>` they would pass for
/// the service's own addresses.
pub const RESERVED_SLUGS: [&str; 24] = [
    "admin",
    "api",
    "app",
    "auth",
    "billing",
    "cdn",
    "dashboard",
    "docs",
    "help",
    "id",
    "login",
    "logout",
    "mail",
    "portal",
    "root",
    "security",
    "signin",
    "signup",
    "sso",
    "static",
    "status",
    "support",
    "system",
    "www",
];

/// Whether `slug` is one no tenant may take ([`RESERVED_SLUGS`]), or looks
/// like an internationalised name's punycode (`xn--`) or any other label
/// with `--` at its third and fourth characters (lookalikes).
pub fn slug_reserved(slug: &str) -> bool {
    RESERVED_SLUGS.contains(&slug) || slug.get(2..4) == Some("--")
}

/// Validates a slug: 1 to 48 lower-case letters, digits and inner dashes,
/// not reserved ([`slug_reserved`]; tenants that had one before keep it, but
/// it names no tenant as a subdomain).
pub fn validate_slug(slug: &str) -> AppResult<String> {
    let slug = slug.trim().to_owned();
    let ok = (1..=48).contains(&slug.len())
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if !ok {
        return Err(AppError::bad_field(
            "slug",
            "1 to 48 lower-case letters, digits and dashes, not starting or ending with a dash",
        ));
    }
    if slug_reserved(&slug) {
        return Err(AppError::bad_field(
            "slug",
            "this slug is reserved (a name of the service's own, or a lookalike with \"--\" at \
             the third and fourth characters): choose another",
        ));
    }
    Ok(slug)
}

/// What `update_tenant` may change (absent: unchanged).
#[derive(Debug, Clone, Default)]
pub struct TenantChanges {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub branding: Option<Branding>,
}

/// Changes the tenant's name, slug or branding.
pub async fn update_tenant(
    db: &Db,
    meta: &RequestMeta,
    verified: &Verified,
    access: &TenantAccess,
    changes: TenantChanges,
) -> AppResult<tenants::Tenant> {
    access.require(Role::Admin)?;
    let name = changes
        .name
        .as_deref()
        .map(normalize_tenant_name)
        .transpose()?;
    let slug = changes.slug.as_deref().map(validate_slug).transpose()?;
    let branding = changes.branding.map(Branding::validate).transpose()?;
    let (meta, actor, tenant_id) = (meta.clone(), actor(verified), access.tenant_id);
    db.scoped(access.scope(), |conn| {
        async move {
            let (before_name, before_slug, before_branding, plan) =
                tenants::lock_settings(conn, tenant_id).await?;
            // The guard checked the plan as the request began; this checks it
            // as it stands, with the row locked (a downgrade may have landed).
            if branding.as_ref().is_some_and(Branding::is_custom) {
                Catalogue::read(conn)
                    .await?
                    .require_feature(&plan, Feature::CustomBranding)?;
            }
            let branding_json = branding
                .as_ref()
                .map(|b| serde_json::to_value(b).unwrap_or(Value::Null));
            let updated = tenants::update_settings(
                conn,
                tenant_id,
                name.as_deref().unwrap_or(&before_name),
                slug.as_deref().unwrap_or(&before_slug),
                branding_json.as_ref().unwrap_or(&before_branding),
            )
            .await
            .map_err(|err| {
                if unique_violation(&err).is_some() {
                    AppError::conflict("that slug is taken")
                } else {
                    err.into()
                }
            })?;
            audit::record(
                conn,
                &meta,
                Entry::new(Some(tenant_id), actor, "tenant.update")
                    .target("tenant", tenant_id)
                    .change(
                        Some(json!({ "name": before_name, "slug": before_slug, "branding": before_branding })),
                        Some(json!({ "name": updated.name, "slug": updated.slug, "branding": branding_json.as_ref().unwrap_or(&before_branding) })),
                    ),
            )
            .await?;
            let previous = json!({ "name": before_name, "slug": before_slug, "branding": before_branding });
            let data = tenant_updated_data(&updated, previous);
            if data["changed"].as_array().is_some_and(|c| !c.is_empty()) {
                webhooks::emit(conn, tenant_id, EventType::TenantUpdated, data).await?;
            }
            Ok(updated)
        }
        .scope_boxed()
    })
    .await
}

/// The `data` of `tenant.updated` (see docs/webhooks.md): the tenant's
/// settings now, which of them `changed`, and their `previous` values.
fn tenant_updated_data(now: &tenants::Tenant, previous: Value) -> Value {
    let current = json!({ "name": now.name, "slug": now.slug, "branding": now.branding });
    let changed: Vec<&str> = ["name", "slug", "branding"]
        .into_iter()
        .filter(|field| current[field] != previous[field])
        .collect();
    let previous: serde_json::Map<String, Value> = changed
        .iter()
        .map(|field| ((*field).to_owned(), previous[field].clone()))
        .collect();
    json!({
        "tenantId": now.id,
        "name": now.name,
        "slug": now.slug,
        "branding": now.branding,
        "changed": changed,
        "previous": previous,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branding_and_slugs_are_validated() {
        let ok = Branding {
            primary_color: Some("#4f46e5".into()),
            logo_url: Some("https://cdn.example.com/logo.png".into()),
            support_email: Some("Help@Example.com".into()),
            ..Branding::default()
        };
        assert_eq!(
            ok.validate().unwrap().support_email.as_deref(),
            Some("help@example.com")
        );
        for bad in [
            Branding {
                primary_color: Some("red".into()),
                ..Branding::default()
            },
            Branding {
                logo_url: Some("http://x.example/logo.png".into()),
                ..Branding::default()
            },
            Branding {
                logo_url: Some("javascript:alert(1)".into()),
                ..Branding::default()
            },
            Branding {
                support_email: Some("nope".into()),
                ..Branding::default()
            },
        ] {
            assert_eq!(
                bad.validate().unwrap_err().code().as_str(),
                "BAD_USER_INPUT"
            );
        }
        assert_eq!(validate_slug(" acme-2 ").unwrap(), "acme-2");
        for bad in [
            "",
            "-a",
            "a-",
            "UPPER",
            "sp ace",
            &"a".repeat(49),
            "admin",
            "login",
            "www",
            "api",
            "xn--pple-43d",
            "ab--cd",
        ] {
            assert!(validate_slug(bad).is_err(), "{bad}");
        }
    }
}
