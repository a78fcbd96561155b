package httpx

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/quarrydev/quarry/internal/core/apperr"
	"github.com/quarrydev/quarry/internal/core/reqctx"
	"github.com/quarrydev/quarry/internal/db"
)

// statusOf is the one table from error kind to HTTP status.
var statusOf = map[apperr.Kind]int{
	apperr.KindInternal:         http.StatusInternalServerError,
	apperr.KindBadRequest:       http.StatusBadRequest,
	apperr.KindInvalid:          http.StatusUnprocessableEntity,
	apperr.KindNotFound:         http.StatusNotFound,
	apperr.KindConflict:         http.StatusConflict,
	apperr.KindUnauthenticated:  http.StatusUnauthorized,
	apperr.KindForbidden:        http.StatusForbidden,
	apperr.KindTooManyRequests:  http.StatusTooManyRequests,
	apperr.KindUnavailable:      http.StatusServiceUnavailable,
	apperr.KindTimeout:          http.StatusGatewayTimeout,
	apperr.KindTooLarge:         http.StatusRequestEntityTooLarge,
	apperr.KindMethodNotAllowed: http.StatusMethodNotAllowed,
	apperr.KindRequestTimeout:   http.StatusRequestTimeout,
}

// Status returns the HTTP status for kind.
func Status(kind apperr.Kind) int {
	if s, ok := statusOf[kind]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// errRejectedValue answers input the database refused that no module maps to a field
// (e.g. a NUL character in text).
var errRejectedValue = apperr.New(apperr.KindInvalid, "validation_failed", "a value in the request was rejected")

// ErrRouteNotFound answers a path no route serves.
var ErrRouteNotFound = apperr.New(apperr.KindNotFound, "route_not_found", "no route matches this path")

// Errors answering requests the database could not serve (503, with Retry-After).
var (
	// ErrDatabaseUnavailable: the database cannot be reached or is restarting.
	ErrDatabaseUnavailable = apperr.New(apperr.KindUnavailable, "database_unavailable",
		"the database is unavailable; retry after the number of seconds in Retry-After")
	// ErrDatabaseBusy: every database connection stayed in use for the acquire timeout.
	ErrDatabaseBusy = apperr.New(apperr.KindUnavailable, "database_busy",
		"the database is busy; retry after the number of seconds in Retry-After")
)

// Classify turns any error into the *apperr.Error a client may see: application errors
// as they are, database and context errors into their common counterparts, anything
// else into apperr.ErrInternal wrapping the cause. An exhausted pool and an unreachable
// database are told apart from a request deadline before it: both also wrap
// context.DeadlineExceeded when they ran out of their own timeouts.
func Classify(err error) *apperr.Error {
	if e, ok := apperr.As(err); ok {
		return e
	}
	cause := err
	err = db.Translate(err)
	switch {
	case errors.Is(err, db.ErrPoolExhausted):
		return ErrDatabaseBusy.Wrap(cause)
	case errors.Is(err, db.ErrUnavailable):
		return ErrDatabaseUnavailable.Wrap(cause)
	case errors.Is(err, context.DeadlineExceeded):
		return apperr.ErrTimeout.Wrap(err)
	case errors.Is(err, context.Canceled), errors.Is(err, db.ErrCanceled):
		return apperr.ErrUnavailable.Wrap(err)
	case errors.Is(err, db.ErrNotFound):
		return apperr.ErrNotFound.Wrap(err)
	case errors.Is(err, db.ErrConflict), errors.Is(err, db.ErrForeignKey):
		return apperr.ErrConflict.Wrap(err)
	case errors.Is(err, db.ErrInvalidInput), errors.Is(err, db.ErrCheck):
		return errRejectedValue.Wrap(err)
	}
	return apperr.ErrInternal.Wrap(err)
}

// Fail writes err as an error envelope with the status of its kind and aborts the
// chain. Unexpected errors are logged with the request id; their text never reaches
// the client.
func Fail(c *gin.Context, err error) {
	e := Classify(err)
	status := Status(e.Kind)
	ctx := c.Request.Context()
	if status >= 500 {
		reqctx.Logger(ctx).ErrorContext(ctx, "request failed", "status", status, "code", e.Code, "error", err)
	}
	if e.Kind == apperr.KindUnavailable && c.Writer.Header().Get("Retry-After") == "" {
		c.Header("Retry-After", strconv.Itoa(1))
	}
	c.Abort()
	writeJSON(c, status, &Envelope[ErrorData]{
		Code: e.Code,
		Msg:  e.Msg,
		Data: ErrorData{RequestID: RequestID(ctx), Fields: e.Fields},
	})
}
