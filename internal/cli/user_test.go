package cli

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quarrydev/quarry/internal/core/password"
	"github.com/quarrydev/quarry/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// createAdminCmd runs `api user create-admin` against dbURL with stdin piped from
// input, and returns its output.
func createAdminCmd(t *testing.T, dbURL, input string, args ...string) (string, error) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() {
		_, _ = w.WriteString(input)
		w.Close()
	}()
	root := NewRoot()
	var out bytes.Buffer
	root.SetIn(r)
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append([]string{
		"user", "create-admin", "--database-url", dbURL, "--app-env", "test",
		"--set", "PASSWORD_MEMORY_KIB=1024", "--set", "PASSWORD_ITERATIONS=1",
	}, args...))
	err = root.ExecuteContext(context.Background())
	return out.String(), err
}

type userRow struct {
	id                   int64
	email, name, role    string
	hash                 string
	active               bool
	liveTokens, allUsers int
}

func loadUser(t *testing.T, conn *pgx.Conn, email string) userRow {
	t.Helper()
	var u userRow
	ctx := context.Background()
	err := conn.QueryRow(ctx, `SELECT id, email, display_name, role, password_hash, is_active FROM users WHERE lower(email) = lower($1)`, email).
		Scan(&u.id, &u.email, &u.name, &u.role, &u.hash, &u.active)
	if err != nil {
		t.Fatalf("load %s: %v", email, err)
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL`, u.id).Scan(&u.liveTokens); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&u.allUsers); err != nil {
		t.Fatal(err)
	}
	return u
}

func verifies(t *testing.T, plain, hash string) bool {
	t.Helper()
	h := password.NewHasher(password.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}, 1, time.Second)
	ok, _, err := h.Verify(context.Background(), plain, hash)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return ok
}

func TestCreateAdmin(t *testing.T) {
	t.Parallel()
	dbURL := testdb.NewURL(t)
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())

	const first = "a very secret admin password"
	out, err := createAdminCmd(t, dbURL, first+"\r\nthe second line is ignored\n", "--email", "root@example.com", "--name", "Root")
	if err != nil {
		t.Fatalf("create-admin: %v\n%s", err, out)
	}
	u := loadUser(t, conn, "root@example.com")
	if !strings.Contains(out, "Created admin user") || !strings.Contains(out, "root@example.com") {
		t.Errorf("output %q does not say the admin was created", out)
	}
	if u.role != "admin" || !u.active || u.name != "Root" || u.email != "root@example.com" || u.allUsers != 1 {
		t.Errorf("created %+v: want an active admin named Root", u)
	}
	if !strings.HasPrefix(u.hash, "$argon2id$v=19$m=1024,t=1,p=1$") || !verifies(t, first, u.hash) {
		t.Errorf("stored hash %q does not verify the password with the PASSWORD_* settings", u.hash)
	}
	if strings.Contains(out, first) {
		t.Error("the output shows the password")
	}

	// An existing, inactive, signed-in user becomes an active admin with the new
	// password, keeps its name, and is signed out.
	var id int64
	if err := conn.QueryRow(context.Background(),
		`INSERT INTO users (email, display_name, password_hash, role, is_active) VALUES ('Ops@Example.com', 'Ops', 'x', 'user', false) RETURNING id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(context.Background(),
		`INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at) VALUES ($1, gen_random_uuid(), sha256('t'), now() + interval '1 day')`, id); err != nil {
		t.Fatal(err)
	}
	const second = "another long admin password" // no final newline
	out, err = createAdminCmd(t, dbURL, second, "--email", "ops@example.com")
	if err != nil {
		t.Fatalf("create-admin (existing): %v\n%s", err, out)
	}
	ops := loadUser(t, conn, "ops@example.com")
	if ops.id != id || ops.role != "admin" || !ops.active || ops.name != "Ops" || ops.email != "Ops@Example.com" || ops.liveTokens != 0 || ops.allUsers != 2 {
		t.Errorf("promoted %+v: want user %d, an active admin, name and email unchanged, no live tokens", ops, id)
	}
	if !verifies(t, second, ops.hash) {
		t.Error("the promoted user's password was not set")
	}
	if !strings.Contains(out, "existed") || !strings.Contains(out, "1 refresh token(s) revoked") {
		t.Errorf("output %q does not say the user existed and was signed out", out)
	}
	// --name renames an existing user.
	if out, err := createAdminCmd(t, dbURL, second+"\n", "--email", "OPS@example.com", "--name", "Operations"); err != nil {
		t.Fatalf("create-admin --name: %v\n%s", err, out)
	}
	if ops := loadUser(t, conn, "ops@example.com"); ops.name != "Operations" {
		t.Errorf("name %q after --name Operations", ops.name)
	}

	// Each run is in the audit log, with the password hash redacted.
	var actions []string
	rows, err := conn.Query(context.Background(), `SELECT action, coalesce(after::text, '') FROM audit_events ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var action, after string
		if err := rows.Scan(&action, &after); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(after, "argon2") {
			t.Errorf("%s: the audit row holds the password hash: %s", action, after)
		}
		actions = append(actions, action)
	}
	if got := strings.Join(actions, ","); got != "user.create_admin,user.promote_admin,user.promote_admin" {
		t.Errorf("audit actions %q", got)
	}
}

func TestCreateAdminRejectsBadInput(t *testing.T) {
	t.Parallel()
	dbURL := testdb.NewURL(t)
	for _, tc := range []struct {
		name, input, want string
		args              []string
	}{
		{"short password", "elevenchars\n", "12 to 256 characters", []string{"--email", "a@example.com"}},
		{"long password", strings.Repeat("p", 257) + "\n", "12 to 256 characters", []string{"--email", "a@example.com"}},
		{"no password", "", "no password", []string{"--email", "a@example.com"}},
		{"empty first line", "\nsecond line password\n", "no password", []string{"--email", "a@example.com"}},
		{"bad email", "a long enough password\n", "not an email address", []string{"--email", "not-an-email"}},
		{"named email", "a long enough password\n", "not an email address", []string{"--email", "Root <root@example.com>"}},
		{"no email", "a long enough password\n", "email", nil},
		{"long name", "a long enough password\n", "check --email and --name", []string{"--email", "a@example.com", "--name", strings.Repeat("n", 101)}},
	} {
		out, err := createAdminCmd(t, dbURL, tc.input, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q\n%s", tc.name, err, tc.want, out)
		}
	}
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM users").Scan(&n); err != nil || n != 0 {
		t.Errorf("%d users after rejected commands (%v), want none", n, err)
	}
}
