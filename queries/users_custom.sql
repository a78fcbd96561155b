-- Hand-written queries of table users; the generic ones are generated in
-- queries/users.sql by `api gen module users`. Creating users (with their password
-- hash) and deleting them stays here: the users module generates neither.

-- name: GetUserByEmail :one
-- GetUserByEmail returns the user with the given email, compared case-insensitively.
SELECT id, email, display_name, password_hash, role, is_active, created_at, updated_at FROM users
WHERE lower(email) = lower(@email);

-- name: UserEmailExists :one
-- UserEmailExists reports whether a user has the given email, compared case-insensitively.
SELECT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower(@email));

-- name: CreateUser :one
-- CreateUser inserts a user and returns it.
INSERT INTO users (email, display_name, password_hash, role, is_active)
VALUES (@email, @display_name, @password_hash, @role, @is_active)
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
