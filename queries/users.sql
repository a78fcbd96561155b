-- name: GetUser :one
-- GetUser returns the user with the given id.
SELECT id, email, display_name, password_hash, role, is_active, created_at, updated_at FROM users
WHERE id = @id;

-- name: GetUserForUpdate :one
-- GetUserForUpdate returns the user with the given id and locks it until the end of
-- the transaction, so the state recorded before a change is the one it changes.
SELECT id, email, display_name, password_hash, role, is_active, created_at, updated_at FROM users
WHERE id = @id
FOR UPDATE;

-- name: GetUserByEmail :one
-- GetUserByEmail returns the user with the given email, compared case-insensitively.
SELECT id, email, display_name, password_hash, role, is_active, created_at, updated_at FROM users
WHERE lower(email) = lower(@email);

-- name: ListUsersByCreatedAtDesc :many
-- ListUsersByCreatedAtDesc returns one keyset page of users ordered by (created_at, id)
-- descending, without their password hashes.
--
-- All four ListUsers* queries take the same parameters, so a caller can pick one from
-- a whitelist of sort keys without adapting its arguments:
--   - role, is_active: optional filters (NULL matches every row);
--   - after_created_at, after_id: the cursor, i.e. the sort key of the last row of the
--     previous page, NULL on the first page (the id sorts read only after_id);
--   - page_limit: the maximum number of rows returned.
--
-- Plan-safe like ListPostsByCreatedAtDesc: one branch per filter shape, switched by
-- one-time IS NULL tests, each served by its own index: none (users_created_at_id_idx,
-- users_pkey), role (users_role_*), is_active (users_is_active_*), both
-- (users_role_is_active_*).
(SELECT id, email, display_name, role, is_active, created_at, updated_at FROM users
 WHERE sqlc.narg('role')::text IS NULL AND sqlc.narg('is_active')::boolean IS NULL
   AND (created_at, id) <
       (COALESCE(sqlc.narg('after_created_at')::timestamptz, 'infinity'), COALESCE(sqlc.narg('after_id')::bigint, 9223372036854775807))
 ORDER BY created_at DESC, id DESC LIMIT @page_limit)
UNION ALL
(SELECT id, email, display_name, role, is_active, created_at, updated_at FROM users
 WHERE sqlc.narg('role')::text IS NOT NULL AND sqlc.narg('is_active')::boolean IS NULL AND role = sqlc.narg('role')::text
   AND (role, created_at, id) <
       (sqlc.narg('role')::text, COALESCE(sqlc.narg('after_created_at')::timestamptz, 'infinity'), COALESCE(sqlc.narg('after_id')::bigint, 9223372036854775807))
 ORDER BY created_at DESC, id DESC LIMIT @page_limit)
UNION ALL
(SELECT id, email, display_name, role, is_active, created_at, updated_at FROM users
 WHERE sqlc.narg('role')::text IS NULL AND sqlc.narg('is_active')::boolean IS NOT NULL AND is_active = sqlc.narg('is_active')::boolean
   AND (is_active, created_at, id) <
       (sqlc.narg('is_active')::boolean, COALESCE(sqlc.narg('after_created_at')::timestamptz, 'infinity'), COALESCE(sqlc.narg('after_id')::bigint, 9223372036854775807))
 ORDER BY created_at DESC, id DESC LIMIT @page_limit)
UNION ALL
(SELECT id, email, display_name, role, is_active, created_at, updated_at FROM users
 WHERE sqlc.narg('role')::text IS NOT NULL AND sqlc.narg('is_active')::boolean IS NOT NULL AND role = sqlc.narg('role')::text AND is_active = sqlc.narg('is_active')::boolean
   AND (role, is_active, created_at, id) <
       (sqlc.narg('role')::text, sqlc.narg('is_active')::boolean, COALESCE(sqlc.narg('after_created_at')::timestamptz, 'infinity'), COALESCE(sqlc.narg('after_id')::bigint, 9223372036854775807))
 ORDER BY created_at DESC, id DESC LIMIT @page_limit)
ORDER BY created_at DESC, id DESC
LIMIT @page_limit;

-- name: ListUsersByCreatedAtAsc :many
-- ListUsersByCreatedAtAsc returns one keyset page of users ordered by (created_at, id)
-- ascending. Parameters and form: see ListUsersByCreatedAtDesc.
(SELECT id, email, display_name, role, is_active, created_at, updated_at FROM users
 WHERE sqlc.narg('role')::text IS NULL AND sqlc.narg('is_active')::boolean IS NULL
   AND (created_at, id) >
       (COALESCE(sqlc.narg('after_created_at')::timestamptz, '-infinity'), COALESCE(sqlc.narg('after_id')::bigint, 0))
 ORDER BY created_at ASC, id ASC LIMIT @page_limit)
UNION ALL
(SELECT id, email, display_name, role, is_active, created_at, updated_at FROM users
 WHERE sqlc.narg('role')::text IS NOT NULL AND sqlc.narg('is_active')::boolean IS NULL AND role = sqlc.narg('role')::text
   AND (role, created_at, id) >
       (sqlc.narg('role')::text, COALESCE(sqlc.narg('after_created_at')::timestamptz, '-infinity'), COALESCE(sqlc.narg('after_id')::bigint, 0))
 ORDER BY created_at ASC, id ASC LIMIT @page_limit)
UNION ALL
(SELECT id, email, display_name, role, is_active, created_at, updated_at FROM users
 WHERE sqlc.narg('role')::text IS NULL AND sqlc.narg('is_active')::boolean IS NOT NULL AND is_active = sqlc.narg('is_active')::boolean
   AND (is_active, created_at, id) >
       (sqlc.narg('is_active')::boolean, COALESCE(sqlc.narg('after_created_at')::timestamptz, '-infinity'), COALESCE(sqlc.narg('after_id')::bigint, 0))
 ORDER BY created_at ASC, id ASC LIMIT @page_limit)
UNION ALL
(SELECT id, email, display_name, role, is_active, created_at, updated_at FROM users
 WHERE sqlc.narg('role')::text IS NOT NULL AND sqlc.narg('is_active')::boolean IS NOT NULL AND role = sqlc.narg('role')::text AND is_active = sqlc.narg('is_active')::boolean
   AND (role, is_active, created_at, id) >
       (sqlc.narg('role')::text, sqlc.narg('is_active')::boolean, COALESCE(sqlc.narg('after_created_at')::timestamptz, '-infinity'), COALESCE(sqlc.narg('after_id')::bigint, 0))
 ORDER BY created_at ASC, id ASC LIMIT @page_limit)
ORDER BY created_at ASC, id ASC
LIMIT @page_limit;

-- name: ListUsersByIDDesc :many
-- ListUsersByIDDesc returns one keyset page of users ordered by id descending.
-- Parameters and form: see ListUsersByCreatedAtDesc.
(SELECT id, email, display_name, role, is_active, created_at, updated_at FROM users
 WHERE sqlc.narg('role')::text IS NULL AND sqlc.narg('is_active')::boolean IS NULL
   AND (sqlc.narg('after_created_at')::timestamptz IS NULL OR true)
   AND id < COALESCE(sqlc.narg('after_id')::bigint, 9223372036854775807)
 ORDER BY id DESC LIMIT @page_limit)
UNION ALL
(SELECT id, email, display_name, role, is_active, created_at, updated_at FROM users
 WHERE sqlc.narg('role')::text IS NOT NULL AND sqlc.narg('is_active')::boolean IS NULL AND role = sqlc.narg('role')::text
   AND (role, id) <
       (sqlc.narg('role')::text, COALESCE(sqlc.narg('after_id')::bigint, 9223372036854775807))
 ORDER BY id DESC LIMIT @page_limit)
UNION ALL
(SELECT id, email, display_name, role, is_active, created_at, updated_at FROM users
 WHERE sqlc.narg('role')::text IS NULL AND sqlc.narg('is_active')::boolean IS NOT NULL AND is_active = sqlc.narg('is_active')::boolean
   AND (is_active, id) <
       (sqlc.narg('is_active')::boolean, COALESCE(sqlc.narg('after_id')::bigint, 9223372036854775807))
 ORDER BY id DESC LIMIT @page_limit)
UNION ALL
(SELECT id, email, display_name, role, is_active, created_at, updated_at FROM users
 WHERE sqlc.narg('role')::text IS NOT NULL AND sqlc.narg('is_active')::boolean IS NOT NULL AND role = sqlc.narg('role')::text AND is_active = sqlc.narg('is_active')::boolean
   AND (role, is_active, id) <
       (sqlc.narg('role')::text, sqlc.narg('is_active')::boolean, COALESCE(sqlc.narg('after_id')::bigint, 9223372036854775807))
 ORDER BY id DESC LIMIT @page_limit)
ORDER BY id DESC
LIMIT @page_limit;

-- name: ListUsersByIDAsc :many
-- ListUsersByIDAsc returns one keyset page of users ordered by id ascending.
-- Parameters and form: see ListUsersByCreatedAtDesc.
(SELECT id, email, display_name, role, is_active, created_at, updated_at FROM users
 WHERE sqlc.narg('role')::text IS NULL AND sqlc.narg('is_active')::boolean IS NULL
   AND (sqlc.narg('after_created_at')::timestamptz IS NULL OR true)
   AND id > COALESCE(sqlc.narg('after_id')::bigint, 0)
 ORDER BY id ASC LIMIT @page_limit)
UNION ALL
(SELECT id, email, display_name, role, is_active, created_at, updated_at FROM users
 WHERE sqlc.narg('role')::text IS NOT NULL AND sqlc.narg('is_active')::boolean IS NULL AND role = sqlc.narg('role')::text
   AND (role, id) >
       (sqlc.narg('role')::text, COALESCE(sqlc.narg('after_id')::bigint, 0))
 ORDER BY id ASC LIMIT @page_limit)
UNION ALL
(SELECT id, email, display_name, role, is_active, created_at, updated_at FROM users
 WHERE sqlc.narg('role')::text IS NULL AND sqlc.narg('is_active')::boolean IS NOT NULL AND is_active = sqlc.narg('is_active')::boolean
   AND (is_active, id) >
       (sqlc.narg('is_active')::boolean, COALESCE(sqlc.narg('after_id')::bigint, 0))
 ORDER BY id ASC LIMIT @page_limit)
UNION ALL
(SELECT id, email, display_name, role, is_active, created_at, updated_at FROM users
 WHERE sqlc.narg('role')::text IS NOT NULL AND sqlc.narg('is_active')::boolean IS NOT NULL AND role = sqlc.narg('role')::text AND is_active = sqlc.narg('is_active')::boolean
   AND (role, is_active, id) >
       (sqlc.narg('role')::text, sqlc.narg('is_active')::boolean, COALESCE(sqlc.narg('after_id')::bigint, 0))
 ORDER BY id ASC LIMIT @page_limit)
ORDER BY id ASC
LIMIT @page_limit;

-- name: CountUsers :one
-- CountUsers counts the users matching the same optional filters as ListUsers*, up to
-- max_count (see CountPosts).
SELECT count(*) FROM (
    (SELECT 1 FROM users WHERE sqlc.narg('role')::text IS NULL AND sqlc.narg('is_active')::boolean IS NULL
       AND id > 0 ORDER BY id LIMIT @max_count)
    UNION ALL
    (SELECT 1 FROM users WHERE sqlc.narg('role')::text IS NOT NULL AND sqlc.narg('is_active')::boolean IS NULL AND role = sqlc.narg('role')::text
       AND (role, id) >
       (sqlc.narg('role')::text, 0) ORDER BY id LIMIT @max_count)
    UNION ALL
    (SELECT 1 FROM users WHERE sqlc.narg('role')::text IS NULL AND sqlc.narg('is_active')::boolean IS NOT NULL AND is_active = sqlc.narg('is_active')::boolean
       AND (is_active, id) >
       (sqlc.narg('is_active')::boolean, 0) ORDER BY id LIMIT @max_count)
    UNION ALL
    (SELECT 1 FROM users WHERE sqlc.narg('role')::text IS NOT NULL AND sqlc.narg('is_active')::boolean IS NOT NULL AND role = sqlc.narg('role')::text AND is_active = sqlc.narg('is_active')::boolean
       AND (role, is_active, id) >
       (sqlc.narg('role')::text, sqlc.narg('is_active')::boolean, 0) ORDER BY id LIMIT @max_count)
) AS matches;

-- name: UserExists :one
-- UserExists reports whether a user with the given id exists.
SELECT EXISTS (SELECT 1 FROM users WHERE id = @id);

-- name: UserEmailExists :one
-- UserEmailExists reports whether a user has the given email, compared case-insensitively.
SELECT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower(@email));

-- name: CreateUser :one
-- CreateUser inserts a user and returns it.
INSERT INTO users (email, display_name, password_hash, role, is_active)
VALUES (@email, @display_name, @password_hash, @role, @is_active)
RETURNING id, email, display_name, password_hash, role, is_active, created_at, updated_at;

-- name: UpdateUser :one
-- UpdateUser sets the fields given (non-NULL), leaves the others unchanged, bumps
-- updated_at and returns the user.
UPDATE users
SET email         = COALESCE(sqlc.narg('email')::text, email),
    display_name  = COALESCE(sqlc.narg('display_name')::text, display_name),
    password_hash = COALESCE(sqlc.narg('password_hash')::text, password_hash),
    role          = COALESCE(sqlc.narg('role')::text, role),
    is_active     = COALESCE(sqlc.narg('is_active')::boolean, is_active),
    updated_at    = now()
WHERE id = @id
RETURNING id, email, display_name, password_hash, role, is_active, created_at, updated_at;

-- name: DeleteUser :execrows
-- DeleteUser deletes the user with the given id (and, by cascade, their posts) and
-- returns the number of users deleted.
DELETE FROM users
WHERE id = @id;

-- name: CreateUsers :copyfrom
-- CreateUsers inserts many users with COPY and returns the number of rows copied.
INSERT INTO users (email, display_name, password_hash, role, is_active)
VALUES (@email, @display_name, @password_hash, @role, @is_active);

-- name: GetUserAuthState :one
-- GetUserAuthState returns what authorization needs of a user on every request: its
-- current role and whether it is active.
SELECT role, is_active FROM users
WHERE id = @id;

-- name: LockActiveAdmins :many
-- LockActiveAdmins locks every active admin, in id order so that concurrent callers
-- queue rather than deadlock, and returns their ids.
SELECT id FROM users
WHERE role = 'admin' AND is_active
ORDER BY id
FOR UPDATE;
