-- name: CreateRefreshToken :one
-- CreateRefreshToken stores the hash of a new refresh token of family family_id.
INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)
VALUES (@user_id, @family_id, @token_hash, @expires_at)
RETURNING id, user_id, family_id, token_hash, created_at, expires_at, rotated_at, revoked_at;

-- name: GetRefreshTokenForUpdate :one
-- GetRefreshTokenForUpdate returns the refresh token with the given hash and locks it
-- until the end of the transaction, so two concurrent refreshes cannot both rotate it.
SELECT id, user_id, family_id, token_hash, created_at, expires_at, rotated_at, revoked_at FROM refresh_tokens
WHERE token_hash = @token_hash
FOR UPDATE;

-- name: RotateRefreshToken :exec
-- RotateRefreshToken marks a refresh token as used.
UPDATE refresh_tokens SET rotated_at = now()
WHERE id = @id;

-- name: RevokeRefreshFamily :execrows
-- RevokeRefreshFamily revokes every live token of a family (sign-out, theft detection).
UPDATE refresh_tokens SET revoked_at = now()
WHERE family_id = @family_id AND revoked_at IS NULL;

-- name: RevokeUserRefreshTokens :execrows
-- RevokeUserRefreshTokens revokes every live token of a user except those of
-- keep_family (nil revokes all).
UPDATE refresh_tokens SET revoked_at = now()
WHERE user_id = @user_id
  AND revoked_at IS NULL
  AND (sqlc.narg('keep_family')::uuid IS NULL OR family_id <> sqlc.narg('keep_family')::uuid);

-- name: DeleteExpiredRefreshTokens :execrows
-- DeleteExpiredRefreshTokens removes up to batch_size tokens that expired before the
-- given time, oldest first, and returns how many; callers repeat it until it removes
-- fewer than batch_size, so no single statement holds many locks or a long
-- transaction. Rows another transaction holds are skipped (taken by the next run).
-- Served by refresh_tokens_expires_at_idx.
DELETE FROM refresh_tokens
WHERE id IN (
    SELECT t.id FROM refresh_tokens AS t
    WHERE t.expires_at < @before
    ORDER BY t.expires_at
    LIMIT @batch_size
    FOR UPDATE SKIP LOCKED
);

-- name: RevokeRefreshFamilyOfToken :many
-- RevokeRefreshFamilyOfToken revokes every live token of the family the token with the
-- given hash belongs to (sign-out) and returns the owner and family of each token it
-- revoked; an unknown hash, or a family already revoked, revokes nothing.
UPDATE refresh_tokens SET revoked_at = now()
WHERE family_id = (SELECT t.family_id FROM refresh_tokens AS t WHERE t.token_hash = @token_hash)
  AND revoked_at IS NULL
RETURNING user_id, family_id;

-- name: RefreshFamilyRevoked :one
-- RefreshFamilyRevoked reports whether any token of the family was revoked: a family
-- is ended as a whole, so a token minted while a revocation was waiting for its lock
-- must not outlive it.
SELECT EXISTS (
    SELECT 1 FROM refresh_tokens WHERE family_id = @family_id AND revoked_at IS NOT NULL
);
