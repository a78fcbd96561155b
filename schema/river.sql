-- Background jobs: River's schema (github.com/riverqueue/river, driver riverpgxv5),
-- as River's own migrations leave it at the pinned version — v0.51.2, migration line
-- "main", versions 001 to 008 (riverdriver/riverpgxv5/migration/main/*.up.sql in the
-- module cache). River never migrates this database itself: these objects reach it as
-- ordinary Quarry migrations, planned by `api migrate diff`, linted and drift-checked
-- like every other table. internal/jobs tests that this file equals what River's own
-- migrations build, object for object.
--
-- Upgrading River: bump the module, read the new *.up.sql files of the main line,
-- apply their effect to this file, run `make generate NAME=river_vNNN` and review the
-- migration (a new index on river_job is built CONCURRENTLY by the planner; data
-- statements such as backfills go in a `migrate new` file). The schema test fails until
-- this file matches River's migrations again.
--
-- Deviations from the conventions of schema/users.sql, on purpose: River's queries and
-- River's UI name these tables, columns, constraints and indexes, so they keep River's
-- names (singular river_job, river_queue, …; constraints such as priority_in_range;
-- indexes such as river_job_kind) and River's types (bigserial keys, not identity
-- columns; nullable *_at columns that River sets). river_migration, River's record of
-- its own migrations, is left out: Quarry's migrations carry River's versions.
-- river_leader is UNLOGGED as River made it: its rows are a lease that a crash may
-- forget.

CREATE TYPE river_job_state AS ENUM (
    'available',
    'cancelled',
    'completed',
    'discarded',
    'pending',
    'retryable',
    'running',
    'scheduled'
);

CREATE TABLE river_job (
    id            bigserial       PRIMARY KEY,
    state         river_job_state NOT NULL DEFAULT 'available',
    attempt       smallint        NOT NULL DEFAULT 0,
    max_attempts  smallint        NOT NULL DEFAULT 25,
    attempted_at  timestamptz,
    created_at    timestamptz     NOT NULL DEFAULT now(),
    finalized_at  timestamptz,
    scheduled_at  timestamptz     NOT NULL DEFAULT now(),
    priority      smallint        NOT NULL DEFAULT 1,
    args          jsonb           NOT NULL,
    attempted_by  text[],
    errors        jsonb[],
    kind          text            NOT NULL,
    metadata      jsonb           NOT NULL DEFAULT '{}',
    queue         text            NOT NULL DEFAULT 'default',
    tags          varchar(255)[]  NOT NULL DEFAULT '{}',
    unique_key    bytea,
    unique_states bit(8),
    CONSTRAINT finalized_or_finalized_at_null CHECK (
        (finalized_at IS NULL AND state NOT IN ('cancelled', 'completed', 'discarded')) OR
        (finalized_at IS NOT NULL AND state IN ('cancelled', 'completed', 'discarded'))
    ),
    CONSTRAINT max_attempts_is_positive CHECK (max_attempts > 0),
    CONSTRAINT priority_in_range CHECK (priority >= 1 AND priority <= 4),
    CONSTRAINT queue_length CHECK (char_length(queue) > 0 AND char_length(queue) < 128),
    CONSTRAINT kind_length CHECK (char_length(kind) > 0 AND char_length(kind) < 128)
);

CREATE INDEX river_job_kind ON river_job USING btree (kind);

CREATE INDEX river_job_state_and_finalized_at_index ON river_job USING btree (state, finalized_at)
    WHERE finalized_at IS NOT NULL;

CREATE INDEX river_job_prioritized_fetching_index ON river_job USING btree (state, queue, priority, scheduled_at, id);

CREATE INDEX river_job_args_index ON river_job USING gin (args);

CREATE INDEX river_job_metadata_index ON river_job USING gin (metadata);

-- Whether state is one of the states set in bitmask (bit 7 = available … bit 0 =
-- scheduled): the unique-jobs index below only holds jobs in their unique states.
CREATE FUNCTION river_job_state_in_bitmask(bitmask bit(8), state river_job_state)
    RETURNS boolean
    LANGUAGE sql
    IMMUTABLE
AS $$
    SELECT CASE state
        WHEN 'available' THEN get_bit(bitmask, 7)
        WHEN 'cancelled' THEN get_bit(bitmask, 6)
        WHEN 'completed' THEN get_bit(bitmask, 5)
        WHEN 'discarded' THEN get_bit(bitmask, 4)
        WHEN 'pending'   THEN get_bit(bitmask, 3)
        WHEN 'retryable' THEN get_bit(bitmask, 2)
        WHEN 'running'   THEN get_bit(bitmask, 1)
        WHEN 'scheduled' THEN get_bit(bitmask, 0)
        ELSE 0
    END = 1;
$$;

CREATE UNIQUE INDEX river_job_unique_idx ON river_job (unique_key)
    WHERE unique_key IS NOT NULL
      AND unique_states IS NOT NULL
      AND river_job_state_in_bitmask(unique_states, state);

CREATE UNLOGGED TABLE river_leader (
    elected_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    leader_id  text        NOT NULL,
    name       text        PRIMARY KEY DEFAULT 'default',
    CONSTRAINT name_length CHECK (name = 'default'),
    CONSTRAINT leader_id_length CHECK (char_length(leader_id) > 0 AND char_length(leader_id) < 128)
);

CREATE TABLE river_queue (
    name       text        PRIMARY KEY NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    metadata   jsonb       NOT NULL DEFAULT '{}',
    paused_at  timestamptz,
    updated_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- Notification outbox (River uses LISTEN/NOTIFY on PostgreSQL; the table is part of
-- the main line from version 007 on).
CREATE TABLE river_notification (
    id         bigserial   PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    payload    text        NOT NULL,
    topic      text        NOT NULL,
    CONSTRAINT topic_length CHECK (length(topic) > 0 AND length(topic) < 128)
);

CREATE INDEX river_notification_created_at_idx ON river_notification (created_at);

CREATE INDEX river_notification_topic_id_idx ON river_notification (topic, id);
