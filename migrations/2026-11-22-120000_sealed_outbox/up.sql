-- Email bodies hold sign-in, reset, verification and invitation links. They are
-- now stored sealed (XChaCha20-Poly1305, with a key derived from the server's
-- signing secret, which is not in the database) and removed once delivered, so
-- a copy of the database holds no usable link.
--
-- Bodies stored in plain text before this migration cannot be sealed here (the
-- key is not in the database): they are dropped. Messages not yet delivered
-- are given up with a note (their links expire soon anyway); recipients and
-- subjects stay.
ALTER TABLE email_outbox ADD COLUMN sealed_body bytea;
UPDATE email_outbox
   SET failed_at = now(),
       last_error = 'dropped on upgrade: its body was stored in plain text'
 WHERE sent_at IS NULL AND failed_at IS NULL;
ALTER TABLE email_outbox DROP COLUMN body;
-- A message waiting to be sent always has its body.
ALTER TABLE email_outbox ADD CONSTRAINT email_outbox_unsent_has_body
    CHECK (sealed_body IS NOT NULL OR sent_at IS NOT NULL OR failed_at IS NOT NULL);
