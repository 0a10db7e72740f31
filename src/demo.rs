//! `--demo`: a platform admin and two tenants with users, for a first look.
//!
//! Seeding is idempotent (fixed ids derived from names, inserts that skip what
//! exists), goes through the same tenant-scoped handle as requests, and only the
//! platform-admin flag and the plans' demo quotas are set over the owner
//! connection (the runtime role cannot).

use std::net::SocketAddr;

use scoped_futures::ScopedFutureExt;
use uuid::Uuid;

use crate::auth::jwt::JwtKeys;
use crate::auth::{Role, passwords};
use crate::db::{Db, memberships, tenants, users};
use crate::error::AppError;
use crate::tenancy::Scope;

/// The password of every demo account (development data only).
pub const DEMO_PASSWORD: &str = "tenantgate-demo-2026";

const NAMESPACE: Uuid = Uuid::from_u128(0x6a1d_3c1e_9b7f_4f4e_a0c2_5e1f_7d3b_2c10);

/// One seeded account.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub email: String,
    pub user_id: Uuid,
    pub tenant: Option<(Uuid, String)>,
    pub role: String,
}

struct DemoTenant {
    name: &'static str,
    slug: &'static str,
    plan: &'static str,
    members: &'static [(&'static str, Role)],
}

const TENANTS: &[DemoTenant] = &[
    DemoTenant {
        name: "Acme Corporation",
        slug: "acme",
        plan: "pro",
        members: &[
            ("ada@acme.test", Role::Owner),
            ("bob@acme.test", Role::Member),
        ],
    },
    DemoTenant {
        name: "Globex",
        slug: "globex",
        plan: "free",
        members: &[
            ("grace@globex.test", Role::Owner),
            ("hank@globex.test", Role::Viewer),
        ],
    },
];

const ADMIN_EMAIL: &str = "admin@tenantgate.test";

/// Monthly `api_calls` quotas the demo gives the default plans (they have
/// none out of the box), so the usage page has bars to fill: set only on a
/// plan without quotas, so an admin's own stay.
const DEMO_QUOTAS: &[(&str, i64)] = &[
    ("free", 10_000),
    ("basic", 100_000),
    ("pro", 1_000_000),
    ("enterprise", 10_000_000),
];

fn id_for(name: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE, name.as_bytes())
}

/// Seeds the demo data; returns the accounts to print.
pub async fn seed(db: &Db, owner_url: &str) -> anyhow::Result<Vec<DemoAccount>> {
    let hash = passwords::hash(DEMO_PASSWORD.to_owned()).await?;
    let mut accounts = Vec::new();

    let admin_id = id_for(ADMIN_EMAIL);
    insert_user(db, Scope::user(admin_id), admin_id, ADMIN_EMAIL, &hash).await?;
    crate::admin::set_platform_admin(owner_url, ADMIN_EMAIL, true).await?;
    seed_quotas(owner_url).await?;
    accounts.push(DemoAccount {
        email: ADMIN_EMAIL.into(),
        user_id: admin_id,
        tenant: None,
        role: "platform admin".into(),
    });

    for spec in TENANTS {
        let tenant_id = id_for(spec.slug);
        for (email, role) in spec.members {
            let user_id = id_for(email);
            let scope = Scope::tenant_user(tenant_id, user_id);
            insert_user(db, scope.clone(), user_id, email, &hash).await?;
            let (name, slug, role) = (spec.name, spec.slug, role.as_str());
            db.scoped(scope, |conn| {
                async move {
                    let tenant = tenants::NewTenant {
                        id: tenant_id,
                        name,
                        slug,
                    };
                    tenants::insert_if_absent(conn, &tenant).await?;
                    let membership = memberships::NewMembership {
                        tenant_id,
                        user_id,
                        role,
                    };
                    memberships::insert_if_absent(conn, &membership).await?;
                    Ok::<_, AppError>(())
                }
                .scope_boxed()
            })
            .await?;
            accounts.push(DemoAccount {
                email: (*email).into(),
                user_id,
                tenant: Some((tenant_id, spec.name.into())),
                role: role.into(),
            });
        }
        // Plans are assigned on the platform-admin path, as an admin would.
        let plan = spec.plan;
        db.scoped(Scope::platform_admin(admin_id), |conn| {
            async move {
                tenants::set_plan(conn, tenant_id, plan).await?;
                Ok::<_, AppError>(())
            }
            .scope_boxed()
        })
        .await?;
    }
    Ok(accounts)
}

/// The demo quotas of the default plans (see `DEMO_QUOTAS`), over the owner
/// connection: the catalogue is the platform's, not a tenant's.
async fn seed_quotas(owner_url: &str) -> anyhow::Result<()> {
    let mut conn = crate::db::owner_connection(owner_url).await?;
    for (plan, limit) in DEMO_QUOTAS {
        crate::db::plans::set_quotas_if_none(
            &mut conn,
            plan,
            &serde_json::json!({ "api_calls": limit }),
        )
        .await?;
    }
    Ok(())
}

async fn insert_user(
    db: &Db,
    scope: Scope,
    id: Uuid,
    email: &'static str,
    hash: &str,
) -> anyhow::Result<()> {
    let hash = hash.to_owned();
    db.scoped(scope, |conn| {
        async move {
            let user = users::NewUser {
                id,
                email,
                password_hash: Some(&hash),
            };
            users::insert_verified_if_absent(conn, &user).await?;
            Ok::<_, AppError>(())
        }
        .scope_boxed()
    })
    .await?;
    Ok(())
}

/// Opens a session per demo account (so the printed tokens work) and prints the
/// accounts with ready-to-use access tokens.
pub async fn print(db: &Db, accounts: &[DemoAccount], keys: &JwtKeys, addr: SocketAddr) {
    let meta = crate::audit::RequestMeta {
        request_id: "demo".into(),
        ip: None,
        user_agent: Some("tenantgate --demo".into()),
        bound_tenant: None,
    };
    let mut tokens = Vec::new();
    for account in accounts {
        let tenant = account.tenant.as_ref().map(|(id, _)| *id);
        match crate::auth::sessions::start(db, keys, &meta, account.user_id, tenant, "session.demo")
            .await
        {
            Ok(grant) => tokens.push((account.email.clone(), grant.access.token)),
            Err(err) => tracing::warn!(error = %err, "could not open a demo session"),
        }
    }
    println!();
    println!("Demo data (password for every account: {DEMO_PASSWORD})");
    println!("{:<24} {:<16} {:<18} tenant id", "email", "role", "tenant");
    for account in accounts {
        let (tenant_id, tenant_name) = match &account.tenant {
            Some((id, name)) => (id.to_string(), name.as_str()),
            None => ("-".into(), "-"),
        };
        println!(
            "{:<24} {:<16} {:<18} {tenant_id}",
            account.email, account.role, tenant_name
        );
    }
    println!();
    println!(
        "Access tokens (15 minutes; send as `Authorization: Bearer <token>` in the playground at http://{addr}/playground):"
    );
    for (email, token) in tokens {
        println!("  {email:<24} {token}");
    }
    println!();
}
