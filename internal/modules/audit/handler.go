package audit

import (
	"time"

	"github.com/gin-gonic/gin"

	"github.com/quarrydev/quarry/internal/core/apperr"
	"github.com/quarrydev/quarry/internal/core/paging"
)

// handler adapts HTTP requests to the Service: bind, call, map to DTOs.
type handler struct {
	svc *Service
}

func (h *handler) list(c *gin.Context, in *ListAuditEventsRequest) (EventList, error) {
	from, ferr := parseTime("from", in.From)
	to, terr := parseTime("to", in.To)
	if fields := append(ferr, terr...); len(fields) > 0 {
		return EventList{}, apperr.Invalid(fields...)
	}
	page, err := h.svc.List(c.Request.Context(), ListInput{
		Limit: in.Limit, Cursor: in.Cursor, ActorID: in.ActorID, Action: in.Action,
		ResourceType: in.ResourceType, ResourceID: in.ResourceID, From: from, To: to,
	})
	if err != nil {
		return EventList{}, err
	}
	r := paging.Respond(page, toEvent)
	return EventList{Items: r.Items, NextCursor: r.NextCursor}, nil
}

// parseTime reads the RFC 3339 time of query parameter name; nil stays nil. It
// returns the field error for a malformed value.
func parseTime(name string, raw *string) (*time.Time, []apperr.FieldError) {
	if raw == nil {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, *raw)
	if err != nil {
		return nil, []apperr.FieldError{{Field: name, Reason: "datetime", Message: name + " must be an RFC 3339 time, e.g. 2006-01-02T15:04:05Z"}}
	}
	return &t, nil
}
