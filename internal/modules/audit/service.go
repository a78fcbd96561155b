package audit

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/quarrydev/quarry/internal/core/apperr"
	"github.com/quarrydev/quarry/internal/core/paging"
	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/db/sqlc"
)

// sortNewestFirst is the only order of the log: (occurred_at, id) descending.
const sortNewestFirst = "-occurred_at"

// Service reads the audit log. It never writes: events are appended by
// internal/core/audit in the transactions of the changes they record.
type Service struct {
	store   *db.Store
	cursors *db.CursorCodec
	cfg     *Config
}

// NewService returns a Service.
func NewService(store *db.Store, cursors *db.CursorCodec, cfg *Config) *Service {
	return &Service{store: store, cursors: cursors, cfg: cfg}
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

// Page is one page of audit events.
type Page struct {
	Events []sqlc.AuditEvent
	// Next is the cursor of the next page; "" on the last page.
	Next string
}

// List returns a page of audit events, newest first. Errors: a validation error
// naming limit when it exceeds the configured maximum, resource_id when it comes
// without resource_type, or to when it is not after from; apperr.ErrBadCursor for a
// tampered cursor or one issued for other filters.
func (s *Service) List(ctx context.Context, in ListInput) (Page, error) {
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
		return Page{}, apperr.Invalid(invalid...)
	}
	filter, err := fingerprint(in)
	if err != nil {
		return Page{}, err
	}
	req := paging.Request{
		Limit: in.Limit, Default: s.cfg.DefaultPageSize, Max: s.cfg.MaxPageSize,
		Cursor: in.Cursor, Sort: sortNewestFirst, Filter: filter,
	}
	events, next, err := paging.List(ctx, s.cursors, req,
		func(ctx context.Context, after *db.Keyset, n int32) ([]sqlc.AuditEvent, error) {
			p := sqlc.ListAuditEventsParams{
				ActorID: in.ActorID, Action: in.Action, ResourceType: in.ResourceType, ResourceID: in.ResourceID,
				OccurredFrom: in.From, OccurredTo: in.To, PageLimit: n,
			}
			if after != nil {
				p.AfterOccurredAt, p.AfterID = after.At, &after.ID
			}
			return s.store.ListAuditEvents(ctx, p)
		},
		func(e sqlc.AuditEvent) (time.Time, int64) { return e.OccurredAt, e.ID })
	if err != nil {
		return Page{}, err
	}
	return Page{Events: events, Next: next}, nil
}

// fingerprint identifies the filters a cursor was issued for: a short hash, as the
// filters are free text that could not be joined unambiguously and would make long
// cursors. Errors: none in practice (encoding plain values).
func fingerprint(in ListInput) (string, error) {
	b, err := json.Marshal([]any{in.ActorID, in.Action, in.ResourceType, in.ResourceID, in.From, in.To})
	if err != nil {
		return "", fmt.Errorf("audit filters: %w", err)
	}
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:12]), nil
}
