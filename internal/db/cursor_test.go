package db_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/quarrydev/quarry/internal/db"
)

// position is a typical keyset cursor payload.
type position struct {
	CreatedAt time.Time `json:"c"`
	ID        int64     `json:"i"`
}

// newCodec returns a codec whose key is MinCursorKeyLen bytes of seed.
func newCodec(t testing.TB, seed byte) *db.CursorCodec {
	t.Helper()
	c, err := db.NewCursorCodec(bytes.Repeat([]byte{seed}, db.MinCursorKeyLen))
	if err != nil {
		t.Fatalf("NewCursorCodec: %v", err)
	}
	return c
}

func TestCursorRoundTrip(t *testing.T) {
	c := newCodec(t, 1)
	want := position{CreatedAt: time.Date(2025, 3, 4, 5, 6, 7, 891011000, time.UTC), ID: 1<<53 + 1}
	s, err := c.Encode(want)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	if strings.ContainsAny(s, "+/=") {
		t.Errorf("cursor %q is not unpadded base64url", s)
	}
	var got position
	if err := c.Decode(s, &got); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if !got.CreatedAt.Equal(want.CreatedAt) || got.ID != want.ID {
		t.Fatalf("Decode = %+v, want %+v", got, want)
	}
}

func TestCursorRejects(t *testing.T) {
	c := newCodec(t, 1)
	valid, err := c.Encode(position{CreatedAt: time.Unix(1700000000, 0).UTC(), ID: 42})
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(valid)
	if err != nil {
		t.Fatalf("cursor is not base64url: %v", err)
	}
	enc := base64.RawURLEncoding.EncodeToString

	bad := map[string]string{
		"empty":          "",
		"not base64":     "!!!not*base64!!!",
		"padded":         valid + "==",
		"too short":      enc(raw[:10]),
		"truncated tag":  enc(raw[:len(raw)-1]),
		"extra byte":     enc(append(bytes.Clone(raw), 0)),
		"overlong":       strings.Repeat("A", db.MaxCursorLen+1),
		"other key":      mustEncode(t, newCodec(t, 2), position{ID: 42}),
		"unknown field":  mustEncode(t, c, map[string]any{"i": 1, "admin": true}),
		"wrong type":     mustEncode(t, c, map[string]any{"i": "42"}),
		"not an object":  mustEncode(t, c, []int{1, 2}),
		"bad time":       mustEncode(t, c, map[string]any{"c": "yesterday"}),
		"trailing value": sign(testCursorKey(), 1, `{"i":1} {"i":2}`),
		"trailing junk":  sign(testCursorKey(), 1, `{"i":1}x`),
		"empty payload":  sign(testCursorKey(), 1, ``),
		"other version":  sign(testCursorKey(), 2, `{"i":1}`),
		"version zero":   sign(testCursorKey(), 0, `{"i":1}`),
	}
	// Flip each byte in turn: version, payload and tag are all covered.
	for i := range raw {
		tampered := bytes.Clone(raw)
		tampered[i] ^= 0x20
		bad[fmt.Sprintf("tampered byte %d", i)] = enc(tampered)
	}

	for name, s := range bad {
		var p position
		if err := c.Decode(s, &p); !errors.Is(err, db.ErrInvalidCursor) {
			t.Errorf("%s: Decode err = %v, want ErrInvalidCursor", name, err)
		}
	}
}

// mustEncode returns a validly signed cursor for v.
func mustEncode(t *testing.T, c *db.CursorCodec, v any) string {
	t.Helper()
	s, err := c.Encode(v)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return s
}

// testCursorKey is the key of newCodec(t, 1).
func testCursorKey() []byte { return bytes.Repeat([]byte{1}, db.MinCursorKeyLen) }

// sign builds a cursor by hand, following the documented format: base64url
// without padding of version || payload || HMAC-SHA256(macKey, version ||
// payload)[:16], where macKey = HMAC-SHA256(key, label).
func sign(key []byte, version byte, payload string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("quarry/db: keyset cursor v1"))
	macKey := m.Sum(nil)
	body := append([]byte{version}, payload...)
	m = hmac.New(sha256.New, macKey)
	m.Write(body)
	return base64.RawURLEncoding.EncodeToString(append(body, m.Sum(nil)[:16]...))
}

// TestCursorFormat pins the wire format: changing it invalidates every
// cursor clients hold.
func TestCursorFormat(t *testing.T) {
	c := newCodec(t, 1)
	got := mustEncode(t, c, position{CreatedAt: time.Unix(1700000000, 0).UTC(), ID: 42})
	want := sign(testCursorKey(), 1, `{"c":"2023-11-14T22:13:20Z","i":42}`)
	if got != want {
		t.Fatalf("Encode = %q, want %q", got, want)
	}
}

func TestCursorCodecErrors(t *testing.T) {
	if _, err := db.NewCursorCodec(make([]byte, db.MinCursorKeyLen-1)); err == nil {
		t.Error("NewCursorCodec accepted a short key")
	}
	c := newCodec(t, 1)
	if _, err := c.Encode(strings.Repeat("x", db.MaxCursorLen)); err == nil {
		t.Error("Encode produced a cursor longer than MaxCursorLen")
	}
	if _, err := c.Encode(func() {}); err == nil {
		t.Error("Encode accepted a value JSON cannot encode")
	}
	s := mustEncode(t, c, position{ID: 1})
	var p position
	if err := c.Decode(s, p); err == nil || errors.Is(err, db.ErrInvalidCursor) {
		t.Errorf("Decode into a non-pointer: err = %v, want a plain error", err)
	}
}

func FuzzCursorDecode(f *testing.F) {
	c := newCodec(f, 1)
	valid, err := c.Encode(position{CreatedAt: time.Unix(1700000000, 0).UTC(), ID: 42})
	if err != nil {
		f.Fatalf("Encode: %v", err)
	}
	f.Add(valid)
	f.Add("")
	f.Add("AQ")
	f.Add(valid[:len(valid)-2])
	f.Add(strings.Repeat("_", 40))
	f.Fuzz(func(t *testing.T, s string) {
		var p position
		err := c.Decode(s, &p)
		if err == nil {
			// Only a cursor this codec signed can decode; re-encoding the
			// position must give a cursor that decodes to it again.
			again, err := c.Encode(p)
			if err != nil {
				t.Fatalf("Encode(%+v): %v", p, err)
			}
			var q position
			if err := c.Decode(again, &q); err != nil || q.ID != p.ID || !q.CreatedAt.Equal(p.CreatedAt) {
				t.Fatalf("round trip of %+v: %+v, %v", p, q, err)
			}
			return
		}
		if !errors.Is(err, db.ErrInvalidCursor) {
			t.Fatalf("Decode(%q) = %v, want ErrInvalidCursor", s, err)
		}
	})
}
