-- Hand-written migration: statements the planner cannot derive from schema/, such as
-- functions and triggers. Keep schema/ describing the same objects, then run
-- `api migrate hash` after editing this file (never after it was applied anywhere).

-- Append-only audit log: any UPDATE, DELETE or TRUNCATE of audit_events fails. The same
-- function and trigger are described in schema/audit.sql.
CREATE FUNCTION audit_events_append_only() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'audit rows are never changed or removed';
END;
$$;

CREATE TRIGGER audit_events_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
