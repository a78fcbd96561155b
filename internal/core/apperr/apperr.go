// Package apperr is the error vocabulary shared by services and the HTTP layer.
//
// Services return *Error values (usually package-level sentinels of their module) and
// know nothing of HTTP; the HTTP layer maps each Kind to one status code in one place.
package apperr

import (
	"errors"
	"fmt"
)

// Kind classifies an error for its caller.
type Kind int

// The kinds of error a service may return.
const (
	KindInternal         Kind = iota // a bug or an unexpected failure; details are logged, not shown
	KindBadRequest                   // the request cannot be read (malformed JSON, bad cursor)
	KindInvalid                      // the request was read but fields fail validation
	KindNotFound                     // the resource does not exist (or may not be seen)
	KindConflict                     // the change conflicts with the current state (e.g. a duplicate)
	KindUnauthenticated              // credentials are missing or invalid
	KindForbidden                    // the caller may not do this
	KindTooManyRequests              // the caller is over a limit
	KindUnavailable                  // a dependency is overloaded or down; retrying later may work
	KindTimeout                      // the request's deadline passed
	KindTooLarge                     // the request body exceeds the limit
	KindMethodNotAllowed             // the path exists but not with this method
	KindRequestTimeout               // the client did not send the request in time
)

// FieldError is one invalid input field, named as the client sees it.
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
	// Message is a human-readable sentence, e.g. "title is required".
	Message string `json:"message"`
}

// Error is an error with a kind, a stable machine-readable code and a message safe to
// show to clients.
type Error struct {
	Kind Kind
	// Code is stable and machine-readable, e.g. "post_not_found".
	Code string
	// Msg is a short sentence for people; it never contains internal details.
	Msg string
	// Fields lists invalid fields for KindInvalid.
	Fields []FieldError
	// Err is the underlying cause, for logs only.
	Err error
}

// New returns an *Error; use it for package-level sentinels.
func New(kind Kind, code, msg string) *Error {
	return &Error{Kind: kind, Code: code, Msg: msg}
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Msg, e.Err)
	}
	return e.Code + ": " + e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same code, so that a sentinel
// matches its wrapped copies (see Wrap).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Kind == e.Kind
}

// Wrap returns a copy of e that carries cause for the logs; errors.Is(result, e) holds.
func (e *Error) Wrap(cause error) *Error {
	c := *e
	c.Err = cause
	return &c
}

// WithFields returns a copy of e listing the invalid fields.
func (e *Error) WithFields(fields ...FieldError) *Error {
	c := *e
	c.Fields = append([]FieldError(nil), fields...)
	return &c
}

// Invalid returns a validation error listing fields.
func Invalid(fields ...FieldError) *Error {
	return ErrValidation.WithFields(fields...)
}

// Common errors shared by every module.
var (
	ErrValidation   = New(KindInvalid, "validation_failed", "the request has invalid fields")
	ErrMalformed    = New(KindBadRequest, "malformed_request", "the request body is not valid JSON")
	ErrBadCursor    = New(KindBadRequest, "invalid_cursor", "the cursor is invalid or was issued for another query")
	ErrConflict     = New(KindConflict, "conflict", "the change conflicts with existing data")
	ErrTimeout      = New(KindTimeout, "timeout", "the request took too long")
	ErrUnavailable  = New(KindUnavailable, "unavailable", "the service is temporarily unavailable; retry later")
	ErrTooLarge     = New(KindTooLarge, "body_too_large", "the request body is too large")
	ErrBodyTimeout  = New(KindRequestTimeout, "body_timeout", "the request body was not received in time")
	ErrInternal     = New(KindInternal, "internal_error", "an unexpected error occurred")
	ErrNotFound     = New(KindNotFound, "not_found", "the resource was not found")
	ErrForbidden    = New(KindForbidden, "forbidden", "you may not do this")
	ErrUnauthorized = New(KindUnauthenticated, "unauthenticated", "a valid bearer token is required")
)

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
