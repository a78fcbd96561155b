// Package logging builds the application's slog logger.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/quarrydev/quarry/internal/core/reqctx"
)

// New returns a logger writing to w: JSON lines when format is "json" (production),
// readable text otherwise, at level ("debug", "info", "warn" or "error"). Records
// logged with a request's context carry its request_id.
func New(w io.Writer, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return nil, fmt.Errorf("LOG_LEVEL %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if format == "json" {
		return slog.New(RequestHandler(slog.NewJSONHandler(w, opts))), nil
	}
	return slog.New(RequestHandler(slog.NewTextHandler(w, opts))), nil
}

// RequestHandler wraps h so that records logged with a request's context carry its
// request_id.
func RequestHandler(h slog.Handler) slog.Handler { return requestHandler{h} }

type requestHandler struct{ slog.Handler }

func (h requestHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := reqctx.From(ctx).RequestID; id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestHandler) WithGroup(name string) slog.Handler {
	return requestHandler{h.Handler.WithGroup(name)}
}
