-- name: CreateAuditEvent :exec
-- CreateAuditEvent appends one audit event. occurred_at is the time of the current
-- transaction, the same now() the audited change's own timestamps get.
INSERT INTO audit_events (
    actor_id, action, resource_type, resource_id, before, after,
    request_id, client_ip, user_agent, outcome
) VALUES (
    sqlc.narg('actor_id'), @action, @resource_type, sqlc.narg('resource_id'),
    sqlc.narg('before'), sqlc.narg('after'),
    sqlc.narg('request_id'), sqlc.narg('client_ip'), sqlc.narg('user_agent'), @outcome
);

-- name: ListAuditEvents :many
-- ListAuditEvents returns one keyset page of audit events, newest first: ordered by
-- (occurred_at, id) descending.
--   - actor_id, action, resource_type, resource_id: optional filters (NULL matches
--     every row);
--   - occurred_from (inclusive), occurred_to (exclusive): optional time range;
--   - after_occurred_at, after_id: the cursor, i.e. the sort key of the last row of the
--     previous page, NULL on the first page;
--   - page_limit: the maximum number of rows returned.
SELECT id, occurred_at, actor_id, action, resource_type, resource_id, before, after,
       request_id, client_ip, user_agent, outcome
FROM audit_events
WHERE (sqlc.narg('actor_id')::bigint IS NULL OR actor_id = sqlc.narg('actor_id'))
  AND (sqlc.narg('action')::text IS NULL OR action = sqlc.narg('action'))
  AND (sqlc.narg('resource_type')::text IS NULL OR resource_type = sqlc.narg('resource_type'))
  AND (sqlc.narg('resource_id')::text IS NULL OR resource_id = sqlc.narg('resource_id'))
  AND occurred_at >= COALESCE(sqlc.narg('occurred_from')::timestamptz, '-infinity')
  AND occurred_at < COALESCE(sqlc.narg('occurred_to')::timestamptz, 'infinity')
  AND (occurred_at, id) < (COALESCE(sqlc.narg('after_occurred_at')::timestamptz, 'infinity'),
                           COALESCE(sqlc.narg('after_id')::bigint, 9223372036854775807))
ORDER BY occurred_at DESC, id DESC
LIMIT @page_limit;

-- name: PruneAuditEvents :one
-- PruneAuditEvents deletes up to batch_size audit events older than keep_seconds
-- (audit retention, at least a day), oldest first, and returns how many.
SELECT audit_events_prune(@keep_seconds::bigint, @batch_size::integer)::bigint AS deleted;
