package auth_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/quarrydev/quarry/internal/app/apptest"
	"github.com/quarrydev/quarry/internal/modules/auth"
)

// TestForgedAccessTokens presents hand-made access tokens to GET /me: only one
// signed with the configured key, kid, issuer and audience, with an expiry, of type
// access, is accepted.
func TestForgedAccessTokens(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	u := c.register("forge@example.com", "Forge")
	cfg := c.srv.Config
	secret := []byte(cfg.JWTSecret)
	now := time.Now()

	// claims returns valid claims for u; change edits them.
	claims := func(change func(jwt.MapClaims)) jwt.MapClaims {
		m := jwt.MapClaims{
			"iss":  cfg.JWTIssuer,
			"sub":  strconv.FormatInt(u.ID, 10),
			"aud":  []string{cfg.JWTAudience},
			"iat":  now.Unix(),
			"nbf":  now.Unix(),
			"exp":  now.Add(10 * time.Minute).Unix(),
			"jti":  "forged",
			"typ":  "access",
			"role": "admin",
		}
		if change != nil {
			change(m)
		}
		return m
	}
	sign := func(method jwt.SigningMethod, kid string, key any, m jwt.MapClaims) string {
		t.Helper()
		tok := jwt.NewWithClaims(method, m)
		if kid != "" {
			tok.Header["kid"] = kid
		}
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	hs := func(m jwt.MapClaims) string { return sign(jwt.SigningMethodHS256, cfg.JWTKeyID, secret, m) }

	// The control: a token made exactly like the server makes them is accepted, so
	// each rejection below is due to the one thing changed.
	if got := apptest.Expect[auth.User](t, c.me(hs(claims(nil))), http.StatusOK).Data; got.ID != u.ID {
		t.Fatalf("control token: user %d, want %d", got.ID, u.ID)
	}

	other := []byte("another secret that is at least 32 bytes long")
	leeway := cfg.JWTLeeway
	for name, token := range map[string]string{
		"alg none":         sign(jwt.SigningMethodNone, cfg.JWTKeyID, jwt.UnsafeAllowNoneSignatureType, claims(nil)),
		"alg none, no kid": sign(jwt.SigningMethodNone, "", jwt.UnsafeAllowNoneSignatureType, claims(nil)),
		"wrong signature":  sign(jwt.SigningMethodHS256, cfg.JWTKeyID, other, claims(nil)),
		"HS512 right key":  sign(jwt.SigningMethodHS512, cfg.JWTKeyID, secret, claims(nil)),
		"unknown kid":      sign(jwt.SigningMethodHS256, "k-unknown", secret, claims(nil)),
		"no kid":           sign(jwt.SigningMethodHS256, "", secret, claims(nil)),
		"expired":          hs(claims(func(m jwt.MapClaims) { m["exp"] = now.Add(-leeway - time.Minute).Unix() })),
		"no exp":           hs(claims(func(m jwt.MapClaims) { delete(m, "exp") })),
		"wrong iss":        hs(claims(func(m jwt.MapClaims) { m["iss"] = "someone-else" })),
		"no iss":           hs(claims(func(m jwt.MapClaims) { delete(m, "iss") })),
		"wrong aud":        hs(claims(func(m jwt.MapClaims) { m["aud"] = []string{"another-api"} })),
		"no aud":           hs(claims(func(m jwt.MapClaims) { delete(m, "aud") })),
		"not yet valid":    hs(claims(func(m jwt.MapClaims) { m["nbf"] = now.Add(leeway + time.Hour).Unix() })),
		"issued in future": hs(claims(func(m jwt.MapClaims) { m["iat"] = now.Add(leeway + time.Hour).Unix() })),
		"refresh type":     hs(claims(func(m jwt.MapClaims) { m["typ"] = "refresh" })),
		"no type":          hs(claims(func(m jwt.MapClaims) { delete(m, "typ") })),
		"unknown user":     hs(claims(func(m jwt.MapClaims) { m["sub"] = strconv.FormatInt(u.ID+1000, 10) })),
		"bad subject":      hs(claims(func(m jwt.MapClaims) { m["sub"] = "me" })),
		"tampered payload": tamper(hs(claims(nil))),
		"garbage":          "not.a.jwt",
		"empty":            "",
	} {
		r := c.me(token)
		if r.Status != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401\n%s", name, r.Status, r.Body)
			continue
		}
		apptest.ExpectError(t, r, http.StatusUnauthorized, "unauthenticated")
	}
}

// tamper flips one character in the payload of a JWT, keeping its signature.
func tamper(token string) string {
	b := []byte(token)
	for i := len(b) / 2; i < len(b); i++ {
		if b[i] != '.' {
			if b[i] == 'A' {
				b[i] = 'B'
			} else {
				b[i] = 'A'
			}
			break
		}
	}
	return string(b)
}
