// Package reqctx carries what is known about the current request — its id, the
// client, the authenticated actor, a logger — in its context, without depending on the
// HTTP framework, so services and the audit log can read it.
package reqctx

import (
	"context"
	"log/slog"
	"time"
)

// Info describes the request a context belongs to.
type Info struct {
	RequestID string
	ClientIP  string
	UserAgent string
	// ActorID is the authenticated user; 0 for anonymous requests. Authentication sets
	// it once it has verified the caller.
	ActorID int64
	// Auth is what authentication knows of the caller, set with ActorID (its type
	// is the authenticating package's).
	Auth any
	log  *slog.Logger
}

type key struct{}

// With returns ctx carrying info; log receives the request's log lines.
func With(ctx context.Context, info *Info, log *slog.Logger) context.Context {
	info.log = log
	return context.WithValue(ctx, key{}, info)
}

// WithTimeout returns a context carrying info (as With) that ends after timeout (as
// context.WithTimeout), the Info it carries, which authentication may complete, and
// the function that cancels it. The info and its context layer are one allocation.
func WithTimeout(parent context.Context, info Info, log *slog.Logger, timeout time.Duration) (context.Context, *Info, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(parent, timeout)
	rc := &requestCtx{Context: ctx, info: info}
	rc.info.log = log
	return rc, &rc.info, cancel
}

// requestCtx is a context carrying its request's Info and the values its
// dependencies keep (SetSlot).
type requestCtx struct {
	context.Context
	info  Info
	slots [maxSlots]slot
}

// maxSlots is how many values a request keeps in its context; routes have a few
// dependencies at most.
const maxSlots = 4

type slot struct {
	name  string
	value any
}

type slotsKey struct{}

func (c *requestCtx) Value(k any) any {
	switch k {
	case key{}:
		return &c.info
	case slotsKey{}:
		return c
	}
	return c.Context.Value(k)
}

// SetSlot keeps value under name for the rest of the request ctx belongs to, in
// place of what was kept under name before, and reports whether it could: false
// outside a context made by WithTimeout or when its places are all taken. Values are
// set and read by the goroutine serving the request.
func SetSlot(ctx context.Context, name string, value any) bool {
	rc, ok := ctx.Value(slotsKey{}).(*requestCtx)
	if !ok {
		return false
	}
	for i := range rc.slots {
		if s := &rc.slots[i]; s.name == name || s.name == "" {
			s.name, s.value = name, value
			return true
		}
	}
	return false
}

// GetSlot returns the value SetSlot kept under name in ctx's request, and false when
// there is none.
func GetSlot(ctx context.Context, name string) (any, bool) {
	rc, ok := ctx.Value(slotsKey{}).(*requestCtx)
	if !ok {
		return nil, false
	}
	for _, s := range rc.slots {
		if s.name == name {
			return s.value, true
		}
	}
	return nil, false
}

// Lookup returns the request Info of ctx, and false outside a request.
func Lookup(ctx context.Context) (*Info, bool) {
	info, ok := ctx.Value(key{}).(*Info)
	return info, ok
}

// From returns the request Info of ctx; an empty Info (not nil) outside a request.
func From(ctx context.Context) *Info {
	if info, ok := ctx.Value(key{}).(*Info); ok {
		return info
	}
	return &Info{}
}

// Logger returns the request's logger, or one that discards outside a request. Log
// with the request's context (the *Context methods) so records carry its request id.
func Logger(ctx context.Context) *slog.Logger {
	if log := From(ctx).log; log != nil {
		return log
	}
	return slog.New(slog.DiscardHandler)
}
