package account

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/db/sqlc"
)

// update changes account id as the users module's update does: LockAdmins, the
// change, then KeepAdmin, in one transaction.
func update(ctx context.Context, s *Service, id int64, p sqlc.UpdateUserParams) error {
	return s.store.InTx(ctx, func(q db.Querier) error {
		if err := LockAdmins(ctx, q); err != nil {
			return err
		}
		before, err := q.GetUserForUpdate(ctx, id)
		if err != nil {
			return err
		}
		p.ID = id
		after, err := q.UpdateUser(ctx, p)
		if err != nil {
			return err
		}
		return KeepAdmin(ctx, q, before, after)
	})
}

func TestLastActiveAdminStays(t *testing.T) {
	t.Parallel()
	s := newService(t)
	ctx := context.Background()
	create := func(email, role string) int64 {
		u, err := s.Create(ctx, CreateInput{Email: email, DisplayName: "X", Password: "a long password", Role: role})
		if err != nil {
			t.Fatal(err)
		}
		return u.ID
	}
	a, b := create("a@example.com", RoleAdmin), create("b@example.com", RoleAdmin)
	plain := create("c@example.com", RoleUser)
	user, inactive := RoleUser, false

	// Two admins deactivating each other at once: one of them stays.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, id := range []int64{a, b} {
		wg.Go(func() { _, errs[i] = s.Deactivate(ctx, id) })
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("deactivating both admins at once: %v, %v; want exactly one refused", errs[0], errs[1])
	}
	last := a
	if errs[0] != nil {
		if !errors.Is(errs[0], ErrLastAdmin) {
			t.Fatalf("refusal %v, want ErrLastAdmin", errs[0])
		}
	} else {
		last = b
		if !errors.Is(errs[1], ErrLastAdmin) {
			t.Fatalf("refusal %v, want ErrLastAdmin", errs[1])
		}
	}
	// The last admin can be neither demoted nor deactivated, by any route.
	for name, err := range map[string]error{
		"deactivate": func() error { _, err := s.Deactivate(ctx, last); return err }(),
		"demote":     update(ctx, s, last, sqlc.UpdateUserParams{Role: &user}),
		"is_active":  update(ctx, s, last, sqlc.UpdateUserParams{IsActive: &inactive}),
	} {
		if !errors.Is(err, ErrLastAdmin) {
			t.Errorf("%s the last admin: %v, want ErrLastAdmin", name, err)
		}
	}
	if u, err := s.Get(ctx, last); err != nil || u.Role != RoleAdmin || !u.IsActive {
		t.Fatalf("last admin now %+v, %v", u, err)
	}
	// Once there is another admin, it can go; and plain users always can.
	promoted := RoleAdmin
	if err := update(ctx, s, plain, sqlc.UpdateUserParams{Role: &promoted}); err != nil {
		t.Fatal(err)
	}
	if err := update(ctx, s, last, sqlc.UpdateUserParams{Role: &user}); err != nil {
		t.Errorf("demoting an admin while another is active: %v", err)
	}
}
