package users_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/quarrydev/quarry/internal/app/apptest"
	"github.com/quarrydev/quarry/internal/db/sqlc"
	"github.com/quarrydev/quarry/internal/modules/users"
)

// auditRow is a user as an audit event records it: the row, hash redacted.
type auditRow struct {
	users.User
	PasswordHash string `json:"password_hash"`
}

// userEvents returns the audit events of user id, newest first.
func (c *client) userEvents(id int64) []sqlc.AuditEvent {
	c.t.Helper()
	userType, rid := "user", fmt.Sprint(id)
	rows, err := sqlc.New(c.srv.App.Pool()).ListAuditEvents(context.Background(), sqlc.ListAuditEventsParams{
		ResourceType: &userType, ResourceID: &rid, PageLimit: 100,
	})
	if err != nil {
		c.t.Fatal(err)
	}
	return rows
}

func (c *client) decode(raw []byte) *auditRow {
	c.t.Helper()
	if raw == nil {
		return nil
	}
	var r auditRow
	if err := json.Unmarshal(raw, &r); err != nil {
		c.t.Fatalf("audit state %s: %v", raw, err)
	}
	if r.PasswordHash != "[redacted]" {
		c.t.Fatalf("the password hash must be redacted: %s", raw)
	}
	return &r
}

// expectEvent checks the newest event of user id and returns its before and after.
func (c *client) expectEvent(id int64, n int, action string, actor int64) (before, after *auditRow) {
	c.t.Helper()
	events := c.userEvents(id)
	if len(events) != n {
		c.t.Fatalf("user %d: %d events, want %d", id, len(events), n)
	}
	e := events[0]
	if e.Action != action || e.Outcome != "success" || e.ActorID == nil || *e.ActorID != actor || e.RequestID == nil {
		c.t.Fatalf("user %d: newest event %s %s by %v (request %v), want %s by %d", id, e.Action, e.Outcome, e.ActorID, e.RequestID, action, actor)
	}
	return c.decode(e.Before), c.decode(e.After)
}

func TestWritesAreAudited(t *testing.T) {
	t.Parallel()
	c := newClient(t) // the audit module is not enabled: writes are audited all the same
	root := c.root.ID

	u := c.create("audited@example.com", "Audited")
	before, after := c.expectEvent(u.ID, 1, "user.create", root)
	if before != nil || after.User != u {
		t.Fatalf("user.create: before %+v, after %+v; want nil and %+v", before, after, u)
	}

	// A user renames themselves: they are the actor.
	self := c.srv.Bearer(t, u.ID)
	renamed := apptest.Expect[users.User](t, c.srv.Do(http.MethodPatch, fmt.Sprintf("%s/%d", base, u.ID), map[string]any{"display_name": "Renamed"}, self...), http.StatusOK).Data
	before, after = c.expectEvent(u.ID, 2, "user.update", u.ID)
	if before.User != u || after.User != renamed {
		t.Fatalf("user.update: before %+v, after %+v", before, after)
	}
	// An update that changes nothing records nothing.
	c.patch(u.ID, map[string]any{})

	admin := c.patch(u.ID, map[string]any{"role": "admin"})
	before, after = c.expectEvent(u.ID, 3, "user.update", root)
	if before.Role != "user" || after.User != admin {
		t.Fatalf("role change: before %+v, after %+v", before, after)
	}

	path := fmt.Sprintf("%s/%d/deactivate", base, u.ID)
	inactive := apptest.Expect[users.User](t, c.do(http.MethodPost, path, nil), http.StatusOK).Data
	before, after = c.expectEvent(u.ID, 4, "user.deactivate", root)
	if before.User != admin || after.User != inactive || after.IsActive {
		t.Fatalf("user.deactivate: before %+v, after %+v", before, after)
	}
	// Deactivating an inactive user changes nothing and records nothing.
	apptest.Expect[users.User](t, c.do(http.MethodPost, path, nil), http.StatusOK)
	c.expectEvent(u.ID, 4, "user.deactivate", root)

	// Refused changes record nothing either.
	apptest.ExpectError(t, c.do(http.MethodPost, base, map[string]any{"email": "AUDITED@example.com", "display_name": "Dup", "password": "correct horse battery"}), http.StatusConflict, "email_taken")
	var n int64
	if err := c.srv.App.Pool().QueryRow(context.Background(), "SELECT count(*) FROM audit_events").Scan(&n); err != nil || n != 4 {
		t.Fatalf("audit events in all: %d %v, want 4", n, err)
	}
	// No hash ever reaches the log.
	var leaks int64
	if err := c.srv.App.Pool().QueryRow(context.Background(),
		`SELECT count(*) FROM audit_events WHERE concat(before::text, after::text) LIKE '%argon2%'`).Scan(&leaks); err != nil || leaks != 0 {
		t.Fatalf("audit events holding a hash: %d %v", leaks, err)
	}
	if strings.Contains(fmt.Sprint(c.userEvents(u.ID)), "correct horse") {
		t.Fatal("a password reached the audit log")
	}
}
