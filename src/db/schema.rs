// @generated automatically by Diesel CLI.

diesel::table! {
    allowed_origins (tenant_id, origin) {
        tenant_id -> Uuid,
        origin -> Text,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    api_key_hashes (hash) {
        hash -> Bytea,
        tenant_id -> Uuid,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Uuid,
        tenant_id -> Uuid,
        created_by -> Nullable<Uuid>,
        name -> Text,
        environment -> Text,
        display_prefix -> Text,
        secret_hash -> Bytea,
        previous_hash -> Nullable<Bytea>,
        previous_valid_until -> Nullable<Timestamptz>,
        scopes -> Array<Nullable<Text>>,
        rate_limit -> Nullable<Int4>,
        rate_limit_period -> Nullable<Int4>,
        expires_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        last_used_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Uuid,
        tenant_id -> Nullable<Uuid>,
        actor_type -> Text,
        actor_id -> Nullable<Uuid>,
        actor_label -> Nullable<Text>,
        action -> Text,
        target_type -> Nullable<Text>,
        target_id -> Nullable<Text>,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        request_id -> Nullable<Text>,
        before -> Nullable<Jsonb>,
        after -> Nullable<Jsonb>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    audit_settings (id) {
        id -> Bool,
        platform_days -> Int4,
    }
}

diesel::table! {
    billing_customers (tenant_id) {
        tenant_id -> Uuid,
        stripe_customer_id -> Text,
        trial_used -> Bool,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    billing_jobs (name) {
        name -> Text,
        leased_until -> Timestamptz,
        last_ok_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    data_export_links (nonce_hash) {
        nonce_hash -> Bytea,
        export_id -> Uuid,
        tenant_id -> Nullable<Uuid>,
        user_id -> Uuid,
        binding_hash -> Bytea,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    data_exports (id) {
        id -> Uuid,
        tenant_id -> Nullable<Uuid>,
        user_id -> Nullable<Uuid>,
        requested_by -> Nullable<Uuid>,
        status -> Text,
        progress -> Int2,
        attempts -> Int4,
        leased_by -> Nullable<Uuid>,
        leased_until -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        started_at -> Nullable<Timestamptz>,
        finished_at -> Nullable<Timestamptz>,
        expires_at -> Nullable<Timestamptz>,
        size_bytes -> Nullable<Int8>,
        sha256 -> Nullable<Text>,
        error -> Nullable<Text>,
    }
}

diesel::table! {
    email_outbox (id) {
        id -> Uuid,
        recipient -> Text,
        subject -> Text,
        created_at -> Timestamptz,
        sent_at -> Nullable<Timestamptz>,
        attempts -> Int4,
        last_error -> Nullable<Text>,
        next_attempt_at -> Timestamptz,
        failed_at -> Nullable<Timestamptz>,
        sealed_body -> Nullable<Bytea>,
    }
}

diesel::table! {
    email_tokens (token_hash) {
        token_hash -> Bytea,
        user_id -> Uuid,
        purpose -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    invitations (id) {
        id -> Uuid,
        tenant_id -> Uuid,
        email -> Text,
        role -> Text,
        token_hash -> Bytea,
        invited_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        accepted_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    invoices (stripe_invoice_id) {
        stripe_invoice_id -> Text,
        tenant_id -> Uuid,
        stripe_subscription_id -> Nullable<Text>,
        number -> Nullable<Text>,
        status -> Text,
        total -> Int8,
        currency -> Text,
        hosted_invoice_url -> Nullable<Text>,
        pdf_url -> Nullable<Text>,
        period_start -> Nullable<Timestamptz>,
        period_end -> Nullable<Timestamptz>,
        stripe_created -> Timestamptz,
        synced_at -> Timestamptz,
    }
}

diesel::table! {
    login_failures (key) {
        key -> Text,
        window_start -> Timestamptz,
        failures -> Int4,
    }
}

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
    metrics (key) {
        key -> Text,
        name -> Text,
        unit -> Text,
        aggregation -> Text,
        unique_property -> Nullable<Text>,
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
        stripe_monthly_price_id -> Nullable<Text>,
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
        yearly_price_cents -> Int4,
        stripe_yearly_price_id -> Nullable<Text>,
        trial_days -> Int4,
        public -> Bool,
    }
}

diesel::table! {
    platform_admins (user_id) {
        user_id -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    publishable_key_index (key) {
        key -> Text,
        tenant_id -> Uuid,
    }
}

diesel::table! {
    publishable_keys (id) {
        id -> Uuid,
        tenant_id -> Uuid,
        created_by -> Nullable<Uuid>,
        name -> Text,
        environment -> Text,
        key -> Text,
        created_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    quota_alerts (tenant_id, metric, period, threshold) {
        tenant_id -> Uuid,
        metric -> Text,
        period -> Date,
        threshold -> Int2,
        used -> Int8,
        quota -> Int8,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Bytea,
        session_id -> Uuid,
        user_id -> Uuid,
        created_at -> Timestamptz,
        rotated_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Uuid,
        user_id -> Uuid,
        default_tenant_id -> Nullable<Uuid>,
        user_agent -> Nullable<Text>,
        ip -> Nullable<Text>,
        created_at -> Timestamptz,
        last_used_at -> Timestamptz,
        expires_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
        revoked_reason -> Nullable<Text>,
        bound_tenant_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    stripe_events (id) {
        id -> Text,
        event_type -> Text,
        stripe_created -> Timestamptz,
        customer_id -> Nullable<Text>,
        subscription_id -> Nullable<Text>,
        invoice_id -> Nullable<Text>,
        received_at -> Timestamptz,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        leased_until -> Nullable<Timestamptz>,
        processed_at -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    subscriptions (tenant_id) {
        tenant_id -> Uuid,
        stripe_subscription_id -> Text,
        stripe_customer_id -> Text,
        status -> Text,
        plan_key -> Nullable<Text>,
        price_id -> Text,
        price_interval -> Nullable<Text>,
        current_period_start -> Nullable<Timestamptz>,
        current_period_end -> Nullable<Timestamptz>,
        cancel_at_period_end -> Bool,
        trial_end -> Nullable<Timestamptz>,
        canceled_at -> Nullable<Timestamptz>,
        ended_at -> Nullable<Timestamptz>,
        stripe_created -> Timestamptz,
        synced_at -> Timestamptz,
        amount -> Nullable<Int8>,
        currency -> Nullable<Text>,
    }
}

diesel::table! {
    tenant_domains (tenant_id) {
        tenant_id -> Uuid,
        domain -> Text,
        token -> Text,
        verified_at -> Nullable<Timestamptz>,
        last_checked_at -> Nullable<Timestamptz>,
        last_result -> Nullable<Text>,
        missing_since -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    tenant_tombstones (id) {
        id -> Uuid,
        requested_at -> Timestamptz,
        requested_by -> Nullable<Uuid>,
        purged_at -> Timestamptz,
        reason -> Text,
    }
}

diesel::table! {
    tenants (id) {
        id -> Uuid,
        name -> Text,
        slug -> Text,
        status -> Text,
        status_reason -> Nullable<Text>,
        plan_key -> Text,
        branding -> Jsonb,
        settings -> Jsonb,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deletion_requested_at -> Nullable<Timestamptz>,
        deletion_requested_by -> Nullable<Uuid>,
        purge_after -> Nullable<Timestamptz>,
        purge_leased_until -> Nullable<Timestamptz>,
        purge_leased_by -> Nullable<Uuid>,
    }
}

diesel::table! {
    usage_batches (month, id) {
        id -> Uuid,
        tenant_id -> Uuid,
        environment -> Text,
        month -> Timestamptz,
        events -> Int4,
        metrics -> Array<Text>,
        quantities -> Array<Int8>,
        api_key_ids -> Array<Nullable<Uuid>>,
        idempotency_keys -> Array<Nullable<Text>>,
        properties -> Array<Nullable<Jsonb>>,
        occurred_at -> Array<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    usage_dedup (tenant_id, idempotency_key, environment) {
        tenant_id -> Uuid,
        environment -> Text,
        idempotency_key -> Text,
        occurred_at -> Timestamptz,
        recorded_at -> Timestamptz,
        fingerprint -> Nullable<Int8>,
    }
}

diesel::table! {
    usage_distinct (tenant_id, environment, metric, granularity, api_key_id, bucket, digest) {
        tenant_id -> Uuid,
        environment -> Text,
        metric -> Text,
        granularity -> Text,
        api_key_id -> Uuid,
        bucket -> Timestamptz,
        value -> Nullable<Text>,
        digest -> Bytea,
    }
}

diesel::table! {
    usage_events (batch_id, position) {
        batch_id -> Uuid,
        position -> Int4,
        tenant_id -> Uuid,
        environment -> Text,
        metric -> Text,
        quantity -> Int8,
        api_key_id -> Nullable<Uuid>,
        idempotency_key -> Nullable<Text>,
        properties -> Jsonb,
        occurred_at -> Timestamptz,
        month -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    usage_rollups (tenant_id, environment, metric, granularity, api_key_id, bucket) {
        tenant_id -> Uuid,
        environment -> Text,
        metric -> Text,
        granularity -> Text,
        api_key_id -> Uuid,
        bucket -> Timestamptz,
        value -> Int8,
        events -> Int8,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        email -> Text,
        password_hash -> Nullable<Text>,
        email_verified_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> Uuid,
        tenant_id -> Uuid,
        delivery_id -> Uuid,
        attempted_at -> Timestamptz,
        status_code -> Nullable<Int4>,
        latency_ms -> Int4,
        response_excerpt -> Nullable<Text>,
        error -> Nullable<Text>,
    }
}

diesel::table! {
    webhook_claim_cursor (only_row) {
        only_row -> Bool,
        last_tenant -> Nullable<Uuid>,
        last_endpoint -> Nullable<Uuid>,
        max_skew -> Interval,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Uuid,
        tenant_id -> Uuid,
        endpoint_id -> Uuid,
        event_id -> Uuid,
        status -> Text,
        attempt_count -> Int4,
        next_attempt_at -> Nullable<Timestamptz>,
        leased_by -> Nullable<Uuid>,
        replay_of -> Nullable<Uuid>,
        created_at -> Timestamptz,
        completed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    webhook_endpoint_drops (id) {
        id -> Int8,
        tenant_id -> Uuid,
        endpoint_id -> Uuid,
        dropped_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Uuid,
        tenant_id -> Uuid,
        url -> Text,
        description -> Text,
        event_types -> Array<Nullable<Text>>,
        enabled -> Bool,
        disabled_reason -> Nullable<Text>,
        disabled_at -> Nullable<Timestamptz>,
        secret_sealed -> Bytea,
        previous_secret_sealed -> Nullable<Bytea>,
        previous_secret_expires_at -> Nullable<Timestamptz>,
        failing_since -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        dropped_count -> Int8,
        last_dropped_at -> Nullable<Timestamptz>,
        drop_reported_count -> Int8,
        drop_reported_at -> Nullable<Timestamptz>,
        at_cap -> Bool,
        pending_counted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    webhook_events (id) {
        id -> Uuid,
        tenant_id -> Uuid,
        event_type -> Text,
        payload -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(allowed_origins -> tenants (tenant_id));
diesel::joinable!(allowed_origins -> users (created_by));
diesel::joinable!(api_key_hashes -> tenants (tenant_id));
diesel::joinable!(api_keys -> tenants (tenant_id));
diesel::joinable!(api_keys -> users (created_by));
diesel::joinable!(audit_log -> tenants (tenant_id));
diesel::joinable!(billing_customers -> tenants (tenant_id));
diesel::joinable!(data_export_links -> data_exports (export_id));
diesel::joinable!(data_export_links -> tenants (tenant_id));
diesel::joinable!(data_export_links -> users (user_id));
diesel::joinable!(data_exports -> tenants (tenant_id));
diesel::joinable!(email_tokens -> users (user_id));
diesel::joinable!(invitations -> tenants (tenant_id));
diesel::joinable!(invitations -> users (invited_by));
diesel::joinable!(invoices -> tenants (tenant_id));
diesel::joinable!(memberships -> tenants (tenant_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(platform_admins -> users (user_id));
diesel::joinable!(publishable_key_index -> tenants (tenant_id));
diesel::joinable!(publishable_keys -> tenants (tenant_id));
diesel::joinable!(publishable_keys -> users (created_by));
diesel::joinable!(quota_alerts -> tenants (tenant_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(subscriptions -> plans (plan_key));
diesel::joinable!(subscriptions -> tenants (tenant_id));
diesel::joinable!(tenant_domains -> tenants (tenant_id));
diesel::joinable!(tenants -> plans (plan_key));
diesel::joinable!(usage_dedup -> tenants (tenant_id));
diesel::joinable!(usage_distinct -> tenants (tenant_id));
diesel::joinable!(usage_events -> tenants (tenant_id));
diesel::joinable!(usage_rollups -> tenants (tenant_id));
diesel::joinable!(webhook_attempts -> tenants (tenant_id));
diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));
diesel::joinable!(webhook_deliveries -> tenants (tenant_id));
diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::joinable!(webhook_deliveries -> webhook_events (event_id));
diesel::joinable!(webhook_endpoint_drops -> tenants (tenant_id));
diesel::joinable!(webhook_endpoint_drops -> webhook_endpoints (endpoint_id));
diesel::joinable!(webhook_endpoints -> tenants (tenant_id));
diesel::joinable!(webhook_events -> tenants (tenant_id));

diesel::allow_tables_to_appear_in_same_query!(
    allowed_origins,
    api_key_hashes,
    api_keys,
    audit_log,
    audit_settings,
    billing_customers,
    billing_jobs,
    data_export_links,
    data_exports,
    email_outbox,
    email_tokens,
    invitations,
    invoices,
    login_failures,
    memberships,
    metrics,
    plans,
    platform_admins,
    publishable_key_index,
    publishable_keys,
    quota_alerts,
    refresh_tokens,
    sessions,
    stripe_events,
    subscriptions,
    tenant_domains,
    tenant_tombstones,
    tenants,
    usage_batches,
    usage_dedup,
    usage_distinct,
    usage_events,
    usage_rollups,
    users,
    webhook_attempts,
    webhook_claim_cursor,
    webhook_deliveries,
    webhook_endpoint_drops,
    webhook_endpoints,
    webhook_events,
);
