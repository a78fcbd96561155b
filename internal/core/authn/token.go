// Package authn is the authentication core every module shares: access tokens (JWT),
// the authenticated principal carried in the request context, and the chained route
// dependencies built on it (RequireAuth, RequireRole, Load, Require).
package authn

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TokenTypeAccess is the value of the "typ" claim of access tokens; a token of any
// other type (e.g. a refresh token) is never accepted as an access token.
const TokenTypeAccess = "access"

// minSecretLen is the shortest HMAC key accepted (HS256 wants 256 bits).
const minSecretLen = 32

// Key is an HMAC key with its id (the JWT "kid" header), so keys can rotate: new
// tokens are signed with the current key, and tokens signed with any listed
// verification key stay valid until they expire.
type Key struct {
	ID     string
	Secret []byte
}

// TokenConfig configures access tokens.
type TokenConfig struct {
	// Signing signs new tokens.
	Signing Key
	// Verify lists extra keys accepted for verification (previous keys during rotation).
	Verify   []Key
	Issuer   string
	Audience string
	// TTL is the lifetime of access tokens (e.g. 15 minutes).
	TTL time.Duration
	// Leeway tolerates clock skew when checking exp, nbf and iat (keep it small).
	Leeway time.Duration
}

// Claims are the claims of an access token.
type Claims struct {
	jwt.RegisteredClaims
	// Type is TokenTypeAccess.
	Type string `json:"typ"`
	// Role is the user's role when the token was issued (informational: RequireAuth
	// reads the current role from the database).
	Role string `json:"role,omitempty"`
	// Session is the refresh token family the token was issued from.
	Session string `json:"sid,omitempty"`
}

// Tokens issues and verifies access tokens.
type Tokens struct {
	cfg    TokenConfig
	keys   map[string][]byte
	parser *jwt.Parser
}

// ErrInvalidToken is returned for any token that must not be accepted; the reason is
// wrapped for logs, never shown to clients.
var ErrInvalidToken = errors.New("auth: invalid token")

// NewTokens returns Tokens for cfg. It fails when a key is shorter than 32 bytes or
// lacks an id, or when issuer, audience or TTL are missing.
func NewTokens(cfg TokenConfig) (*Tokens, error) {
	keys := map[string][]byte{}
	for _, k := range append([]Key{cfg.Signing}, cfg.Verify...) {
		if k.ID == "" {
			return nil, errors.New("auth: every key needs an id")
		}
		if len(k.Secret) < minSecretLen {
			return nil, fmt.Errorf("auth: key %q is shorter than %d bytes", k.ID, minSecretLen)
		}
		if _, dup := keys[k.ID]; dup {
			return nil, fmt.Errorf("auth: key id %q listed twice", k.ID)
		}
		keys[k.ID] = k.Secret
	}
	if cfg.Issuer == "" || cfg.Audience == "" || cfg.TTL <= 0 {
		return nil, errors.New("auth: issuer, audience and a positive TTL are required")
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience),
		jwt.WithLeeway(cfg.Leeway),
	)
	return &Tokens{cfg: cfg, keys: keys, parser: parser}, nil
}

// DeriveKey returns a 32-byte key for purpose derived from the signing key
// (HMAC-SHA256), for secrets that every instance sharing JWT_SECRET must agree on.
// It changes when the signing key does.
func (t *Tokens) DeriveKey(purpose string) []byte {
	mac := hmac.New(sha256.New, t.cfg.Signing.Secret)
	mac.Write([]byte("quarry derived key: " + purpose))
	return mac.Sum(nil)
}

// TTL returns the lifetime of access tokens.
func (t *Tokens) TTL() time.Duration { return t.cfg.TTL }

// Issue returns a signed access token for user id with role, tied to refresh token
// family session.
func (t *Tokens) Issue(userID int64, role, session string) (string, error) {
	now := time.Now()
	jti, err := randomID()
	if err != nil {
		return "", err
	}
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.cfg.Issuer,
			Subject:   strconv.FormatInt(userID, 10),
			Audience:  jwt.ClaimStrings{t.cfg.Audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(t.cfg.TTL)),
			ID:        jti,
		},
		Type:    TokenTypeAccess,
		Role:    role,
		Session: session,
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	tok.Header["kid"] = t.cfg.Signing.ID
	s, err := tok.SignedString(t.cfg.Signing.Secret)
	if err != nil {
		return "", fmt.Errorf("sign access token: %w", err)
	}
	return s, nil
}

// Verify checks an access token: algorithm HS256 only, a known kid, a valid signature,
// exp present and not passed, iat, nbf, iss and aud as configured, and typ "access".
// It returns the claims and the user id, or an error wrapping ErrInvalidToken.
func (t *Tokens) Verify(raw string) (*Claims, int64, error) {
	var claims Claims
	_, err := t.parser.ParseWithClaims(raw, &claims, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		key, ok := t.keys[kid]
		if !ok {
			return nil, fmt.Errorf("unknown key id %q", kid)
		}
		return key, nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if claims.Type != TokenTypeAccess {
		return nil, 0, fmt.Errorf("%w: token type %q is not an access token", ErrInvalidToken, claims.Type)
	}
	id, err := strconv.ParseInt(claims.Subject, 10, 64)
	if err != nil || id <= 0 {
		return nil, 0, fmt.Errorf("%w: bad subject", ErrInvalidToken)
	}
	return &claims, id, nil
}

func randomID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("token id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
