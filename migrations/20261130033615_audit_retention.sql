-- function public.audit_events_append_only()
CREATE OR REPLACE FUNCTION public.audit_events_append_only()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('quarry.audit_prune', true) = 'on'
       AND pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE') THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'audit rows are never changed or removed';
END;
$function$;
-- function public.audit_events_prune(keep_seconds bigint, batch_size integer)
CREATE OR REPLACE FUNCTION public.audit_events_prune(keep_seconds bigint, batch_size integer)
 RETURNS bigint
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
DECLARE
    deleted bigint;
BEGIN
    IF keep_seconds < 86400 THEN
        RAISE EXCEPTION 'audit retention must keep at least a day, not % seconds', keep_seconds
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM set_config('quarry.audit_prune', 'on', true);
    DELETE FROM audit_events WHERE id IN (
        SELECT id FROM audit_events
        WHERE occurred_at < now() - make_interval(secs => keep_seconds)
        ORDER BY occurred_at, id
        LIMIT batch_size
    );
    GET DIAGNOSTICS deleted = ROW_COUNT;
    PERFORM set_config('quarry.audit_prune', 'off', true);
    RETURN deleted;
END;
$function$;
