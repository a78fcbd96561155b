-- name: GetPost :one
-- GetPost returns the post with the given id.
SELECT id, author_id, title, body, status, created_at, updated_at FROM posts
WHERE id = @id;

-- name: GetPostForUpdate :one
-- GetPostForUpdate returns the post with the given id and locks it until the end of
-- the transaction, so the state recorded before a change is the one it changes.
SELECT id, author_id, title, body, status, created_at, updated_at FROM posts
WHERE id = @id
FOR UPDATE;

-- name: ListPostsByCreatedAtDesc :many
-- ListPostsByCreatedAtDesc returns one keyset page of posts ordered by (created_at, id)
-- descending.
--
-- All four ListPosts* queries take the same parameters, so a caller can pick one from
-- a whitelist of sort keys without adapting its arguments:
--   - author_id, status: optional filters (NULL matches every row);
--   - after_created_at, after_id: the cursor, i.e. the sort key of the last row of the
--     previous page, NULL on the first page (the id sorts read only after_id);
--   - page_limit: the maximum number of rows returned.
--
-- Plan-safe: pgx ends up running these as prepared statements with a generic plan,
-- which cannot drop an "(@x IS NULL OR col = @x)" test and so filters rows out of
-- the wrong index. Instead each filter shape is a branch of its own, switched on or
-- off as a whole by its IS NULL tests (a one-time filter, decided before any row is
-- read) and served by its own index: none (posts_created_at_id_idx, posts_pkey),
-- author (posts_author_id_*), status (posts_status_*), both (posts_author_id_status_*).
-- A NULL cursor is replaced by the lowest or highest key rather than tested with
-- IS NULL, and the keyset comparison spans the branch's filter columns too, e.g.
-- (status, created_at, id) < (@status, …): an index condition of that shape's index
-- alone, so the planner picks it over a better-correlated index that would read and
-- discard the other statuses.
(SELECT id, author_id, title, body, status, created_at, updated_at FROM posts
 WHERE sqlc.narg('author_id')::bigint IS NULL AND sqlc.narg('status')::text IS NULL
   AND (created_at, id) <
       (COALESCE(sqlc.narg('after_created_at')::timestamptz, 'infinity'), COALESCE(sqlc.narg('after_id')::bigint, 9223372036854775807))
 ORDER BY created_at DESC, id DESC LIMIT @page_limit)
UNION ALL
(SELECT id, author_id, title, body, status, created_at, updated_at FROM posts
 WHERE sqlc.narg('author_id')::bigint IS NOT NULL AND sqlc.narg('status')::text IS NULL AND author_id = sqlc.narg('author_id')::bigint
   AND (author_id, created_at, id) <
       (sqlc.narg('author_id')::bigint, COALESCE(sqlc.narg('after_created_at')::timestamptz, 'infinity'), COALESCE(sqlc.narg('after_id')::bigint, 9223372036854775807))
 ORDER BY created_at DESC, id DESC LIMIT @page_limit)
UNION ALL
(SELECT id, author_id, title, body, status, created_at, updated_at FROM posts
 WHERE sqlc.narg('author_id')::bigint IS NULL AND sqlc.narg('status')::text IS NOT NULL AND status = sqlc.narg('status')::text
   AND (status, created_at, id) <
       (sqlc.narg('status')::text, COALESCE(sqlc.narg('after_created_at')::timestamptz, 'infinity'), COALESCE(sqlc.narg('after_id')::bigint, 9223372036854775807))
 ORDER BY created_at DESC, id DESC LIMIT @page_limit)
UNION ALL
(SELECT id, author_id, title, body, status, created_at, updated_at FROM posts
 WHERE sqlc.narg('author_id')::bigint IS NOT NULL AND sqlc.narg('status')::text IS NOT NULL AND author_id = sqlc.narg('author_id')::bigint AND status = sqlc.narg('status')::text
   AND (author_id, status, created_at, id) <
       (sqlc.narg('author_id')::bigint, sqlc.narg('status')::text, COALESCE(sqlc.narg('after_created_at')::timestamptz, 'infinity'), COALESCE(sqlc.narg('after_id')::bigint, 9223372036854775807))
 ORDER BY created_at DESC, id DESC LIMIT @page_limit)
ORDER BY created_at DESC, id DESC
LIMIT @page_limit;

-- name: ListPostsByCreatedAtAsc :many
-- ListPostsByCreatedAtAsc returns one keyset page of posts ordered by (created_at, id)
-- ascending. Parameters and form: see ListPostsByCreatedAtDesc.
(SELECT id, author_id, title, body, status, created_at, updated_at FROM posts
 WHERE sqlc.narg('author_id')::bigint IS NULL AND sqlc.narg('status')::text IS NULL
   AND (created_at, id) >
       (COALESCE(sqlc.narg('after_created_at')::timestamptz, '-infinity'), COALESCE(sqlc.narg('after_id')::bigint, 0))
 ORDER BY created_at ASC, id ASC LIMIT @page_limit)
UNION ALL
(SELECT id, author_id, title, body, status, created_at, updated_at FROM posts
 WHERE sqlc.narg('author_id')::bigint IS NOT NULL AND sqlc.narg('status')::text IS NULL AND author_id = sqlc.narg('author_id')::bigint
   AND (author_id, created_at, id) >
       (sqlc.narg('author_id')::bigint, COALESCE(sqlc.narg('after_created_at')::timestamptz, '-infinity'), COALESCE(sqlc.narg('after_id')::bigint, 0))
 ORDER BY created_at ASC, id ASC LIMIT @page_limit)
UNION ALL
(SELECT id, author_id, title, body, status, created_at, updated_at FROM posts
 WHERE sqlc.narg('author_id')::bigint IS NULL AND sqlc.narg('status')::text IS NOT NULL AND status = sqlc.narg('status')::text
   AND (status, created_at, id) >
       (sqlc.narg('status')::text, COALESCE(sqlc.narg('after_created_at')::timestamptz, '-infinity'), COALESCE(sqlc.narg('after_id')::bigint, 0))
 ORDER BY created_at ASC, id ASC LIMIT @page_limit)
UNION ALL
(SELECT id, author_id, title, body, status, created_at, updated_at FROM posts
 WHERE sqlc.narg('author_id')::bigint IS NOT NULL AND sqlc.narg('status')::text IS NOT NULL AND author_id = sqlc.narg('author_id')::bigint AND status = sqlc.narg('status')::text
   AND (author_id, status, created_at, id) >
       (sqlc.narg('author_id')::bigint, sqlc.narg('status')::text, COALESCE(sqlc.narg('after_created_at')::timestamptz, '-infinity'), COALESCE(sqlc.narg('after_id')::bigint, 0))
 ORDER BY created_at ASC, id ASC LIMIT @page_limit)
ORDER BY created_at ASC, id ASC
LIMIT @page_limit;

-- name: ListPostsByIDDesc :many
-- ListPostsByIDDesc returns one keyset page of posts ordered by id descending.
-- Parameters and form: see ListPostsByCreatedAtDesc.
(SELECT id, author_id, title, body, status, created_at, updated_at FROM posts
 WHERE sqlc.narg('author_id')::bigint IS NULL AND sqlc.narg('status')::text IS NULL
   AND (sqlc.narg('after_created_at')::timestamptz IS NULL OR true)
   AND id < COALESCE(sqlc.narg('after_id')::bigint, 9223372036854775807)
 ORDER BY id DESC LIMIT @page_limit)
UNION ALL
(SELECT id, author_id, title, body, status, created_at, updated_at FROM posts
 WHERE sqlc.narg('author_id')::bigint IS NOT NULL AND sqlc.narg('status')::text IS NULL AND author_id = sqlc.narg('author_id')::bigint
   AND (author_id, id) <
       (sqlc.narg('author_id')::bigint, COALESCE(sqlc.narg('after_id')::bigint, 9223372036854775807))
 ORDER BY id DESC LIMIT @page_limit)
UNION ALL
(SELECT id, author_id, title, body, status, created_at, updated_at FROM posts
 WHERE sqlc.narg('author_id')::bigint IS NULL AND sqlc.narg('status')::text IS NOT NULL AND status = sqlc.narg('status')::text
   AND (status, id) <
       (sqlc.narg('status')::text, COALESCE(sqlc.narg('after_id')::bigint, 9223372036854775807))
 ORDER BY id DESC LIMIT @page_limit)
UNION ALL
(SELECT id, author_id, title, body, status, created_at, updated_at FROM posts
 WHERE sqlc.narg('author_id')::bigint IS NOT NULL AND sqlc.narg('status')::text IS NOT NULL AND author_id = sqlc.narg('author_id')::bigint AND status = sqlc.narg('status')::text
   AND (author_id, status, id) <
       (sqlc.narg('author_id')::bigint, sqlc.narg('status')::text, COALESCE(sqlc.narg('after_id')::bigint, 9223372036854775807))
 ORDER BY id DESC LIMIT @page_limit)
ORDER BY id DESC
LIMIT @page_limit;

-- name: ListPostsByIDAsc :many
-- ListPostsByIDAsc returns one keyset page of posts ordered by id ascending.
-- Parameters and form: see ListPostsByCreatedAtDesc.
(SELECT id, author_id, title, body, status, created_at, updated_at FROM posts
 WHERE sqlc.narg('author_id')::bigint IS NULL AND sqlc.narg('status')::text IS NULL
   AND (sqlc.narg('after_created_at')::timestamptz IS NULL OR true)
   AND id > COALESCE(sqlc.narg('after_id')::bigint, 0)
 ORDER BY id ASC LIMIT @page_limit)
UNION ALL
(SELECT id, author_id, title, body, status, created_at, updated_at FROM posts
 WHERE sqlc.narg('author_id')::bigint IS NOT NULL AND sqlc.narg('status')::text IS NULL AND author_id = sqlc.narg('author_id')::bigint
   AND (author_id, id) >
       (sqlc.narg('author_id')::bigint, COALESCE(sqlc.narg('after_id')::bigint, 0))
 ORDER BY id ASC LIMIT @page_limit)
UNION ALL
(SELECT id, author_id, title, body, status, created_at, updated_at FROM posts
 WHERE sqlc.narg('author_id')::bigint IS NULL AND sqlc.narg('status')::text IS NOT NULL AND status = sqlc.narg('status')::text
   AND (status, id) >
       (sqlc.narg('status')::text, COALESCE(sqlc.narg('after_id')::bigint, 0))
 ORDER BY id ASC LIMIT @page_limit)
UNION ALL
(SELECT id, author_id, title, body, status, created_at, updated_at FROM posts
 WHERE sqlc.narg('author_id')::bigint IS NOT NULL AND sqlc.narg('status')::text IS NOT NULL AND author_id = sqlc.narg('author_id')::bigint AND status = sqlc.narg('status')::text
   AND (author_id, status, id) >
       (sqlc.narg('author_id')::bigint, sqlc.narg('status')::text, COALESCE(sqlc.narg('after_id')::bigint, 0))
 ORDER BY id ASC LIMIT @page_limit)
ORDER BY id ASC
LIMIT @page_limit;

-- name: CountPosts :one
-- CountPosts counts the posts matching the same optional filters as ListPosts*, up to
-- max_count: counting stops there, so it never reads more index entries than that.
-- One branch per filter shape, as in ListPostsByCreatedAtDesc.
SELECT count(*) FROM (
    (SELECT 1 FROM posts WHERE sqlc.narg('author_id')::bigint IS NULL AND sqlc.narg('status')::text IS NULL
       AND id > 0 ORDER BY id LIMIT @max_count)
    UNION ALL
    (SELECT 1 FROM posts WHERE sqlc.narg('author_id')::bigint IS NOT NULL AND sqlc.narg('status')::text IS NULL AND author_id = sqlc.narg('author_id')::bigint
       AND (author_id, id) >
       (sqlc.narg('author_id')::bigint, 0) ORDER BY id LIMIT @max_count)
    UNION ALL
    (SELECT 1 FROM posts WHERE sqlc.narg('author_id')::bigint IS NULL AND sqlc.narg('status')::text IS NOT NULL AND status = sqlc.narg('status')::text
       AND (status, id) >
       (sqlc.narg('status')::text, 0) ORDER BY id LIMIT @max_count)
    UNION ALL
    (SELECT 1 FROM posts WHERE sqlc.narg('author_id')::bigint IS NOT NULL AND sqlc.narg('status')::text IS NOT NULL AND author_id = sqlc.narg('author_id')::bigint AND status = sqlc.narg('status')::text
       AND (author_id, status, id) >
       (sqlc.narg('author_id')::bigint, sqlc.narg('status')::text, 0) ORDER BY id LIMIT @max_count)
) AS matches;

-- name: PostExists :one
-- PostExists reports whether a post with the given id exists.
SELECT EXISTS (SELECT 1 FROM posts WHERE id = @id);

-- name: CreatePost :one
-- CreatePost inserts a post and returns it.
INSERT INTO posts (author_id, title, body, status)
VALUES (@author_id, @title, @body, @status)
RETURNING id, author_id, title, body, status, created_at, updated_at;

-- name: CreatePostAudited :one
-- CreatePostAudited inserts a post and its post.create audit event (the post as after)
-- in one statement, so in one round trip and one implicit transaction: both are
-- written or neither is. actor_id, request_id, client_ip and user_agent are the
-- event's origin (see audit.OriginOf).
WITH created AS (
    INSERT INTO posts (author_id, title, body, status)
    VALUES (@author_id, @title, @body, @status)
    RETURNING *
), event AS (
    INSERT INTO audit_events (actor_id, action, resource_type, resource_id, after, request_id, client_ip, user_agent, outcome)
    -- The post as the API encodes it: times in UTC, as RFC 3339 with a Z.
    SELECT sqlc.narg('actor_id'), 'post.create', 'post', created.id::text,
           to_jsonb(created) || jsonb_build_object(
               'created_at', to_char(created.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
               'updated_at', to_char(created.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')),
           sqlc.narg('request_id'), sqlc.narg('client_ip'), sqlc.narg('user_agent'), 'success'
    FROM created
)
SELECT * FROM created;

-- name: UpdatePost :one
-- UpdatePost sets the fields given (non-NULL), leaves the others unchanged, bumps
-- updated_at and returns the post.
UPDATE posts
SET title      = COALESCE(sqlc.narg('title')::text, title),
    body       = COALESCE(sqlc.narg('body')::text, body),
    status     = COALESCE(sqlc.narg('status')::text, status),
    updated_at = now()
WHERE id = @id
RETURNING id, author_id, title, body, status, created_at, updated_at;

-- name: DeletePost :execrows
-- DeletePost deletes the post with the given id and returns the number of rows deleted.
DELETE FROM posts
WHERE id = @id;

-- name: CreatePosts :copyfrom
-- CreatePosts inserts many posts with COPY and returns the number of rows copied.
INSERT INTO posts (author_id, title, body, status)
VALUES (@author_id, @title, @body, @status);
