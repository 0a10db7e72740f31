//! The tenant's team and settings: invitations, roles, members, tenant details.

use async_graphql::{Context, ID, InputObject, Object, Result};
use uuid::Uuid;

use crate::auth::Role as AuthRole;
use crate::error::AppError;
use crate::graphql::context::{db, meta, services, session};
use crate::graphql::guards::{FeatureGuard, RoleGuard, TenantMember};
use crate::graphql::loaders::UserLoader;
use crate::graphql::types::invitation::Invitation;
use crate::graphql::types::member::Member;
use crate::graphql::types::session::SessionPayload;
use crate::graphql::types::tenant::{Reader, Tenant};
use crate::graphql::types::viewer::Role;
use crate::members::{self, Branding, TenantChanges};
use crate::plans::Feature;

/// Drops this instance's cached keys of the tenant at once after a removal or
/// role change (which may have revoked keys): the announcement reaches every
/// instance, this one included, moments later.
fn forget_keys(ctx: &Context<'_>, tenant_id: Uuid) {
    services(ctx).api_keys.invalidate(&format!("t:{tenant_id}"));
}

/// What `inviteMember` needs.
#[derive(InputObject)]
pub struct InviteMemberInput {
    /// Who to invite.
    pub email: String,
    /// The role they get (no higher than your own).
    pub role: Role,
}

/// What `acceptInvitation` needs.
#[derive(InputObject)]
pub struct AcceptInvitationInput {
    /// The token from the invitation email.
    #[graphql(secret)]
    pub token: String,
    /// A password for the new account, when the invited email has none yet.
    #[graphql(secret)]
    pub password: Option<String>,
}

/// New branding (absent fields are cleared).
#[derive(InputObject)]
pub struct BrandingInput {
    /// The name shown to the tenant's users.
    pub display_name: Option<String>,
    /// An https:// URL of the logo.
    pub logo_url: Option<String>,
    /// The main color, as #rrggbb.
    pub primary_color: Option<String>,
    /// The accent color, as #rrggbb.
    pub accent_color: Option<String>,
    /// Where the tenant's users get help.
    pub support_email: Option<String>,
}

impl BrandingInput {
    /// Whether it sets anything (custom branding needs a plan that includes
    /// it; clearing it never does).
    fn is_custom(&self) -> bool {
        let Self {
            display_name,
            logo_url,
            primary_color,
            accent_color,
            support_email,
        } = self;
        [
            display_name,
            logo_url,
            primary_color,
            accent_color,
            support_email,
        ]
        .iter()
        .any(|f| f.is_some())
    }
}

/// What `updateTenant` changes (absent: unchanged).
#[derive(InputObject)]
pub struct UpdateTenantInput {
    /// A new display name.
    pub name: Option<String>,
    /// A new unique slug.
    pub slug: Option<String>,
    /// New branding (needs a plan with custom branding).
    pub branding: Option<BrandingInput>,
}

fn parse_id(id: &ID, field: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(id).map_err(|_| AppError::bad_field(field, "not a valid id"))
}

fn member(
    ctx: &Context<'_>,
    access: &crate::auth::TenantAccess,
    row: crate::db::memberships::Member,
) -> Member {
    Member {
        row,
        user: crate::graphql::types::member::UserSource::Loader(std::sync::Arc::new(
            async_graphql::dataloader::DataLoader::new(
                UserLoader {
                    db: db(ctx).clone(),
                    scope: access.scope(),
                },
                tokio::spawn,
            ),
        )),
    }
}

/// The team of the active tenant.
#[derive(Default)]
pub struct TeamMutation;

#[Object]
impl TeamMutation {
    /// Invites someone by email (admins and owners); the link goes to that
    /// address only. CONFLICT when they are a member or already invited;
    /// FORBIDDEN until the inviter's own email is confirmed; RATE_LIMITED past
    /// 20 invitations an hour per inviter or 100 a day per tenant.
    #[graphql(guard = "RoleGuard(AuthRole::Admin)")]
    async fn invite_member(
        &self,
        ctx: &Context<'_>,
        input: InviteMemberInput,
    ) -> Result<Invitation> {
        let me = session(ctx).require_user(db(ctx)).await?;
        let access = session(ctx).require_role(db(ctx), AuthRole::Admin).await?;
        let s = services(ctx);
        let invitation = members::invite(
            db(ctx),
            &s.mailer,
            meta(ctx),
            &me,
            &access,
            &input.email,
            input.role.into(),
        )
        .await?;
        Ok(Invitation(invitation))
    }

    /// Accepts an invitation: joins with the signed-in account of the invited
    /// email, or creates that account (with `password`). Returns a session
    /// acting in the tenant. On a tenant's custom domain, or signed in with a
    /// session bound to one, only that tenant's invitations (FORBIDDEN
    /// otherwise), and the session returned is bound to it too.
    async fn accept_invitation(
        &self,
        ctx: &Context<'_>,
        input: AcceptInvitationInput,
    ) -> Result<SessionPayload> {
        let caller = session(ctx).verify(db(ctx)).await?;
        let grant = members::accept(
            db(ctx),
            &services(ctx).keys,
            meta(ctx),
            caller.as_ref(),
            &input.token,
            input.password,
        )
        .await?;
        Ok(SessionPayload::deliver(ctx, grant))
    }

    /// Revokes a pending invitation (admins and owners).
    #[graphql(guard = "RoleGuard(AuthRole::Admin)")]
    async fn revoke_invitation(&self, ctx: &Context<'_>, id: ID) -> Result<Invitation> {
        let me = session(ctx).require_user(db(ctx)).await?;
        let access = session(ctx).require_role(db(ctx), AuthRole::Admin).await?;
        let invitation =
            members::revoke_invitation(db(ctx), meta(ctx), &me, &access, parse_id(&id, "id")?)
                .await?;
        Ok(Invitation(invitation))
    }

    /// Sends an open invitation (pending, or expired and never accepted)
    /// again with a new link valid for 7 days; the old link stops working.
    /// The answer is the new invitation (a new id; the old one is REVOKED).
    /// The same rules and budgets as `inviteMember`: admins and owners with a
    /// confirmed email, never for a role above what they may grant
    /// (FORBIDDEN), RATE_LIMITED past the invitation budgets; NOT_FOUND when
    /// no such open invitation is in the active tenant.
    #[graphql(guard = "RoleGuard(AuthRole::Admin)")]
    async fn resend_invitation(&self, ctx: &Context<'_>, id: ID) -> Result<Invitation> {
        let me = session(ctx).require_user(db(ctx)).await?;
        let access = session(ctx).require_role(db(ctx), AuthRole::Admin).await?;
        let invitation = members::resend_invitation(
            db(ctx),
            &services(ctx).mailer,
            meta(ctx),
            &me,
            &access,
            parse_id(&id, "id")?,
        )
        .await?;
        Ok(Invitation(invitation))
    }

    /// Changes a member's role (admins and owners; never above your own role,
    /// never the last owner away).
    #[graphql(guard = "RoleGuard(AuthRole::Admin)")]
    async fn update_member_role(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        role: Role,
    ) -> Result<Member> {
        let me = session(ctx).require_user(db(ctx)).await?;
        let access = session(ctx).require_role(db(ctx), AuthRole::Admin).await?;
        let row = members::update_role(
            db(ctx),
            meta(ctx),
            &me,
            &access,
            parse_id(&user_id, "userId")?,
            role.into(),
        )
        .await?;
        forget_keys(ctx, access.tenant_id);
        Ok(member(ctx, &access, row))
    }

    /// Removes a member (admins and owners; not someone ranked above you, not
    /// the last owner).
    #[graphql(guard = "RoleGuard(AuthRole::Admin)")]
    async fn remove_member(&self, ctx: &Context<'_>, user_id: ID) -> Result<bool> {
        let me = session(ctx).require_user(db(ctx)).await?;
        let access = session(ctx).require_role(db(ctx), AuthRole::Admin).await?;
        members::remove(
            db(ctx),
            meta(ctx),
            &me,
            &access,
            parse_id(&user_id, "userId")?,
        )
        .await?;
        forget_keys(ctx, access.tenant_id);
        Ok(true)
    }

    /// Leaves the active tenant (any role; the last owner cannot leave).
    #[graphql(guard = "TenantMember")]
    async fn leave_tenant(&self, ctx: &Context<'_>) -> Result<bool> {
        let me = session(ctx).require_user(db(ctx)).await?;
        let access = session(ctx).require_tenant(db(ctx)).await?;
        members::remove(db(ctx), meta(ctx), &me, &access, me.user_id).await?;
        forget_keys(ctx, access.tenant_id);
        Ok(true)
    }

    /// Changes the tenant's name, slug or branding (admins and owners).
    /// Custom branding needs a plan that includes it (PAYMENT_REQUIRED
    /// otherwise); clearing it never does.
    #[graphql(
        guard = "RoleGuard(AuthRole::Admin).and(FeatureGuard::when(Feature::CustomBranding, input.branding.as_ref().is_some_and(BrandingInput::is_custom)))"
    )]
    async fn update_tenant(&self, ctx: &Context<'_>, input: UpdateTenantInput) -> Result<Tenant> {
        let me = session(ctx).require_user(db(ctx)).await?;
        let access = session(ctx).require_role(db(ctx), AuthRole::Admin).await?;
        let changes = TenantChanges {
            name: input.name,
            slug: input.slug,
            branding: input.branding.map(|b| Branding {
                display_name: b.display_name,
                logo_url: b.logo_url,
                primary_color: b.primary_color,
                accent_color: b.accent_color,
                support_email: b.support_email,
            }),
        };
        let row = members::update_tenant(db(ctx), meta(ctx), &me, &access, changes).await?;
        // Its address (slug) or public look may have changed: this instance
        // reads its routing again now (the others follow the announcement).
        services(ctx)
            .domains
            .changed(db(ctx), access.tenant_id)
            .await;
        Ok(Tenant {
            row,
            reader: Reader::Member(access),
            member_count: None,
        })
    }
}
