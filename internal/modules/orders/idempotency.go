package orders

import (
	"crypto/sha256"
	"encoding/binary"
	"strings"
)

// parseIdempotencyKey returns the key an Idempotency-Key header carries: the header
// is a structured-field string (RFC 8941, as draft-ietf-httpapi-idempotency-key-header
// defines it), e.g. "abc-123" with its quotes; a bare token of visible ASCII is
// accepted too, as many clients send one. It returns "" for an empty header, and
// false when the value is neither or its key is not 1 to 255 characters.
func parseIdempotencyKey(header string) (string, bool) {
	h := strings.TrimSpace(header)
	if h == "" {
		return "", true
	}
	var key string
	if h[0] == '"' {
		var b strings.Builder
		closed := false
		for i := 1; i < len(h); i++ {
			c := h[i]
			switch {
			case closed:
				return "", false // anything after the closing quote
			case c == '\\':
				if i+1 >= len(h) || (h[i+1] != '"' && h[i+1] != '\\') {
					return "", false
				}
				i++
				b.WriteByte(h[i])
			case c == '"':
				closed = true
			case c < 0x20 || c > 0x7e:
				return "", false
			default:
				b.WriteByte(c)
			}
		}
		if !closed {
			return "", false
		}
		key = b.String()
	} else {
		for i := 0; i < len(h); i++ {
			if h[i] <= 0x20 || h[i] > 0x7e || h[i] == '"' {
				return "", false
			}
		}
		key = h
	}
	return key, key != "" && len(key) <= 255
}

// requestHash returns the SHA-256 fingerprint of a placement of lines (normalized:
// one per product, by product id): the same order asked for twice has the same hash
// however its JSON was spelled or its lines ordered.
func requestHash(lines []Line) []byte {
	h := sha256.New()
	h.Write([]byte("POST /api/v1/orders\n"))
	var buf [12]byte
	for _, l := range lines {
		binary.BigEndian.PutUint64(buf[:8], uint64(l.ProductID))
		binary.BigEndian.PutUint32(buf[8:], uint32(l.Quantity))
		h.Write(buf[:])
	}
	return h.Sum(nil)
}
