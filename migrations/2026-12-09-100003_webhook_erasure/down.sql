-- The function as 2026-12-08-200001 made it; the policies go.
DROP POLICY IF EXISTS webhook_events_erasure ON webhook_events;
DROP POLICY IF EXISTS webhook_endpoints_erasure ON webhook_endpoints;
DROP POLICY IF EXISTS webhook_deliveries_erasure ON webhook_deliveries;
DROP POLICY IF EXISTS webhook_attempts_erasure ON webhook_attempts;
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
