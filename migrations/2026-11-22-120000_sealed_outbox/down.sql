ALTER TABLE email_outbox DROP CONSTRAINT email_outbox_unsent_has_body;
-- Sealed bodies cannot be opened here (the key is not in the database).
ALTER TABLE email_outbox ADD COLUMN body text NOT NULL DEFAULT '';
ALTER TABLE email_outbox ALTER COLUMN body DROP DEFAULT;
ALTER TABLE email_outbox DROP COLUMN sealed_body;
