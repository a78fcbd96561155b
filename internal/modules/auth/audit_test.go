package auth_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/quarrydev/quarry/internal/app/apptest"
	"github.com/quarrydev/quarry/internal/core/module"
	"github.com/quarrydev/quarry/internal/db/sqlc"
	"github.com/quarrydev/quarry/internal/modules/auth"
)

// events returns every audit event, oldest first.
func (c *client) events() []sqlc.AuditEvent {
	c.t.Helper()
	rows, err := sqlc.New(c.srv.App.Pool()).ListAuditEvents(context.Background(), sqlc.ListAuditEventsParams{PageLimit: 1000})
	if err != nil {
		c.t.Fatal(err)
	}
	for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
		rows[i], rows[j] = rows[j], rows[i]
	}
	return rows
}

// want describes an expected audit event; a zero actor or resource means NULL.
type want struct {
	action, outcome string
	actor, resource int64
	// after holds keys the after object must have, with their values.
	after map[string]any
	// before tells whether the event has a before object.
	before bool
}

func (c *client) expectEvents(got []sqlc.AuditEvent, wants ...want) {
	c.t.Helper()
	if len(got) != len(wants) {
		var names []string
		for _, e := range got {
			names = append(names, e.Action+"/"+e.Outcome)
		}
		c.t.Fatalf("%d events %v, want %d", len(got), names, len(wants))
	}
	for i, w := range wants {
		e := got[i]
		ptr := func(p *int64) int64 {
			if p == nil {
				return 0
			}
			return *p
		}
		resource := int64(0)
		if e.ResourceID != nil {
			fmt.Sscan(*e.ResourceID, &resource)
		}
		if e.Action != w.action || e.Outcome != w.outcome || ptr(e.ActorID) != w.actor ||
			e.ResourceType != "user" || resource != w.resource || (e.Before != nil) != w.before {
			c.t.Errorf("event %d: %s %s actor %d resource %s/%d before %s; want %s %s actor %d resource user/%d before %v",
				i, e.Action, e.Outcome, ptr(e.ActorID), e.ResourceType, resource, e.Before, w.action, w.outcome, w.actor, w.resource, w.before)
			continue
		}
		var after map[string]any
		if err := json.Unmarshal(e.After, &after); err != nil {
			c.t.Fatalf("event %d: after %s: %v", i, e.After, err)
		}
		for k, v := range w.after {
			if fmt.Sprint(after[k]) != fmt.Sprint(v) {
				c.t.Errorf("event %d (%s): after.%s = %v, want %v (%s)", i, e.Action, k, after[k], v, e.After)
			}
		}
	}
}

func TestAuthEventsAreAudited(t *testing.T) {
	t.Parallel()
	c := newClient(t, "AUTH_REFRESH_REUSE_GRACE", "0s") // an immediate reuse revokes
	const newPassword = "a brand new passphrase"

	u := c.register("audit@example.com", "Audit")
	apptest.ExpectError(t, c.login("audit@example.com", "not the password"), http.StatusUnauthorized, "invalid_credentials")
	apptest.ExpectError(t, c.login("nobody@example.com", pw), http.StatusUnauthorized, "invalid_credentials")
	s := c.session("audit@example.com")
	session := sessionOf(t, s.AccessToken)
	s2 := apptest.Expect[auth.Tokens](t, c.refresh(s.RefreshToken), http.StatusOK).Data
	bearer := []string{"Authorization", "Bearer " + s2.AccessToken}
	apptest.ExpectError(t, c.post("/password", map[string]any{"current_password": "wrong one", "new_password": newPassword}, bearer...),
		http.StatusForbidden, "invalid_credentials")
	apptest.Expect[struct{}](t, c.post("/password", map[string]any{"current_password": pw, "new_password": newPassword}, bearer...), http.StatusNoContent)
	// The old password no longer signs in; the new one does. The new session's used
	// token is presented again: the session is revoked.
	apptest.ExpectError(t, c.login("audit@example.com", pw), http.StatusUnauthorized, "invalid_credentials")
	s3 := apptest.Expect[auth.Tokens](t, c.login("audit@example.com", newPassword), http.StatusOK).Data
	session3 := sessionOf(t, s3.AccessToken)
	apptest.Expect[auth.Tokens](t, c.refresh(s3.RefreshToken), http.StatusOK)
	apptest.ExpectError(t, c.refresh(s3.RefreshToken), http.StatusUnauthorized, "invalid_refresh_token")
	// Sign-out; then again, which changes nothing and records nothing; then the token
	// is refused as revoked.
	apptest.Expect[struct{}](t, c.post("/logout", map[string]any{"refresh_token": s2.RefreshToken}), http.StatusNoContent)
	apptest.Expect[struct{}](t, c.post("/logout", map[string]any{"refresh_token": s2.RefreshToken}), http.StatusNoContent)
	apptest.ExpectError(t, c.refresh(s2.RefreshToken), http.StatusUnauthorized, "invalid_refresh_token")
	// Unknown tokens record nothing.
	garbage := base64.RawURLEncoding.EncodeToString(make([]byte, 32))
	apptest.ExpectError(t, c.refresh(garbage), http.StatusUnauthorized, "invalid_refresh_token")
	apptest.Expect[struct{}](t, c.post("/logout", map[string]any{"refresh_token": garbage}), http.StatusNoContent)

	id := u.ID
	c.expectEvents(c.events(),
		want{action: "auth.register", outcome: "success", resource: id, after: map[string]any{"email": "audit@example.com", "password_hash": "[redacted]"}},
		want{action: "auth.login", outcome: "failure", resource: id, after: map[string]any{"email": "audit@example.com", "reason": "wrong_password"}},
		want{action: "auth.login", outcome: "failure", after: map[string]any{"email": "nobody@example.com", "reason": "unknown_account"}},
		want{action: "auth.login", outcome: "success", actor: id, resource: id, after: map[string]any{"session": session}},
		want{action: "auth.refresh", outcome: "success", actor: id, resource: id, after: map[string]any{"session": session}},
		want{action: "auth.password_change", outcome: "failure", actor: id, resource: id, after: map[string]any{"reason": "wrong_password"}},
		want{action: "auth.password_change", outcome: "success", actor: id, resource: id, before: true, after: map[string]any{"password_hash": "[redacted]"}},
		want{action: "auth.login", outcome: "failure", resource: id, after: map[string]any{"reason": "wrong_password"}},
		want{action: "auth.login", outcome: "success", actor: id, resource: id, after: map[string]any{"session": session3}},
		want{action: "auth.refresh", outcome: "success", actor: id, resource: id, after: map[string]any{"session": session3}},
		want{action: "auth.refresh", outcome: "failure", resource: id, after: map[string]any{"session": session3, "reason": "reused", "revoked": 2}},
		want{action: "auth.logout", outcome: "success", actor: id, resource: id, after: map[string]any{"session": session, "revoked": 2}},
		want{action: "auth.refresh", outcome: "failure", resource: id, after: map[string]any{"session": session, "reason": "revoked"}},
	)

	// No password, hash or token, in any form, anywhere in the log.
	secrets := []string{pw, newPassword, "not the password", "wrong one", "argon2", s.AccessToken, s.RefreshToken,
		s2.AccessToken, s2.RefreshToken, s3.AccessToken, s3.RefreshToken}
	var hashes []string
	if err := c.srv.App.Pool().QueryRow(context.Background(),
		`SELECT array_agg(encode(token_hash, 'base64')) || array_agg(encode(token_hash, 'hex')) FROM refresh_tokens`).Scan(&hashes); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{s.RefreshToken, s2.RefreshToken, s3.RefreshToken} {
		raw, _ := base64.RawURLEncoding.DecodeString(tok)
		sum := sha256.Sum256(raw)
		hashes = append(hashes, hex.EncodeToString(sum[:]), base64.StdEncoding.EncodeToString(sum[:]))
	}
	secrets = append(secrets, hashes...)
	rows, err := c.srv.App.Pool().Query(context.Background(), `SELECT audit_events::text FROM audit_events`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	scanned := 0
	for rows.Next() {
		var row string
		if err := rows.Scan(&row); err != nil {
			t.Fatal(err)
		}
		scanned++
		for _, s := range secrets {
			if strings.Contains(row, s) {
				t.Errorf("audit row holds a secret (%.12s…): %s", s, row)
			}
		}
	}
	if err := rows.Err(); err != nil || scanned != 13 {
		t.Fatalf("scanned %d rows (%v), want 13", scanned, err)
	}
}

// Replacing an outdated hash at sign-in is a change too.
func TestRehashIsAudited(t *testing.T) {
	t.Parallel()
	old := newClient(t)
	u := old.register("rehash@example.com", "Rehash")
	mod := auth.New()
	srv := apptest.New(t, apptest.Options{DatabaseURL: old.srv.DatabaseURL, Modules: []module.Module{mod}, Env: map[string]string{
		"PASSWORD_MEMORY_KIB": "2048", "PASSWORD_ITERATIONS": "1",
	}})
	strong := &client{t: t, srv: srv, mod: mod}
	strong.session("rehash@example.com")
	events := strong.events()
	strong.expectEvents(events[1:2], want{action: "auth.password_rehash", outcome: "success", actor: u.ID, resource: u.ID, before: true,
		after: map[string]any{"password_hash": "[redacted]", "email": "rehash@example.com"}})
	if strings.Contains(string(events[1].Before)+string(events[1].After), "argon2") {
		t.Fatalf("a hash reached the log: %s %s", events[1].Before, events[1].After)
	}
}
