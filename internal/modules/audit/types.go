package audit

import (
	"encoding/json"
	"time"

	coreaudit "github.com/quarrydev/quarry/internal/core/audit"
	"github.com/quarrydev/quarry/internal/db/sqlc"
)

// redacted is what replaces a secret in before and after.
const redacted = coreaudit.Redacted

// Event is an audit event as clients see it.
type Event struct {
	ID         int64     `json:"id"`
	OccurredAt time.Time `json:"occurred_at" doc:"time of the change's transaction"`
	// ActorID is null for anonymous callers and failed sign-ins.
	ActorID      *int64  `json:"actor_id" doc:"who acted; null when anonymous"`
	Action       string  `json:"action" doc:"<resource or module>.<verb>, e.g. post.create, auth.login"`
	ResourceType string  `json:"resource_type" doc:"e.g. post, user"`
	ResourceID   *string `json:"resource_id" doc:"null when the action has no single resource"`
	// Before and After are JSON objects, or null.
	Before    json.RawMessage `json:"before" doc:"state before the action (object), null for a create"`
	After     json.RawMessage `json:"after" doc:"state after the action (object), null for a delete"`
	RequestID *string         `json:"request_id" doc:"X-Request-ID of the request; null outside a request"`
	ClientIP  *string         `json:"client_ip" doc:"client address; null outside a request"`
	UserAgent *string         `json:"user_agent"`
	Outcome   string          `json:"outcome" enum:"success,failure"`
}

// toEvent maps a row to its DTO.
func toEvent(e sqlc.AuditEvent) Event {
	out := Event{
		ID: e.ID, OccurredAt: e.OccurredAt, ActorID: e.ActorID, Action: e.Action,
		ResourceType: e.ResourceType, ResourceID: e.ResourceID,
		Before: rawObject(e.Before), After: rawObject(e.After),
		RequestID: e.RequestID, UserAgent: e.UserAgent, Outcome: e.Outcome,
	}
	if e.ClientIp != nil {
		ip := e.ClientIp.String()
		out.ClientIP = &ip
	}
	return out
}

// rawObject returns the stored JSON, or JSON null for NULL.
func rawObject(b []byte) json.RawMessage {
	if b == nil {
		return json.RawMessage("null")
	}
	return b
}

// EventList is a page of audit events.
type EventList struct {
	Items []Event `json:"items"`
	// NextCursor continues the list; null on the last page.
	NextCursor *string `json:"next_cursor"`
}

// ListAuditEventsRequest selects a page of audit events.
type ListAuditEventsRequest struct {
	Limit        int     `form:"limit" binding:"omitempty,min=1" doc:"page size; at most AUDIT_MAX_PAGE_SIZE (default 200), larger is rejected"`
	Cursor       string  `form:"cursor" binding:"max=1024" doc:"next_cursor of the previous page"`
	ActorID      *int64  `form:"actor_id" binding:"omitnil,gt=0"`
	Action       *string `form:"action" binding:"omitnil,min=1,max=100" doc:"e.g. post.update"`
	ResourceType *string `form:"resource_type" binding:"omitnil,min=1,max=50" doc:"e.g. post"`
	ResourceID   *string `form:"resource_id" binding:"omitnil,min=1,max=100" doc:"needs resource_type"`
	From         *string `form:"from" binding:"omitnil,max=64" doc:"RFC 3339 time; events at or after it"`
	To           *string `form:"to" binding:"omitnil,max=64" doc:"RFC 3339 time; events before it"`
}
