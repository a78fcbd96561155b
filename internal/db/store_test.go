package db_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/db/sqlc"
	"github.com/quarrydev/quarry/internal/testdb"
)

// Every query of the store returns translated errors and is seen by the hooks under
// its name, on the pool and in transactions alike.
func TestStoreTranslatesAndObservesEveryQuery(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		seen []string
	)
	type started struct{}
	hook := db.QueryHook{
		Start: func(ctx context.Context, name string) context.Context {
			return context.WithValue(ctx, started{}, name)
		},
		End: func(ctx context.Context, name string, elapsed time.Duration, err error) {
			mu.Lock()
			defer mu.Unlock()
			outcome := "ok"
			if err != nil {
				outcome = err.Error()
			}
			if ctx.Value(started{}) != name || elapsed <= 0 {
				outcome += " (not the context Start returned, or no duration)"
			}
			seen = append(seen, name+": "+outcome)
		},
	}
	_, pool := testdb.NewStore(t)
	store := db.NewStore(pool, hook)
	ctx := context.Background()

	if _, err := store.GetUser(ctx, 1); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("GetUser of no user: got %v, want db.ErrNotFound", err)
	}
	params := sqlc.CreateUserParams{Email: "a@example.com", DisplayName: "A", PasswordHash: "h", Role: "user", IsActive: true}
	err := store.InTx(ctx, func(q db.Querier) error {
		if _, err := q.CreateUser(ctx, params); err != nil {
			return err
		}
		_, err := q.CreateUser(ctx, params)
		return err
	})
	var dbErr *db.Error
	if !errors.Is(err, db.ErrConflict) || !errors.As(err, &dbErr) || dbErr.Constraint != "users_email_key" {
		t.Fatalf("duplicate email in a transaction: got %v, want db.ErrConflict on users_email_key", err)
	}
	if _, err := store.GetUserByEmail(ctx, "a@example.com"); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("the failed transaction must leave nothing: got %v", err)
	}
	want := []string{
		"GetUser: db: not found",
		"CreateUser: ok",
		`CreateUser: db: conflict (constraint "users_email_key", table "users", SQLSTATE 23505)`,
		"GetUserByEmail: db: not found",
	}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Fatalf("queries the hooks saw (-want +got):\n%s", diff)
	}
}
