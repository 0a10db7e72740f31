// @generated automatically by Diesel CLI.

diesel::table! {
    memberships (tenant_id, user_id) {
        tenant_id -> Uuid,
        user_id -> Uuid,
        role -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    plans (key) {
        key -> Text,
        name -> Text,
        monthly_price_cents -> Int4,
        currency -> Text,
        stripe_price_id -> Nullable<Text>,
        max_members -> Int4,
        api_calls_per_hour -> Int4,
        monthly_quotas -> Jsonb,
        custom_branding -> Bool,
        audit_retention_days -> Int4,
        sso_ready -> Bool,
        custom_domain -> Bool,
        sort_order -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    tenants (id) {
        id -> Uuid,
        name -> Text,
        slug -> Text,
        custom_domain -> Nullable<Text>,
        status -> Text,
        status_reason -> Nullable<Text>,
        plan_key -> Text,
        branding -> Jsonb,
        settings -> Jsonb,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        email -> Text,
        password_hash -> Nullable<Text>,
        email_verified_at -> Nullable<Timestamptz>,
        is_platform_admin -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(memberships -> tenants (tenant_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(tenants -> plans (plan_key));

diesel::allow_tables_to_appear_in_same_query!(memberships, plans, tenants, users,);
