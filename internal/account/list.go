package account

import (
	"context"
	"time"

	"github.com/quarrydev/quarry/internal/core/paging"
	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/db/sqlc"
)

// Filter narrows a list of accounts; nil fields match every account.
type Filter struct {
	Role     *string `json:"r,omitempty"`
	IsActive *bool   `json:"a,omitempty"`
}

// params are the parameters every list query of accounts takes.
func (f Filter) params(a paging.After, n int32) sqlc.ListUsersByCreatedAtDescParams {
	return sqlc.ListUsersByCreatedAtDescParams{Role: f.Role, IsActive: f.IsActive, AfterCreatedAt: a.At, AfterID: a.ID, PageLimit: n}
}

// Listing declares the list of accounts: its sort keys, the default first.
func Listing() *paging.Resource[Filter, User] {
	type sort = paging.Sort[Filter, User]
	return &paging.Resource[Filter, User]{
		Sorts: []sort{
			{Key: "-created_at", Query: func(ctx context.Context, q db.Querier, f Filter, a paging.After, n int32) ([]User, error) {
				rows, err := q.ListUsersByCreatedAtDesc(ctx, f.params(a, n))
				return convert(rows, func(r sqlc.ListUsersByCreatedAtDescRow) User { return User(r) }), err
			}},
			{Key: "created_at", Query: func(ctx context.Context, q db.Querier, f Filter, a paging.After, n int32) ([]User, error) {
				rows, err := q.ListUsersByCreatedAtAsc(ctx, sqlc.ListUsersByCreatedAtAscParams(f.params(a, n)))
				return convert(rows, func(r sqlc.ListUsersByCreatedAtAscRow) User { return User(r) }), err
			}},
			{Key: "-id", Query: func(ctx context.Context, q db.Querier, f Filter, a paging.After, n int32) ([]User, error) {
				rows, err := q.ListUsersByIDDesc(ctx, sqlc.ListUsersByIDDescParams(f.params(a, n)))
				return convert(rows, func(r sqlc.ListUsersByIDDescRow) User { return User(r) }), err
			}},
			{Key: "id", Query: func(ctx context.Context, q db.Querier, f Filter, a paging.After, n int32) ([]User, error) {
				rows, err := q.ListUsersByIDAsc(ctx, sqlc.ListUsersByIDAscParams(f.params(a, n)))
				return convert(rows, func(r sqlc.ListUsersByIDAscRow) User { return User(r) }), err
			}},
		},
		Position: func(u User) (time.Time, int64) { return u.CreatedAt, u.ID },
		Count: func(ctx context.Context, q db.Querier, f Filter, max int32) (int64, error) {
			return q.CountUsers(ctx, sqlc.CountUsersParams{Role: f.Role, IsActive: f.IsActive, MaxCount: max})
		},
	}
}

// convert maps rows of a list query (its columns are User's) to Users.
func convert[R any](rows []R, user func(R) User) []User {
	out := make([]User, len(rows))
	for i, r := range rows {
		out[i] = user(r)
	}
	return out
}

// List returns a page of accounts of filter f in keyset order, cursors sealed by
// cursors. Errors: those of paging.Resource.List.
func (s *Service) List(ctx context.Context, cursors *db.CursorCodec, req paging.Request, f Filter) (paging.Page[User], error) {
	return s.list.List(ctx, s.store, cursors, req, f)
}
