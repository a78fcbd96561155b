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

// requestCtx is a context carrying its request's Info.
type requestCtx struct {
	context.Context
	info Info
}

func (c *requestCtx) Value(k any) any {
	if k == (key{}) {
		return &c.info
	}
	return c.Context.Value(k)
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
