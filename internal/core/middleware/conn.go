package middleware

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"

	"github.com/quarrydev/quarry/internal/core/httpx"
)

// plainErrorHeaders is what net/http writes between the status line and the body of
// the errors it answers by itself, before any handler runs: an unreadable request
// (400), headers over MaxHeaderBytes (431), an unknown transfer encoding (501).
// Responses written by handlers never look like this: they carry a Date header.
const plainErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// codeOfPlainError is the envelope code of each status net/http answers by itself.
var codeOfPlainError = map[int]string{
	http.StatusBadRequest:                  "bad_request",
	http.StatusRequestHeaderFieldsTooLarge: "headers_too_large",
	http.StatusNotImplemented:              "not_implemented",
}

// EnvelopeListener returns ln with each accepted connection wrapped so that the
// errors net/http writes by itself go out as the error envelope, with an
// X-Request-ID, like every other response: net/http offers no hook for them.
func EnvelopeListener(ln net.Listener) net.Listener {
	return &envelopeListener{Listener: ln, ids: newRequestIDs()}
}

type envelopeListener struct {
	net.Listener
	ids *requestIDs
}

func (l *envelopeListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &envelopeConn{Conn: c, ids: l.ids}, nil
}

// envelopeConn rewrites net/http's plain-text error responses.
type envelopeConn struct {
	net.Conn
	ids *requestIDs
}

// Write passes b through unless it is one of net/http's own error responses, which
// it replaces by the envelope. It reports len(b) written when the replacement was.
func (c *envelopeConn) Write(b []byte) (int, error) {
	out, ok := envelopeOfPlainError(b, c.ids.next())
	if !ok {
		return c.Conn.Write(b)
	}
	if _, err := c.Conn.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

// CloseWrite half-closes the connection, as net/http does after a 431.
func (c *envelopeConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// envelopeOfPlainError returns the envelope response replacing b, and false when b
// is not one of net/http's plain-text error responses.
func envelopeOfPlainError(b []byte, requestID string) ([]byte, bool) {
	const prefix = "HTTP/1.1 "
	if !bytes.HasPrefix(b, []byte(prefix)) || len(b) < len(prefix)+3 {
		return nil, false
	}
	head, body, ok := bytes.Cut(b, []byte(plainErrorHeaders))
	if !ok || bytes.Contains(head, []byte("\r\n")) {
		return nil, false
	}
	status, err := strconv.Atoi(string(b[len(prefix) : len(prefix)+3]))
	if err != nil || status < 400 || status > 599 {
		return nil, false
	}
	code := codeOfPlainError[status]
	if code == "" {
		code = "bad_request"
	}
	msg := "the request cannot be read"
	if status == http.StatusRequestHeaderFieldsTooLarge {
		msg = "the request headers are too large"
	}
	// net/http's text after the status is a fixed phrase, never an echo of the request.
	if _, detail, ok := bytes.Cut(body, []byte(": ")); ok && len(detail) > 0 {
		msg += ": " + string(detail)
	}
	payload, err := json.Marshal(httpx.Envelope[httpx.ErrorData]{
		Code: code, Msg: msg, Data: httpx.ErrorData{RequestID: requestID},
	})
	if err != nil {
		return nil, false
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=utf-8\r\n%s: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
		status, http.StatusText(status), httpx.HeaderRequestID, requestID, len(payload))
	out.Write(payload)
	return out.Bytes(), true
}
