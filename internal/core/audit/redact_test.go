package audit_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/quarrydev/quarry/internal/core/audit"
	"github.com/quarrydev/quarry/internal/db/sqlc"
)

func TestSensitive(t *testing.T) {
	t.Parallel()
	for key, want := range map[string]bool{
		"password": true, "Password": true, "password_hash": true, "PasswordHash": true,
		"new-password": true, "current_password": true, "hash": true, "token": true,
		"refresh_token": true, "access_token": true, "AccessToken": true, "token_hash": true,
		"secret": true, "client_secret": true, "api_key": true, "Authorization": true,
		"cookie": true, "salt": true, "private_key": true,
		"id": false, "email": false, "title": false, "body": false, "status": false,
		"display_name": false, "session": false, "role": false, "author_id": false, "": false,
	} {
		if got := audit.Sensitive(key); got != want {
			t.Errorf("Sensitive(%q) = %v, want %v", key, got, want)
		}
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	type inner struct {
		Token string `json:"refresh_token"`
		Note  string `json:"note"`
	}
	v := map[string]any{
		"id":       int64(9007199254740993), // not exactly representable as a float64
		"email":    "a@example.com",
		"password": "correct horse battery",
		"nested": map[string]any{
			"AccessToken": "eyJhbGciOi",
			"list":        []any{inner{Token: "r1", Note: "kept"}, map[string]any{"secret": 42, "n": nil}},
		},
		"api_key": nil,
		"text":    "a\x00b",
	}
	b, err := audit.Redact(v)
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"correct horse", "eyJhbGciOi", `"r1"`, "42"} {
		if strings.Contains(string(b), leak) {
			t.Errorf("%s leaked: %s", leak, b)
		}
	}
	var got map[string]any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	nested := got["nested"].(map[string]any)
	list := nested["list"].([]any)
	checks := map[string][2]any{
		"id":                 {got["id"], json.Number("9007199254740993")},
		"email":              {got["email"], "a@example.com"},
		"password":           {got["password"], audit.Redacted},
		"api_key (null)":     {got["api_key"], audit.Redacted},
		"nested.AccessToken": {nested["AccessToken"], audit.Redacted},
		"list[0].token":      {list[0].(map[string]any)["refresh_token"], audit.Redacted},
		"list[0].note":       {list[0].(map[string]any)["note"], "kept"},
		"list[1].secret":     {list[1].(map[string]any)["secret"], audit.Redacted},
		"text":               {got["text"], "a\uFFFDb"},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %#v, want %#v", name, c[0], c[1])
		}
	}
	if n, ok := list[1].(map[string]any)["n"]; !ok || n != nil {
		t.Errorf("null values of other keys stay null: %#v", list[1])
	}
}

// The generated rows carry their column names as JSON keys, so a users row is recorded
// with snake_case keys and its password hash redacted.
func TestRedactRow(t *testing.T) {
	t.Parallel()
	u := sqlc.User{ID: 7, Email: "u@example.com", DisplayName: "U", PasswordHash: "$argon2id$v=19$m=1024,t=1,p=1$c2FsdA$aGFzaA",
		Role: "user", IsActive: true, CreatedAt: time.Unix(0, 0).UTC(), UpdatedAt: time.Unix(0, 0).UTC()}
	b, err := audit.Redact(u)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"created_at":"1970-01-01T00:00:00Z","display_name":"U","email":"u@example.com","id":7,"is_active":true,` +
		`"password_hash":"[redacted]","role":"user","updated_at":"1970-01-01T00:00:00Z"}`
	if string(b) != want {
		t.Fatalf("Redact(user row) =\n%s\nwant\n%s", b, want)
	}
}

func TestRedactRejectsWhatJSONCannotCarry(t *testing.T) {
	t.Parallel()
	for name, v := range map[string]any{"channel": make(chan int), "NaN": math.NaN(), "func": func() {}} {
		if _, err := audit.Redact(v); err == nil {
			t.Errorf("Redact(%s) succeeded", name)
		}
	}
}
