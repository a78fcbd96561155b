// Package reqctx carries what is known about the current request — its id, the
// client, the authenticated actor, a logger — in its context, without depending on the
// HTTP framework, so services and the audit log can read it.
package reqctx

import (
	"context"
	"log/slog"
)

// Info describes the request a context belongs to.
type Info struct {
	RequestID string
	ClientIP  string
	UserAgent string
	// ActorID is the authenticated user; 0 for anonymous requests. Authentication sets
	// it once it has verified the caller.
	ActorID int64
	log     *slog.Logger
}

type key struct{}

// With returns ctx carrying info; log receives the request's log lines.
func With(ctx context.Context, info *Info, log *slog.Logger) context.Context {
	info.log = log
	return context.WithValue(ctx, key{}, info)
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
