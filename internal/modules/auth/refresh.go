package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"

	"github.com/google/uuid"
)

// refreshTokenLen is the number of random bytes in a refresh token.
const refreshTokenLen = 32

// refreshEncoding encodes refresh tokens: base64url without padding, strict so that
// each token has exactly one spelling.
var refreshEncoding = base64.RawURLEncoding.Strict()

// newRefreshToken returns a fresh refresh token for the client and the SHA-256 hash
// stored in its place. Errors: the random source's.
func newRefreshToken() (token string, hash []byte, err error) {
	var raw [refreshTokenLen]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", nil, fmt.Errorf("refresh token: %w", err)
	}
	sum := sha256.Sum256(raw[:])
	return refreshEncoding.EncodeToString(raw[:]), sum[:], nil
}

// successorToken returns the refresh token that replaces the one whose bytes are
// used, and its stored hash: an HMAC of used under key, so that whoever presents used
// again within the reuse grace gets the same successor, and nobody without key can
// compute it from a stolen used token.
func successorToken(key, used []byte) (token string, hash []byte) {
	mac := hmac.New(sha256.New, key)
	mac.Write(used)
	raw := mac.Sum(nil)[:refreshTokenLen]
	sum := sha256.Sum256(raw)
	return refreshEncoding.EncodeToString(raw), sum[:]
}

// decodeRefreshToken returns the bytes of token, and false when token cannot be one
// of ours (wrong encoding or length), so it need not be looked up.
func decodeRefreshToken(token string) ([]byte, bool) {
	if refreshEncoding.EncodedLen(refreshTokenLen) != len(token) {
		return nil, false
	}
	raw, err := refreshEncoding.DecodeString(token)
	if err != nil || len(raw) != refreshTokenLen {
		return nil, false
	}
	return raw, true
}

// hashRefreshToken returns the stored hash of token, and false when token cannot be
// one of ours.
func hashRefreshToken(token string) ([]byte, bool) {
	raw, ok := decodeRefreshToken(token)
	if !ok {
		return nil, false
	}
	sum := sha256.Sum256(raw)
	return sum[:], true
}

// newFamily returns a random (version 4) UUID naming a new refresh token family.
// Errors: the random source's.
func newFamily() (uuid.UUID, error) {
	u, err := uuid.NewRandom()
	if err != nil {
		return u, fmt.Errorf("session id: %w", err)
	}
	return u, nil
}

// parseFamily returns the family named by session (an access token's session id);
// an empty or malformed session gives an invalid (NULL) one.
func parseFamily(session string) uuid.NullUUID {
	u, err := uuid.Parse(session)
	if session == "" || err != nil {
		return uuid.NullUUID{}
	}
	return uuid.NullUUID{UUID: u, Valid: true}
}
