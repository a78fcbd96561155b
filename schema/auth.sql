-- Auth module: refresh tokens. Conventions: see the header of schema/users.sql.
--
-- Refresh tokens are opaque random strings; only their SHA-256 hash is stored. Every
-- use rotates the token within its family (one sign-in); presenting a token that was
-- already rotated revokes the whole family.

CREATE TABLE refresh_tokens (
    id         bigint      GENERATED ALWAYS AS IDENTITY,
    user_id    bigint      NOT NULL,
    family_id  uuid        NOT NULL,
    token_hash bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    rotated_at timestamptz,
    revoked_at timestamptz,
    CONSTRAINT refresh_tokens_pkey PRIMARY KEY (id),
    CONSTRAINT refresh_tokens_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT refresh_tokens_token_hash_check CHECK (octet_length(token_hash) = 32),
    CONSTRAINT refresh_tokens_expires_at_check CHECK (expires_at > created_at)
);

CREATE UNIQUE INDEX refresh_tokens_token_hash_key ON refresh_tokens (token_hash);

-- Indexes the foreign key; serves revoking every session of a user.
CREATE INDEX refresh_tokens_user_id_idx ON refresh_tokens (user_id);

-- Serves revoking a family.
CREATE INDEX refresh_tokens_family_id_idx ON refresh_tokens (family_id);

-- Serves pruning expired tokens in batches, oldest first.
CREATE INDEX refresh_tokens_expires_at_idx ON refresh_tokens (expires_at);
