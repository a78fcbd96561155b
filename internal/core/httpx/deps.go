package httpx

import (
	"context"
	"fmt"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/quarrydev/quarry/internal/core/apperr"
	"github.com/quarrydev/quarry/internal/core/reqctx"
)

// Slot is a typed place in the request for a value a dependency produced (e.g. the
// resource loaded from the path id), so handlers never cast string-keyed values.
type Slot[T any] struct{ key string }

// NewSlot returns a Slot; name must be unique among the slots of a route chain.
func NewSlot[T any](name string) Slot[T] { return Slot[T]{key: "quarry.slot." + name} }

// Set stores v for the rest of the chain: in the request's context when it has room
// (reqctx.SetSlot, no map to allocate), else among gin's keys.
func (s Slot[T]) Set(c *gin.Context, v T) {
	if !reqctx.SetSlot(c.Request.Context(), s.key, v) {
		c.Set(s.key, v)
	}
}

// Get returns the stored value and whether there is one.
func (s Slot[T]) Get(c *gin.Context) (T, bool) {
	v, ok := reqctx.GetSlot(c.Request.Context(), s.key)
	if !ok {
		v, ok = c.Get(s.key)
	}
	if !ok {
		var zero T
		return zero, false
	}
	t, ok := v.(T)
	return t, ok
}

// MustGet returns the stored value; it panics when the route's chain lacks the
// dependency that sets it — a wiring bug the route's tests catch.
func (s Slot[T]) MustGet(c *gin.Context) T {
	v, ok := s.Get(c)
	if !ok {
		panic(fmt.Sprintf("httpx: slot %s is empty: the route is missing the dependency that loads it", s.key))
	}
	return v
}

// Load is the dependency that reads the positive integer path parameter param, loads
// the resource with load and stores it in slot. A malformed id answers 422 naming the
// parameter; load's error is answered as it maps (e.g. 404).
func Load[T any](slot Slot[T], param string, load func(ctx context.Context, id int64) (T, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := strconv.ParseInt(c.Param(param), 10, 64)
		if err != nil || id <= 0 {
			Fail(c, apperr.Invalid(apperr.FieldError{Field: param, Reason: "type", Message: param + " must be a positive integer"}))
			return
		}
		v, err := load(c.Request.Context(), id)
		if err != nil {
			Fail(c, err)
			return
		}
		slot.Set(c, v)
		c.Next()
	}
}
