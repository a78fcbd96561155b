-- Posts module. Conventions: see the header of schema/users.sql.

CREATE TABLE posts (
    id         bigint      GENERATED ALWAYS AS IDENTITY,
    author_id  bigint      NOT NULL,
    title      text        NOT NULL,
    body       text        NOT NULL DEFAULT '',
    status     text        NOT NULL DEFAULT 'draft',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT posts_pkey PRIMARY KEY (id),
    CONSTRAINT posts_author_id_fkey FOREIGN KEY (author_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT posts_title_check CHECK (char_length(title) BETWEEN 1 AND 200),
    CONSTRAINT posts_body_check CHECK (char_length(body) <= 100000),
    CONSTRAINT posts_status_check CHECK (status IN ('draft', 'published'))
);

-- Indexes the foreign key and serves listing filtered by author, ordered by (created_at, id).
CREATE INDEX posts_author_id_created_at_id_idx ON posts (author_id, created_at, id);

-- Serves listing filtered by author, ordered by id (without it that sort needs a Sort node).
CREATE INDEX posts_author_id_id_idx ON posts (author_id, id);

-- Unfiltered keyset listing ordered by (created_at, id); listing by id uses posts_pkey.
CREATE INDEX posts_created_at_id_idx ON posts (created_at, id);

-- Listing filtered by status, and by author and status, in either order: every
-- filter shape of the ListPosts* queries has an index that yields its rows in order,
-- so a page never reads rows it then throws away (the plan test checks this).
CREATE INDEX posts_status_created_at_id_idx ON posts (status, created_at, id);

CREATE INDEX posts_status_id_idx ON posts (status, id);

CREATE INDEX posts_author_id_status_created_at_id_idx ON posts (author_id, status, created_at, id);

CREATE INDEX posts_author_id_status_id_idx ON posts (author_id, status, id);

COMMENT ON TABLE posts IS 'Posts written by users: drafts and published articles.';
