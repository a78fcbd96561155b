-- name: GetPost :one
-- GetPost returns the post with the given id.
SELECT * FROM posts
WHERE id = @id;

-- name: GetPostForUpdate :one
-- GetPostForUpdate returns the post with the given id and locks it until the end of
-- the transaction, so the state recorded before a change is the one it changes.
SELECT * FROM posts
WHERE id = @id
FOR UPDATE;

-- name: ListPostsByIDAsc :many
-- ListPostsByIDAsc returns one keyset page of posts ordered by id ascending.
--
-- All four ListPosts* queries take the same parameters, so a caller can pick one from
-- a whitelist of sort keys without adapting its arguments:
--   - author_id, status: optional filters (NULL matches every row);
--   - after_created_at, after_id: the cursor, i.e. the sort key of the last row of the
--     previous page, NULL on the first page (the id sorts read only after_id);
--   - page_limit: the maximum number of rows returned.
SELECT * FROM posts
WHERE (sqlc.narg('author_id')::bigint IS NULL OR author_id = sqlc.narg('author_id'))
  AND (sqlc.narg('status')::text IS NULL OR status = sqlc.narg('status'))
  AND (sqlc.narg('after_created_at')::timestamptz IS NULL OR true)
  AND id > COALESCE(sqlc.narg('after_id')::bigint, 0)
ORDER BY id ASC
LIMIT @page_limit;

-- name: ListPostsByIDDesc :many
-- ListPostsByIDDesc returns one keyset page of posts ordered by id descending.
-- Parameters: see ListPostsByIDAsc.
SELECT * FROM posts
WHERE (sqlc.narg('author_id')::bigint IS NULL OR author_id = sqlc.narg('author_id'))
  AND (sqlc.narg('status')::text IS NULL OR status = sqlc.narg('status'))
  AND (sqlc.narg('after_created_at')::timestamptz IS NULL OR true)
  AND id < COALESCE(sqlc.narg('after_id')::bigint, 9223372036854775807)
ORDER BY id DESC
LIMIT @page_limit;

-- name: ListPostsByCreatedAtAsc :many
-- ListPostsByCreatedAtAsc returns one keyset page of posts ordered by (created_at, id)
-- ascending. Parameters: see ListPostsByIDAsc.
--
-- A NULL cursor is replaced by the lowest possible key rather than tested with
-- "IS NULL OR", so the row comparison stays an index condition in cached plans too.
SELECT * FROM posts
WHERE (sqlc.narg('author_id')::bigint IS NULL OR author_id = sqlc.narg('author_id'))
  AND (sqlc.narg('status')::text IS NULL OR status = sqlc.narg('status'))
  AND (created_at, id) > (COALESCE(sqlc.narg('after_created_at')::timestamptz, '-infinity'),
                          COALESCE(sqlc.narg('after_id')::bigint, 0))
ORDER BY created_at ASC, id ASC
LIMIT @page_limit;

-- name: ListPostsByCreatedAtDesc :many
-- ListPostsByCreatedAtDesc returns one keyset page of posts ordered by (created_at, id)
-- descending. Parameters: see ListPostsByIDAsc.
SELECT * FROM posts
WHERE (sqlc.narg('author_id')::bigint IS NULL OR author_id = sqlc.narg('author_id'))
  AND (sqlc.narg('status')::text IS NULL OR status = sqlc.narg('status'))
  AND (created_at, id) < (COALESCE(sqlc.narg('after_created_at')::timestamptz, 'infinity'),
                          COALESCE(sqlc.narg('after_id')::bigint, 9223372036854775807))
ORDER BY created_at DESC, id DESC
LIMIT @page_limit;

-- name: CountPosts :one
-- CountPosts counts the posts matching the same optional filters as ListPosts*.
SELECT count(*) FROM posts
WHERE (sqlc.narg('author_id')::bigint IS NULL OR author_id = sqlc.narg('author_id'))
  AND (sqlc.narg('status')::text IS NULL OR status = sqlc.narg('status'));

-- name: PostExists :one
-- PostExists reports whether a post with the given id exists.
SELECT EXISTS (SELECT 1 FROM posts WHERE id = @id);

-- name: CreatePost :one
-- CreatePost inserts a post and returns it.
INSERT INTO posts (author_id, title, body, status)
VALUES (@author_id, @title, @body, @status)
RETURNING *;

-- name: UpdatePost :one
-- UpdatePost sets the fields given (non-NULL), leaves the others unchanged, bumps
-- updated_at and returns the post.
UPDATE posts
SET title      = COALESCE(sqlc.narg('title')::text, title),
    body       = COALESCE(sqlc.narg('body')::text, body),
    status     = COALESCE(sqlc.narg('status')::text, status),
    updated_at = now()
WHERE id = @id
RETURNING *;

-- name: DeletePost :execrows
-- DeletePost deletes the post with the given id and returns the number of rows deleted.
DELETE FROM posts
WHERE id = @id;

-- name: CreatePosts :copyfrom
-- CreatePosts inserts many posts with COPY and returns the number of rows copied.
INSERT INTO posts (author_id, title, body, status)
VALUES (@author_id, @title, @body, @status);
