package password

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/quarrydev/quarry/internal/core/password/argon2"
)

// ErrMalformedHash means an encoded hash is not an argon2id PHC string this package
// can verify: wrong algorithm or version, unreadable or out-of-bounds parameters, or
// bad base64.
var ErrMalformedHash = errors.New("password: malformed hash")

// b64 is the PHC string's base64: standard alphabet, no padding, canonical only.
var b64 = base64.RawStdEncoding.Strict()

// decoded is a parsed PHC string.
type decoded struct {
	params Params
	salt   []byte
	key    []byte
}

// encode returns the PHC string of a hash:
// $argon2id$v=19$m=<memory>,t=<iterations>,p=<parallelism>$<salt>$<key>.
func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Iterations, p.Parallelism,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decode parses a PHC string written by encode (or by any argon2id implementation
// using the same format). Errors wrap ErrMalformedHash; they never contain the input.
func decode(s string) (decoded, error) {
	var d decoded
	if len(s) > maxEncodedLen {
		return d, fmt.Errorf("%w: longer than %d characters", ErrMalformedHash, maxEncodedLen)
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return d, fmt.Errorf("%w: want $argon2id$v=..$m=..,t=..,p=..$salt$hash", ErrMalformedHash)
	}
	if parts[1] != "argon2id" {
		return d, fmt.Errorf("%w: algorithm is not argon2id", ErrMalformedHash)
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return d, fmt.Errorf("%w: unsupported version", ErrMalformedHash)
	}
	var err error
	if d.params, err = decodeParams(parts[3]); err != nil {
		return d, err
	}
	if d.salt, err = b64.DecodeString(parts[4]); err != nil {
		return d, fmt.Errorf("%w: salt is not base64", ErrMalformedHash)
	}
	if d.key, err = b64.DecodeString(parts[5]); err != nil {
		return d, fmt.Errorf("%w: hash is not base64", ErrMalformedHash)
	}
	d.params.SaltLen, d.params.KeyLen = uint32(len(d.salt)), uint32(len(d.key))
	if err := d.params.Validate(); err != nil {
		return d, fmt.Errorf("%w: %w", ErrMalformedHash, err)
	}
	return d, nil
}

// decodeParams parses "m=<memory>,t=<iterations>,p=<parallelism>" in that order.
func decodeParams(s string) (Params, error) {
	var p Params
	fields := strings.Split(s, ",")
	if len(fields) != 3 {
		return p, fmt.Errorf("%w: want m=..,t=..,p=..", ErrMalformedHash)
	}
	vals := make([]uint64, 3)
	for i, name := range []string{"m", "t", "p"} {
		k, v, ok := strings.Cut(fields[i], "=")
		if !ok || k != name {
			return p, fmt.Errorf("%w: want m=..,t=..,p=..", ErrMalformedHash)
		}
		bits := 32
		if name == "p" {
			bits = 8
		}
		n, err := strconv.ParseUint(v, 10, bits)
		if err != nil {
			return p, fmt.Errorf("%w: parameter %s is not a number in range", ErrMalformedHash, name)
		}
		vals[i] = n
	}
	p.Memory, p.Iterations, p.Parallelism = uint32(vals[0]), uint32(vals[1]), uint8(vals[2])
	return p, nil
}
