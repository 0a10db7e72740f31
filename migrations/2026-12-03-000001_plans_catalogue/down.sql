DROP INDEX plans_monthly_price;
DROP INDEX plans_yearly_price;
ALTER TABLE plans
    DROP CONSTRAINT plans_prices_distinct,
    DROP CONSTRAINT plans_name_length,
    DROP CONSTRAINT plans_currency,
    DROP CONSTRAINT plans_monthly_price_id,
    DROP CONSTRAINT plans_yearly_price_id,
    DROP CONSTRAINT plans_retention,
    DROP COLUMN yearly_price_cents,
    DROP COLUMN stripe_yearly_price_id,
    DROP COLUMN trial_days,
    DROP COLUMN public;
ALTER TABLE plans RENAME COLUMN stripe_monthly_price_id TO stripe_price_id;
