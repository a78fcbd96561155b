// Package httpx is the HTTP layer every module shares: the response envelope, the one
// mapping from errors to statuses, request binding and validation, and the route table
// that carries each route's documentation.
package httpx

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/quarrydev/quarry/internal/core/apperr"
)

// Envelope is the body of every JSON response.
type Envelope[T any] struct {
	// Code is "ok" on success, a stable machine-readable string on failure.
	Code string `json:"code"`
	// Msg is a short human-readable sentence.
	Msg string `json:"msg"`
	// Data is the payload, or the error details.
	Data T `json:"data"`
}

// ErrorData is the data of an error response.
type ErrorData struct {
	// RequestID identifies the request in the server's logs.
	RequestID string `json:"request_id"`
	// Fields lists the invalid fields of a validation failure.
	Fields []apperr.FieldError `json:"fields,omitempty"`
}

// CodeOK is the code of every successful response.
const CodeOK = "ok"

// HeaderRequestID carries the request id on requests and responses.
const HeaderRequestID = "X-Request-ID"

// WriteOK writes data in a success envelope with status (no body for 204).
func WriteOK(c *gin.Context, status int, data any) {
	if status == http.StatusNoContent {
		c.Status(status)
		return
	}
	c.JSON(status, Envelope[any]{Code: CodeOK, Msg: "OK", Data: data})
}

type ctxKey int

const (
	requestIDKey ctxKey = iota
	loggerKey
)

// WithRequestID returns ctx carrying the request id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestID returns the request id carried by ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// WithLogger returns ctx carrying a request-scoped logger.
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey, l)
}

// Logger returns the request-scoped logger carried by ctx, or one that discards.
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey).(*slog.Logger); ok {
		return l
	}
	return slog.New(slog.DiscardHandler)
}
