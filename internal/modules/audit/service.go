package audit

import (
	"context"
	"time"

	"github.com/quarrydev/quarry/internal/core/apperr"
	"github.com/quarrydev/quarry/internal/core/paging"
	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/db/sqlc"
)

// Service reads the audit log. It never writes: events are appended by
// internal/core/audit in the transactions of the changes they record.
type Service struct {
	store   *db.Store
	cursors *db.CursorCodec
	cfg     *Config
	list    *paging.Resource[filter, sqlc.AuditEvent]
}

// NewService returns a Service.
func NewService(store *db.Store, cursors *db.CursorCodec, cfg *Config) *Service {
	return &Service{store: store, cursors: cursors, cfg: cfg, list: listing()}
}

// ListInput selects a page of audit events; nil filters match everything.
type ListInput struct {
	Limit        int    // 0 means the configured default
	Cursor       string // from the previous page
	ActorID      *int64
	Action       *string
	ResourceType *string
	// ResourceID needs ResourceType: ids are only unique within a type.
	ResourceID *string
	// From (inclusive) and To (exclusive) bound occurred_at.
	From, To *time.Time
}

// filter narrows the log; its encoding binds cursors to it.
type filter struct {
	ActorID                          *int64
	Action, ResourceType, ResourceID *string
	From, To                         *time.Time
}

// listing declares the log's list: newest first, by (occurred_at, id), its only order.
func listing() *paging.Resource[filter, sqlc.AuditEvent] {
	return &paging.Resource[filter, sqlc.AuditEvent]{
		Sorts: []paging.Sort[filter, sqlc.AuditEvent]{{Key: "-occurred_at",
			Query: func(ctx context.Context, q db.Querier, f filter, a paging.After, n int32) ([]sqlc.AuditEvent, error) {
				return q.ListAuditEvents(ctx, sqlc.ListAuditEventsParams{
					ActorID: f.ActorID, Action: f.Action, ResourceType: f.ResourceType, ResourceID: f.ResourceID,
					OccurredFrom: f.From, OccurredTo: f.To, AfterOccurredAt: a.At, AfterID: a.ID, PageLimit: n,
				})
			}}},
		Position: func(e sqlc.AuditEvent) (time.Time, int64) { return e.OccurredAt, e.ID },
	}
}

// List returns a page of audit events, newest first. Errors: a validation error
// naming limit when it exceeds the configured maximum, resource_id when it comes
// without resource_type, or to when it is not after from; apperr.ErrBadCursor for a
// tampered cursor or one issued for other filters.
func (s *Service) List(ctx context.Context, in ListInput) (paging.Page[sqlc.AuditEvent], error) {
	var invalid []apperr.FieldError
	if in.ResourceID != nil && in.ResourceType == nil {
		invalid = append(invalid, apperr.FieldError{
			Field: "resource_id", Reason: "required_with", Message: "resource_id needs resource_type",
		})
	}
	if in.From != nil && in.To != nil && !in.To.After(*in.From) {
		invalid = append(invalid, apperr.FieldError{Field: "to", Reason: "gtfield", Message: "to must be after from"})
	}
	if len(invalid) > 0 {
		return paging.Page[sqlc.AuditEvent]{}, apperr.Invalid(invalid...)
	}
	return s.list.List(ctx, s.store, s.cursors, paging.Request{
		Limit: in.Limit, Default: s.cfg.DefaultPageSize, Max: s.cfg.MaxPageSize, Cursor: in.Cursor,
	}, filter{
		ActorID: in.ActorID, Action: in.Action, ResourceType: in.ResourceType, ResourceID: in.ResourceID,
		From: in.From, To: in.To,
	})
}
