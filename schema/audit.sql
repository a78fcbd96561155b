-- Audit log: one row per state-changing action, written in the transaction of the
-- change it records (internal/core/audit). Conventions: see the header of
-- schema/users.sql.
--
-- actor_id has no foreign key on purpose: the history outlives the users it names.
-- before and after are JSON objects with sensitive values already redacted; a create
-- has only after, a delete only before. request_id, client_ip and user_agent are NULL
-- outside an HTTP request. occurred_at is the time of the change's transaction.

CREATE TABLE audit_events (
    id            bigint      GENERATED ALWAYS AS IDENTITY,
    occurred_at   timestamptz NOT NULL DEFAULT now(),
    actor_id      bigint,
    action        text        NOT NULL,
    resource_type text        NOT NULL,
    resource_id   text,
    before        jsonb,
    after         jsonb,
    request_id    text,
    client_ip     inet,
    user_agent    text,
    outcome       text        NOT NULL,
    CONSTRAINT audit_events_pkey PRIMARY KEY (id),
    CONSTRAINT audit_events_action_check CHECK (action ~ '^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$' AND char_length(action) <= 100),
    CONSTRAINT audit_events_resource_type_check CHECK (resource_type ~ '^[a-z][a-z0-9_]*$' AND char_length(resource_type) <= 50),
    CONSTRAINT audit_events_resource_id_check CHECK (char_length(resource_id) BETWEEN 1 AND 100),
    CONSTRAINT audit_events_before_check CHECK (jsonb_typeof(before) = 'object'),
    CONSTRAINT audit_events_after_check CHECK (jsonb_typeof(after) = 'object'),
    -- The request id middleware accepts at most 128 characters.
    CONSTRAINT audit_events_request_id_check CHECK (char_length(request_id) BETWEEN 1 AND 128),
    CONSTRAINT audit_events_user_agent_check CHECK (char_length(user_agent) <= 512),
    CONSTRAINT audit_events_outcome_check CHECK (outcome IN ('success', 'failure'))
);

-- Every index serves one filter of the read API, newest first in keyset order
-- (occurred_at, id); the unfiltered list and the time range use the first.
CREATE INDEX audit_events_occurred_at_id_idx ON audit_events (occurred_at, id);

CREATE INDEX audit_events_actor_id_occurred_at_id_idx ON audit_events (actor_id, occurred_at, id);

CREATE INDEX audit_events_action_occurred_at_id_idx ON audit_events (action, occurred_at, id);

-- Serves resource_type alone and resource_type with resource_id.
CREATE INDEX audit_events_resource_type_resource_id_occurred_at_id_idx
    ON audit_events (resource_type, resource_id, occurred_at, id);

-- Append-only: any UPDATE, DELETE or TRUNCATE of audit_events fails, whatever the
-- client. The one exception is the retention job (AUDIT_RETENTION, off by default):
-- audit_events_prune runs with its owner's rights and marks its transaction, and the
-- trigger lets a DELETE through only with that mark and only for a role that owns the
-- table (a client that sets the mark itself is still refused; an owner could disable
-- the trigger anyway).
CREATE FUNCTION audit_events_append_only() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('quarry.audit_prune', true) = 'on'
       AND pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE') THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'audit rows are never changed or removed';
END;
$$;

CREATE TRIGGER audit_events_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- Deletes up to batch_size audit rows that are older than keep_seconds (at least a
-- day), oldest first, and returns how many; the caller repeats it until it returns
-- fewer. The rights of the function's owner (the table's owner) let the DELETE past
-- the append-only trigger.
CREATE FUNCTION audit_events_prune(keep_seconds bigint, batch_size integer) RETURNS bigint
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, public
AS $$
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
$$;
