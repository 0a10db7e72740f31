DROP TABLE billing_jobs;
DROP TABLE stripe_events;
DROP TABLE invoices;
DROP TABLE subscriptions;
DROP TABLE billing_customers;
REVOKE ALL ON tenants, plans, memberships, users, audit_log, email_outbox FROM tenantgate_billing;
REVOKE USAGE ON SCHEMA public FROM tenantgate_billing;
