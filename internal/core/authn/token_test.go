package authn

import (
	"errors"
	"testing"
	"time"
)

// TestVerifiedTokensStillExpire: a token verified once is remembered, but not beyond
// its expiry.
func TestVerifiedTokensStillExpire(t *testing.T) {
	tokens, err := NewTokens(TokenConfig{
		Signing: Key{ID: "k1", Secret: []byte("0123456789abcdef0123456789abcdef")},
		Issuer:  "quarry", Audience: "quarry-api", TTL: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := tokens.Issue(42, RoleUser, "s1")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		claims, id, err := tokens.Verify(raw)
		if err != nil || id != 42 || claims.Session != "s1" {
			t.Fatalf("Verify = %+v, %d, %v; want user 42 of session s1", claims, id, err)
		}
	}
	if _, _, err := tokens.Verify(raw + "x"); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("a changed signature: %v, want ErrInvalidToken", err)
	}
	// exp has a resolution of a second.
	time.Sleep(2100 * time.Millisecond)
	if _, _, err := tokens.Verify(raw); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("an expired token that was verified before: %v, want ErrInvalidToken", err)
	}
}
