-- Billing: a tenant's Stripe customer, its one subscription and its invoices,
-- mirrored from Stripe (Stripe is the source of truth; these rows are what
-- Stripe said when last asked), and the Stripe events received.
--
-- Writes go through a role of their own, tenantgate_billing, entered with
-- SET LOCAL ROLE only by src/billing (as the platform-admin path does): the
-- runtime role can read its tenant's billing rows but write none of them, and
-- only billing (or a platform admin) can change a tenant's plan. The tenant
-- policies (no TO clause) apply to this role as to every other, so a billing
-- transaction still sees one tenant.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tenantgate_billing') THEN
        CREATE ROLE tenantgate_billing NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
    IF current_setting('server_version_num')::int >= 160000 THEN
        EXECUTE 'GRANT tenantgate_billing TO tenantgate_app WITH INHERIT FALSE, SET TRUE';
    ELSE
        GRANT tenantgate_billing TO tenantgate_app;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO tenantgate_billing;

CREATE TABLE billing_customers (
    tenant_id          uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    stripe_customer_id text NOT NULL UNIQUE CHECK (stripe_customer_id ~ '^cus_[A-Za-z0-9]{1,64}$'),
    -- A tenant gets a plan's trial once.
    trial_used         boolean NOT NULL DEFAULT false,
    created_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE subscriptions (
    tenant_id              uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    stripe_subscription_id text NOT NULL UNIQUE,
    stripe_customer_id     text NOT NULL,
    status                 text NOT NULL CHECK (status IN ('incomplete', 'incomplete_expired',
                               'trialing', 'active', 'past_due', 'canceled', 'unpaid', 'paused')),
    -- The plan its price belongs to (NULL: a price no plan lists).
    plan_key               text REFERENCES plans (key),
    price_id               text NOT NULL,
    price_interval         text CHECK (price_interval IN ('month', 'year')),
    current_period_start   timestamptz,
    current_period_end     timestamptz,
    cancel_at_period_end   boolean NOT NULL DEFAULT false,
    trial_end              timestamptz,
    canceled_at            timestamptz,
    ended_at               timestamptz,
    stripe_created         timestamptz NOT NULL,
    synced_at              timestamptz NOT NULL DEFAULT now(),
    -- What it charges each interval (unit amount × quantity), in `currency`:
    -- MRR counts this, not the plan's current price.
    amount                 bigint CHECK (amount >= 0),
    currency               text CHECK (currency ~ '^[a-z]{3}$')
);
CREATE INDEX subscriptions_live ON subscriptions (status, plan_key);

CREATE TABLE invoices (
    stripe_invoice_id      text PRIMARY KEY,
    tenant_id              uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    stripe_subscription_id text,
    number                 text,
    status                 text NOT NULL,
    total                  bigint NOT NULL,
    currency               text NOT NULL,
    hosted_invoice_url     text,
    pdf_url                text,
    period_start           timestamptz,
    period_end             timestamptz,
    stripe_created         timestamptz NOT NULL,
    synced_at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invoices_page ON invoices (tenant_id, stripe_created DESC, stripe_invoice_id DESC);

ALTER TABLE billing_customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing_customers FORCE ROW LEVEL SECURITY;
ALTER TABLE subscriptions ENABLE ROW LEVEL SECURITY;
ALTER TABLE subscriptions FORCE ROW LEVEL SECURITY;
ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoices FORCE ROW LEVEL SECURITY;
CREATE POLICY billing_customers_isolation ON billing_customers
    USING (tenant_id = tg_current_tenant()) WITH CHECK (tenant_id = tg_current_tenant());
CREATE POLICY subscriptions_isolation ON subscriptions
    USING (tenant_id = tg_current_tenant()) WITH CHECK (tenant_id = tg_current_tenant());
CREATE POLICY invoices_isolation ON invoices
    USING (tenant_id = tg_current_tenant()) WITH CHECK (tenant_id = tg_current_tenant());
-- Billing maps a Stripe customer to its tenant before it knows the tenant
-- (events name customers): the billing role, outside any tenant, may read
-- that mapping and nothing else of billing_customers' tenants.
CREATE POLICY billing_customers_lookup ON billing_customers FOR SELECT TO tenantgate_billing
    USING (tg_current_tenant() IS NULL);
CREATE POLICY subscriptions_platform_admin ON subscriptions FOR SELECT TO tenantgate_platform_admin
    USING ((SELECT tg_current_user_is_platform_admin()));
CREATE POLICY billing_customers_platform_admin ON billing_customers FOR SELECT TO tenantgate_platform_admin
    USING ((SELECT tg_current_user_is_platform_admin()));
CREATE POLICY invoices_platform_admin ON invoices FOR SELECT TO tenantgate_platform_admin
    USING ((SELECT tg_current_user_is_platform_admin()));

-- The runtime role reads its tenant's billing; billing writes it.
GRANT SELECT ON billing_customers, subscriptions, invoices TO tenantgate_app;
GRANT SELECT ON billing_customers, subscriptions, invoices TO tenantgate_platform_admin;
GRANT SELECT, INSERT, UPDATE ON billing_customers, subscriptions, invoices TO tenantgate_billing;
GRANT SELECT, UPDATE (plan_key) ON tenants TO tenantgate_billing;
GRANT SELECT ON plans, memberships TO tenantgate_billing;
GRANT SELECT (id, email) ON users TO tenantgate_billing;
GRANT INSERT ON audit_log, email_outbox TO tenantgate_billing;

-- Stripe events, each stored once (a redelivery finds its id and changes
-- nothing), worked after the 2xx by any instance (a lease, not a held lock),
-- retried with backoff until done. Platform data: no tenant's policy shows it
-- and only the billing role may touch it.
CREATE TABLE stripe_events (
    id              text PRIMARY KEY CHECK (id ~ '^evt_[A-Za-z0-9_]{1,128}$'),
    event_type      text NOT NULL,
    stripe_created  timestamptz NOT NULL,
    customer_id     text,
    subscription_id text,
    invoice_id      text,
    received_at     timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    leased_until    timestamptz,
    processed_at    timestamptz,
    last_error      text
);
CREATE INDEX stripe_events_due ON stripe_events (next_attempt_at) WHERE processed_at IS NULL;
ALTER TABLE stripe_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE stripe_events FORCE ROW LEVEL SECURITY;
CREATE POLICY stripe_events_billing ON stripe_events TO tenantgate_billing USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON stripe_events TO tenantgate_billing;

-- Periodic jobs that one instance at a time runs (a lease per job).
CREATE TABLE billing_jobs (
    name         text PRIMARY KEY,
    leased_until timestamptz NOT NULL DEFAULT '-infinity',
    last_ok_at   timestamptz
);
INSERT INTO billing_jobs (name) VALUES ('reconcile');
ALTER TABLE billing_jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing_jobs FORCE ROW LEVEL SECURITY;
CREATE POLICY billing_jobs_billing ON billing_jobs TO tenantgate_billing USING (true) WITH CHECK (true);
GRANT SELECT, UPDATE ON billing_jobs TO tenantgate_billing;
