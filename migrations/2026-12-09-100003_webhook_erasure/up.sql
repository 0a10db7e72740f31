-- Webhooks and erasure (issue 14 review). A person's deletion
-- (tg_erase_user_rows) also replaces their address in the webhook outbox's
-- payloads (member.* and invitation.* data name it: shown in the delivery log,
-- re-sent by a replay) and in the response excerpts receivers may echo it in.
-- The purge's batches (tg_tenant_purge_batch) reach the outbox and its
-- deliveries and attempts too: under FORCE the owner needs its own policy,
-- only while an erasure function has set app.erasure (as for the tables of
-- 2026-12-08-200001). Policies another migration already made are kept.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['webhook_events', 'webhook_endpoints', 'webhook_deliveries',
                             'webhook_attempts'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_policies
                       WHERE schemaname = 'public' AND tablename = t
                         AND policyname = t || '_erasure') THEN
            EXECUTE format('CREATE POLICY %I ON %I TO %I '
                           'USING (current_setting(''app.erasure'', true) = ''on'') '
                           'WITH CHECK (current_setting(''app.erasure'', true) = ''on'')',
                           t || '_erasure', t, current_user);
        END IF;
    END LOOP;
END
$$;

-- As in 2026-12-08-200001, with the two webhook steps before the user row goes.
CREATE OR REPLACE FUNCTION tg_erase_user_rows(person uuid) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    address text;
    needle jsonb;
BEGIN
    PERFORM set_config('app.erasure', 'on', true);
    SELECT u.email INTO address FROM public.users u WHERE u.id = person;
    IF address IS NULL THEN
        RETURN;
    END IF;
    needle := jsonb_build_object('e', address);
    UPDATE public.audit_log a
    SET actor_label = NULL, ip = NULL, user_agent = NULL
    WHERE a.actor_type IN ('user', 'platform_admin') AND a.actor_id = person;
    UPDATE public.audit_log a
    SET before = replace(a.before::text, to_jsonb(address)::text, '"[erased]"')::jsonb,
        after = replace(a.after::text, to_jsonb(address)::text, '"[erased]"')::jsonb
    WHERE jsonb_path_exists(a.before, '$.** ? (@ == $e)', needle)
       OR jsonb_path_exists(a.after, '$.** ? (@ == $e)', needle);
    -- Every tenant's outbox: the address as a JSON string anywhere in the data.
    UPDATE public.webhook_events w
    SET payload = replace(w.payload::text, to_jsonb(address)::text, '"[erased]"')::jsonb
    WHERE jsonb_path_exists(w.payload, '$.** ? (@ == $e)', needle);
    -- What receivers answered, in any case, anywhere in the text.
    UPDATE public.webhook_attempts x
    SET response_excerpt = regexp_replace(x.response_excerpt,
                                          regexp_replace(address, '([^a-zA-Z0-9])', '\\\1', 'g'),
                                          '[erased]', 'gi')
    WHERE strpos(lower(x.response_excerpt), address) > 0;
    DELETE FROM public.invitations i WHERE lower(i.email) = address;
    DELETE FROM public.email_outbox o WHERE lower(o.recipient) = address;
    -- Mail to others that names them in its subject (an invitation they sent).
    -- Its body stays sealed until delivered, then goes (see the mail module).
    UPDATE public.email_outbox o SET subject = replace(o.subject, address, '[erased]')
    WHERE strpos(lower(o.subject), address) > 0;
    DELETE FROM public.login_failures f
    WHERE f.key = 'account:' || address
       OR right(f.key, length(address) + 1) IN ('|' || address, ':' || address);
    DELETE FROM public.users u WHERE u.id = person;
END
$$;
REVOKE ALL ON FUNCTION tg_erase_user_rows(uuid) FROM PUBLIC;
