// Package httpx is the HTTP layer every module shares: the response envelope, the one
// mapping from errors to statuses, request binding and validation, and the route table
// that carries each route's documentation.
package httpx

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"
	gojson "github.com/goccy/go-json"

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
func WriteOK(c *gin.Context, status int, data any) { writeOK(c, status, data) }

// writeOK is WriteOK for a payload of a static type: the envelope is encoded from a
// pointer to it, one allocation for envelope and payload, the bytes the same.
func writeOK[T any](c *gin.Context, status int, data T) {
	if status == http.StatusNoContent {
		c.Status(status)
		return
	}
	writeJSON(c, status, &Envelope[T]{Code: CodeOK, Msg: "OK", Data: data})
}

// jsonContentType is the Content-Type of every envelope, a shared value of capacity
// one (an Add copies instead of writing into it).
var jsonContentType = []string{"application/json; charset=utf-8"}

// jsonEncoder encodes response bodies straight into the response: goccy/go-json
// encodes into a buffer of its own, reused across calls, and writes it out in one
// Write, so a body costs no allocation of its size. Its output is byte for byte
// what encoding/json's Marshal gives (HTML-safe escaping, invalid UTF-8 replaced,
// Marshaler output compacted, the same time format) at about half the CPU, and time
// values take no allocation.
type jsonEncoder struct {
	enc *gojson.Encoder
	w   io.Writer
}

// Write writes p to the response without the newline Encode ends the value with
// (compact JSON holds no other raw newline).
func (e *jsonEncoder) Write(p []byte) (int, error) {
	n := len(p)
	if n > 0 && p[n-1] == '\n' {
		p = p[:n-1]
	}
	if _, err := e.w.Write(p); err != nil {
		return 0, err
	}
	return n, nil
}

var jsonEncoders = sync.Pool{New: func() any {
	e := &jsonEncoder{}
	e.enc = gojson.NewEncoder(e)
	return e
}}

// writeJSON writes v as the JSON body of a status response. A value that cannot be
// encoded is answered as an internal error instead.
func writeJSON(c *gin.Context, status int, v any) {
	c.Writer.Header()["Content-Type"] = jsonContentType
	c.Status(status)
	e := jsonEncoders.Get().(*jsonEncoder)
	e.w = c.Writer
	err := e.enc.Encode(v)
	e.w = nil
	jsonEncoders.Put(e)
	if err != nil && !c.Writer.Written() {
		Fail(c, fmt.Errorf("encode the response body: %w", err))
	}
}

// Header returns the first value of r's header key, which must be in canonical form
// (http.CanonicalHeaderKey): unlike Header.Get it does not canonicalize key again on
// every request.
func Header(r *http.Request, key string) string {
	if v := r.Header[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// RequestID returns the id of the request ctx belongs to, or "".
func RequestID(ctx context.Context) string { return reqctx.From(ctx).RequestID }
