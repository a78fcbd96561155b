-- Schema conventions (every file in schema/ follows them):
--   * snake_case identifiers; table names are plural (users, posts).
--   * Primary keys: id bigint GENERATED ALWAYS AS IDENTITY, constraint <table>_pkey.
--   * Timestamps: timestamptz NOT NULL DEFAULT now(), column names end in _at.
--   * Every constraint and index is named explicitly:
--       <table>_pkey                    primary key
--       <table>_<columns>_key           unique constraint or unique index
--       <table>_<columns>_idx           plain index
--       <table>_<columns>_fkey          foreign key (always backed by an index)
--       <table>_<column>_check          check constraint
--   * Constraints are written as named CONSTRAINT clauses inside CREATE TABLE;
--     indexes are separate CREATE INDEX statements.
--   * Declarative DDL: migrations are derived by diffing these files, functions,
--     triggers and views included; these files are the whole truth.
--   * Each file is self-contained per module; files may be applied in any order.

CREATE TABLE users (
    id            bigint      GENERATED ALWAYS AS IDENTITY,
    email         text        NOT NULL,
    display_name  text        NOT NULL,
    password_hash text        NOT NULL,
    role          text        NOT NULL DEFAULT 'user',
    is_active     boolean     NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_email_check CHECK (char_length(email) BETWEEN 3 AND 254),
    CONSTRAINT users_display_name_check CHECK (char_length(display_name) BETWEEN 1 AND 100),
    CONSTRAINT users_password_hash_check CHECK (char_length(password_hash) BETWEEN 1 AND 255),
    CONSTRAINT users_role_check CHECK (role IN ('user', 'admin'))
);

COMMENT ON TABLE users IS 'User accounts: profiles, roles and activation (sign-up is in auth).';

-- Email addresses are unique regardless of case.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- Keyset listing ordered by (created_at, id); listing by id uses users_pkey.
CREATE INDEX users_created_at_id_idx ON users (created_at, id);

-- Listing filtered by role, by activity, and by both, in either order: one index per
-- filter shape of the ListUsers* queries (see schema/posts.sql).
CREATE INDEX users_role_created_at_id_idx ON users (role, created_at, id);

CREATE INDEX users_role_id_idx ON users (role, id);

CREATE INDEX users_is_active_created_at_id_idx ON users (is_active, created_at, id);

CREATE INDEX users_is_active_id_idx ON users (is_active, id);

CREATE INDEX users_role_is_active_created_at_id_idx ON users (role, is_active, created_at, id);

CREATE INDEX users_role_is_active_id_idx ON users (role, is_active, id);

-- Every change of a user's role or activity, and every removal, is announced on the
-- channel user_auth_state with the user's id, so each API instance forgets the state it
-- cached for that user at once (internal/core/authn). The planner does not diff
-- functions and triggers, so these two statements ship in the hand-written migration
-- *_users_auth_state_notify.sql; keep both copies identical.
CREATE FUNCTION users_notify_auth_state() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_notify('user_auth_state', OLD.id::text);
    RETURN NULL;
END;
$$;

CREATE TRIGGER users_notify_auth_state
    AFTER UPDATE OF role, is_active OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION users_notify_auth_state();
