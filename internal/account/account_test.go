package account

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/quarrydev/quarry/internal/core/apperr"
	"github.com/quarrydev/quarry/internal/core/password"
	"github.com/quarrydev/quarry/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

func newService(t *testing.T) *Service {
	t.Helper()
	store, _ := testdb.NewStore(t)
	params := password.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}
	return New(store, password.NewHasher(params, 2, time.Second), nil)
}

// hashOf returns the stored password hash of account id.
func hashOf(t *testing.T, s *Service, id int64) string {
	t.Helper()
	u, err := s.store.GetUser(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return u.PasswordHash
}

func TestServiceStoresAVerifiableHash(t *testing.T) {
	t.Parallel()
	s := newService(t)
	ctx := context.Background()
	u, err := s.Create(ctx, CreateInput{Email: "hash@example.com", DisplayName: "Hash", Password: "a long password"})
	if err != nil {
		t.Fatal(err)
	}
	if ok, rehash, err := s.hasher.Verify(ctx, "a long password", hashOf(t, s, u.ID)); !ok || rehash || err != nil {
		t.Errorf("Verify(stored hash) = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
	admin, err := s.Create(ctx, CreateInput{Email: "root@example.com", DisplayName: "Root", Password: "a long password", Role: RoleAdmin})
	if err != nil || admin.Role != RoleAdmin || hashOf(t, s, admin.ID) == hashOf(t, s, u.ID) {
		t.Errorf("Create(admin) = role %q, %v; want admin with its own salt", admin.Role, err)
	}
}

func TestServiceMapsCheckViolationsToFields(t *testing.T) {
	t.Parallel()
	s := newService(t)
	ctx := context.Background()
	for field, in := range map[string]CreateInput{
		"display_name": {Email: "a@example.com", DisplayName: "", Password: "a long password"},
		"role":         {Email: "b@example.com", DisplayName: "B", Password: "a long password", Role: "superuser"},
		"email":        {Email: "c", DisplayName: "C", Password: "a long password"},
	} {
		_, err := s.Create(ctx, in)
		e, ok := apperr.As(err)
		if !ok || e.Kind != apperr.KindInvalid || len(e.Fields) != 1 || e.Fields[0].Field != field {
			t.Errorf("Create(%+v) = %v, want a validation error naming %s", in, err, field)
		}
	}
	in := CreateInput{Email: "d@example.com", DisplayName: "D", Password: "a long password", Role: "superuser"}
	if _, err := s.Create(ctx, in); !errors.Is(err, apperr.ErrValidation) {
		t.Errorf("Create(role superuser) = %v, want a validation error", err)
	}
}

func TestTranslateHashingErrors(t *testing.T) {
	t.Parallel()
	for _, err := range []error{password.ErrBusy, fmt.Errorf("hash: %w", password.ErrBusy)} {
		e, ok := apperr.As(New(nil, nil, nil).translate(err))
		if !ok || e.Kind != apperr.KindUnavailable || !errors.Is(e, password.ErrBusy) {
			t.Errorf("New(nil, nil, nil).translate(%v) = %v, want KindUnavailable wrapping ErrBusy", err, e)
		}
	}
	canceled := fmt.Errorf("password: %w", context.Canceled)
	if got := New(nil, nil, nil).translate(canceled); !errors.Is(got, context.Canceled) {
		t.Errorf("New(nil, nil, nil).translate(%v) = %v, want the context error kept", canceled, got)
	}
}
