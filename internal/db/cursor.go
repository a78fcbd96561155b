package db

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ErrInvalidCursor means a pagination cursor was not produced by this codec
// with this key: malformed, truncated, tampered with, from another version,
// or not matching the expected payload type. Handlers map it to a 400.
var ErrInvalidCursor = errors.New("db: invalid cursor")

const (
	// MaxCursorLen is the longest encoded cursor Decode accepts, and Encode
	// produces.
	MaxCursorLen = 1024
	// MinCursorKeyLen is the shortest secret NewCursorCodec accepts.
	MinCursorKeyLen = 32

	cursorVersion = 1
	cursorTagLen  = 16 // truncated HMAC-SHA256
	// cursorKeyLabel separates the cursor MAC key from other uses of the
	// same secret.
	cursorKeyLabel = "quarry/db: keyset cursor v1"
)

// CursorCodec seals keyset pagination positions into opaque strings that
// clients pass back unchanged. A cursor is base64url (no padding) of a
// version byte, the JSON encoding of the position and a 16-byte
// HMAC-SHA256 tag over both. The MAC stops clients from forging positions;
// the JSON is not encrypted, so a position must not contain secrets.
//
// The payload is any JSON-encodable struct of the caller's; lists seal their keyset
// position with it (internal/core/paging).
//
// A CursorCodec is safe for concurrent use.
type CursorCodec struct {
	key []byte
}

// NewCursorCodec returns a codec keyed by the secret key. It returns an
// error if key is shorter than [MinCursorKeyLen] bytes. Cursors stay valid
// for as long as the key stays the same.
func NewCursorCodec(key []byte) (*CursorCodec, error) {
	if len(key) < MinCursorKeyLen {
		return nil, fmt.Errorf("db: cursor key must be at least %d bytes, got %d", MinCursorKeyLen, len(key))
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(cursorKeyLabel))
	return &CursorCodec{key: m.Sum(nil)}, nil
}

// Encode returns the cursor for position v. It returns an error if v cannot
// be encoded as JSON or the cursor would exceed [MaxCursorLen].
func (c *CursorCodec) Encode(v any) (string, error) {
	payload, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("db: encode cursor: %w", err)
	}
	raw := make([]byte, 0, 1+len(payload)+cursorTagLen)
	raw = append(raw, cursorVersion)
	raw = append(raw, payload...)
	raw = append(raw, c.tag(raw)...)
	s := base64.RawURLEncoding.EncodeToString(raw)
	if len(s) > MaxCursorLen {
		return "", fmt.Errorf("db: encode cursor: %d bytes exceeds the limit of %d", len(s), MaxCursorLen)
	}
	return s, nil
}

// Decode checks cursor s and stores its position in v, which must be a
// non-nil pointer. It returns an error wrapping [ErrInvalidCursor] if s is
// longer than [MaxCursorLen], not base64url, too short, of another version,
// not signed with this codec's key, or its JSON has fields v lacks, wrong
// types or trailing data. An unusable v (not a pointer) is reported as a
// plain error, since it is the caller's bug, not the client's.
func (c *CursorCodec) Decode(s string, v any) error {
	if len(s) > MaxCursorLen {
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidCursor, MaxCursorLen)
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("%w: not base64url", ErrInvalidCursor)
	}
	if len(raw) < 1+cursorTagLen {
		return fmt.Errorf("%w: too short", ErrInvalidCursor)
	}
	if raw[0] != cursorVersion {
		return fmt.Errorf("%w: unknown version %d", ErrInvalidCursor, raw[0])
	}
	body, tag := raw[:len(raw)-cursorTagLen], raw[len(raw)-cursorTagLen:]
	if !hmac.Equal(tag, c.tag(body)) {
		return fmt.Errorf("%w: bad signature", ErrInvalidCursor)
	}

	dec := json.NewDecoder(bytes.NewReader(body[1:]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var invalid *json.InvalidUnmarshalError
		if errors.As(err, &invalid) {
			return fmt.Errorf("db: decode cursor: %w", err)
		}
		return fmt.Errorf("%w: payload: %w", ErrInvalidCursor, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: trailing data after payload", ErrInvalidCursor)
	}
	return nil
}

// tag returns the truncated MAC of b.
func (c *CursorCodec) tag(b []byte) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write(b)
	return m.Sum(nil)[:cursorTagLen]
}
