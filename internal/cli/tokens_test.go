package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/quarrydev/quarry/internal/testdb"
)

func TestTokensPrune(t *testing.T) {
	t.Parallel()
	dbURL := testdb.NewURL(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `
		INSERT INTO users (email, display_name, password_hash) VALUES ('t@example.com', 'T', 'x');
		INSERT INTO refresh_tokens (user_id, family_id, token_hash, created_at, expires_at) VALUES
			(1, gen_random_uuid(), sha256('old'), now() - interval '40 days', now() - interval '10 days'),
			(1, gen_random_uuid(), sha256('recent'), now() - interval '31 days', now() - interval '1 hour'),
			(1, gen_random_uuid(), sha256('live'), now(), now() + interval '30 days');`); err != nil {
		t.Fatal(err)
	}
	root := NewRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"tokens", "prune", "--database-url", dbURL})
	if err := root.ExecuteContext(ctx); err != nil {
		t.Fatalf("tokens prune: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "Deleted 1 expired") {
		t.Fatalf("output %q: want one token deleted (the one past the grace period)", out.String())
	}
	var left int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM refresh_tokens`).Scan(&left); err != nil || left != 2 {
		t.Fatalf("tokens left: %d %v", left, err)
	}
}
