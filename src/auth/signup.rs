//! Sign-up: a new user, a new tenant and its owner membership, in one transaction.

use rand::Rng;
use scoped_futures::ScopedFutureExt;
use uuid::Uuid;

use super::jwt::JwtKeys;
use super::passwords;
use super::sessions::{self, Grant};
use crate::audit::{self, Actor, Entry, RequestMeta};
use crate::db::{Db, memberships, tenants, users};
use crate::error::{AppError, AppResult, unique_violation};
use crate::tenancy::Scope;

/// Longest tenant name, in characters.
pub const MAX_TENANT_NAME: usize = 100;

/// What sign-up needs.
#[derive(Debug, Clone)]
pub struct SignUp {
    pub email: String,
    pub password: String,
    pub tenant_name: String,
}

/// What sign-up made.
#[derive(Debug, Clone)]
pub struct SignedUp {
    pub user: users::User,
    pub tenant: tenants::Tenant,
    pub grant: Grant,
}

/// Validates and normalises an email address (trimmed, lower-cased).
pub fn normalize_email(raw: &str) -> AppResult<String> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= 254
        && email_address::EmailAddress::parse_with_options(
            &email,
            email_address::Options::default()
                .without_display_text()
                .without_domain_literal(),
        )
        .is_ok_and(|addr| addr.domain().contains('.') && !addr.domain().ends_with('.'));
    if !valid {
        return Err(AppError::bad_field(
            "email",
            "that is not a valid email address",
        ));
    }
    Ok(email)
}

/// Validates a tenant name (trimmed; 1 to 100 characters; no control characters).
pub fn normalize_tenant_name(raw: &str) -> AppResult<String> {
    let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return Err(AppError::bad_field(
            "tenantName",
            "the tenant name is required",
        ));
    }
    if name.chars().count() > MAX_TENANT_NAME {
        return Err(AppError::bad_field(
            "tenantName",
            format!("the tenant name must have at most {MAX_TENANT_NAME} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::bad_field(
            "tenantName",
            "the tenant name must not contain control characters",
        ));
    }
    Ok(name)
}

/// A URL slug from a name: lower-case ASCII letters, digits and single dashes.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= 40 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-').to_owned();
    if slug.is_empty() {
        "tenant".to_owned()
    } else {
        slug
    }
}

fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..5)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Creates the user, the tenant (with a unique slug) and the owner membership,
/// and issues an access token. Nothing is written unless all of it is.
pub async fn sign_up(
    db: &Db,
    keys: &JwtKeys,
    meta: &RequestMeta,
    input: SignUp,
) -> AppResult<SignedUp> {
    let email = normalize_email(&input.email)?;
    let tenant_name = normalize_tenant_name(&input.tenant_name)?;
    // Spent before the password is checked or hashed.
    super::throttle::spend(
        db,
        &[(
            super::throttle::address_key("signup", meta.ip.as_deref().unwrap_or("unknown")),
            super::throttle::SIGN_UPS,
        )],
    )
    .await?;
    passwords::check_strength_async(&input.password, &[&email, &tenant_name]).await?;
    let hash = passwords::hash(input.password).await?;

    let user_id = Uuid::now_v7();
    let tenant_id = Uuid::now_v7();
    let base_slug = slugify(&tenant_name);
    let meta = meta.clone();
    let (user, tenant, session_id, refresh) = db
        .scoped(Scope::tenant_user(tenant_id, user_id), |conn| {
            async move {
                let new_user = users::NewUser {
                    id: user_id,
                    email: &email,
                    password_hash: Some(&hash),
                };
                let user = users::insert(conn, &new_user).await.map_err(|err| {
                    if unique_violation(&err).is_some() {
                        AppError::conflict("an account with this email already exists")
                    } else {
                        err.into()
                    }
                })?;
                // A reserved slug is never taken: a suffix from the start.
                let mut slug = if crate::members::slug_reserved(&base_slug) {
                    format!("{base_slug}-{}", random_suffix())
                } else {
                    base_slug.clone()
                };
                let mut tenant = None;
                for _ in 0..8 {
                    let new_tenant = tenants::NewTenant {
                        id: tenant_id,
                        name: &tenant_name,
                        slug: &slug,
                    };
                    if let Some(t) = tenants::insert_if_slug_free(conn, &new_tenant).await? {
                        tenant = Some(t);
                        break;
                    }
                    slug = format!("{base_slug}-{}", random_suffix());
                }
                let tenant = tenant.ok_or_else(|| {
                    AppError::conflict("could not find a free slug for this tenant name")
                })?;
                memberships::insert(
                    conn,
                    &memberships::NewMembership {
                        tenant_id,
                        user_id,
                        role: super::Role::Owner.as_str(),
                    },
                )
                .await?;
                let (session_id, refresh) =
                    sessions::open(conn, user_id, Some(tenant_id), &meta).await?;
                audit::record(
                    conn,
                    &meta,
                    Entry::new(
                        Some(tenant_id),
                        Actor::User {
                            id: user_id,
                            email: Some(user.email.clone()),
                        },
                        "tenant.create",
                    )
                    .target("tenant", tenant_id)
                    .change(
                        None,
                        Some(serde_json::json!({ "name": tenant.name, "slug": tenant.slug, "owner": user.email })),
                    ),
                )
                .await?;
                Ok((user, tenant, session_id, refresh))
            }
            .scope_boxed()
        })
        .await?;
    tracing::info!(user.id = %user.id, tenant.id = %tenant.id, tenant.slug = %tenant.slug, "signed up");
    let access = keys.issue_access(user.id, session_id, Some(tenant.id))?;
    Ok(SignedUp {
        grant: Grant {
            access,
            refresh_token: refresh,
            user: user.clone(),
            session_id,
            tenant_id: Some(tenant.id),
        },
        user,
        tenant,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_validated_and_normalised() {
        assert_eq!(
            normalize_email("  Ada@Example.COM ").unwrap(),
            "ada@example.com"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "ada@@example.com",
        ] {
            let err = normalize_email(bad).unwrap_err();
            assert_eq!(err.code().as_str(), "BAD_USER_INPUT", "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(normalize_email(&long).is_err());
    }

    #[test]
    fn tenant_names_are_validated() {
        assert_eq!(normalize_tenant_name("  Acme   Inc ").unwrap(), "Acme Inc");
        assert!(normalize_tenant_name("   ").is_err());
        assert!(normalize_tenant_name(&"x".repeat(101)).is_err());
    }

    #[test]
    fn slugs_are_url_safe() {
        assert_eq!(slugify("Acme Inc."), "acme-inc");
        assert_eq!(slugify("Ünïcode — Works!"), "n-code-works");
        assert_eq!(slugify("日本"), "tenant");
        assert!(slugify(&"ab ".repeat(40)).len() <= 40);
        let re_ok = |s: &str| {
            !s.starts_with('-')
                && !s.ends_with('-')
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        };
        for name in ["--x--", "A  B", "9 lives", "x".repeat(80).as_str()] {
            assert!(re_ok(&slugify(name)), "{name}");
        }
    }
}
