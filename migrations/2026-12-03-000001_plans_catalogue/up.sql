-- The plan catalogue grows what billing needs: a yearly price, a Stripe price id
-- per interval, trial days, and whether a plan is offered publicly (a private
-- plan is assigned by platform admins only and is not in `plans`).
ALTER TABLE plans RENAME COLUMN stripe_price_id TO stripe_monthly_price_id;
ALTER TABLE plans
    ADD COLUMN yearly_price_cents     integer NOT NULL DEFAULT 0 CHECK (yearly_price_cents >= 0),
    ADD COLUMN stripe_yearly_price_id text,
    ADD COLUMN trial_days             integer NOT NULL DEFAULT 0 CHECK (trial_days BETWEEN 0 AND 730),
    ADD COLUMN public                 boolean NOT NULL DEFAULT true;
ALTER TABLE plans
    ADD CONSTRAINT plans_name_length CHECK (char_length(name) BETWEEN 1 AND 64),
    ADD CONSTRAINT plans_currency CHECK (currency ~ '^[a-z]{3}$'),
    ADD CONSTRAINT plans_monthly_price_id CHECK (stripe_monthly_price_id ~ '^price_[A-Za-z0-9_]{1,64}$'),
    ADD CONSTRAINT plans_yearly_price_id CHECK (stripe_yearly_price_id ~ '^price_[A-Za-z0-9_]{1,64}$'),
    ADD CONSTRAINT plans_retention CHECK (audit_retention_days BETWEEN 1 AND 3650);
-- A Stripe price names one plan and one interval.
CREATE UNIQUE INDEX plans_monthly_price ON plans (stripe_monthly_price_id);
CREATE UNIQUE INDEX plans_yearly_price ON plans (stripe_yearly_price_id);
ALTER TABLE plans ADD CONSTRAINT plans_prices_distinct
    CHECK (stripe_monthly_price_id IS DISTINCT FROM stripe_yearly_price_id
           OR stripe_monthly_price_id IS NULL);

-- Yearly: ten months' price (two months free); trials on the paid self-serve plans.
UPDATE plans SET yearly_price_cents = monthly_price_cents * 10;
UPDATE plans SET trial_days = 14 WHERE key IN ('basic', 'pro');
