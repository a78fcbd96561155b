// Package httpx is the HTTP layer every module shares: the response envelope, the one
// mapping from errors to statuses, request binding and validation, and the route table
// that carries each route's documentation.
package httpx

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/quarrydev/quarry/internal/core/apperr"
	"github.com/quarrydev/quarry/internal/core/reqctx"
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

// RequestID returns the id of the request ctx belongs to, or "".
func RequestID(ctx context.Context) string { return reqctx.From(ctx).RequestID }
