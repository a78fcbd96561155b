package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Redacted replaces the value of every sensitive key in an audit record.
const Redacted = "[redacted]"

// sensitiveFragments make a key sensitive when its normalised form (letters and
// digits only, lower-cased: "PasswordHash", "password_hash" and "password-hash" all
// become "passwordhash") contains one of them. Matching fragments rather than whole
// names also catches new_password, refresh_token, token_hash, client_secret, and so
// on; redacting a harmless field by mistake costs less than storing a secret.
var sensitiveFragments = []string{
	"password", "passwd", "passphrase", "secret", "token", "hash", "salt",
	"apikey", "authorization", "cookie", "privatekey", "credential",
}

// Redact returns the JSON encoding of v with the value of every sensitive key, at any
// depth (objects within objects and arrays), replaced by Redacted, whatever its type.
// Keys are matched as described at sensitiveFragments; v is encoded as encoding/json
// does (struct tags apply). NUL characters, which PostgreSQL cannot store in jsonb,
// become U+FFFD. Errors: v cannot be encoded as JSON (e.g. a channel, a NaN).
func Redact(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keep every digit of int64 ids
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	out, err := json.Marshal(redact(tree))
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return out, nil
}

// redact replaces sensitive values in the decoded JSON value v, in place.
func redact(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			k = noNUL(k)
			if Sensitive(k) {
				out[k] = Redacted
				continue
			}
			out[k] = redact(x)
		}
		return out
	case []any:
		for i, x := range v {
			v[i] = redact(x)
		}
		return v
	case string:
		return noNUL(v)
	}
	return v
}

// Sensitive reports whether the values of key are redacted in audit records.
func Sensitive(key string) bool {
	norm := make([]byte, 0, len(key))
	for i := 0; i < len(key); i++ {
		switch c := key[i]; {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			norm = append(norm, c)
		case c >= 'A' && c <= 'Z':
			norm = append(norm, c+'a'-'A')
		}
	}
	for _, f := range sensitiveFragments {
		if bytes.Contains(norm, []byte(f)) {
			return true
		}
	}
	return false
}

func noNUL(s string) string {
	if strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}
