package account

import (
	"context"
	"strconv"
	"time"

	"github.com/quarrydev/quarry/internal/core/apperr"
	"github.com/quarrydev/quarry/internal/core/paging"
	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/db/sqlc"
)

// ListInput selects a page of accounts.
type ListInput struct {
	// Limit is the page size asked for; 0 means Default, more than Max is refused.
	Limit, Default, Max int
	Cursor              string // from the previous page
	Role                *string
	IsActive            *bool
	Sort                string // created_at, -created_at, id or -id; "" means -created_at
	Total               bool   // also count all matches
}

// Page is one page of accounts.
type Page struct {
	Users []User
	// Next is the cursor of the next page; "" on the last page.
	Next string
	// Total is set when asked for.
	Total *int64
}

// List returns a page of accounts in keyset order, cursors sealed by cursors.
// Errors: a validation error naming limit when it exceeds Max, or sort when it is not
// whitelisted; apperr.ErrBadCursor for a tampered cursor or one issued for another
// sort or filters.
func (s *Service) List(ctx context.Context, cursors *db.CursorCodec, in ListInput) (Page, error) {
	sort := in.Sort
	if sort == "" {
		sort = "-created_at"
	}
	req := paging.Request{
		Limit: in.Limit, Default: in.Default, Max: in.Max,
		Cursor: in.Cursor, Sort: sort, Filter: fingerprint(in.Role, in.IsActive),
	}
	rows, next, err := paging.List(ctx, cursors, req,
		func(ctx context.Context, after *db.Keyset, n int32) ([]sqlc.User, error) {
			p := sqlc.ListUsersByCreatedAtDescParams{Role: in.Role, IsActive: in.IsActive, PageLimit: n}
			if after != nil {
				p.AfterCreatedAt, p.AfterID = after.At, &after.ID
			}
			return s.page(ctx, sort, p)
		},
		func(u sqlc.User) (time.Time, int64) { return u.CreatedAt, u.ID })
	if err != nil {
		return Page{}, err
	}
	page := Page{Users: make([]User, len(rows)), Next: next}
	for i, u := range rows {
		page.Users[i] = public(u)
	}
	if in.Total {
		n, err := s.store.CountUsers(ctx, sqlc.CountUsersParams{Role: in.Role, IsActive: in.IsActive})
		if err != nil {
			return Page{}, err
		}
		page.Total = &n
	}
	return page, nil
}

// page runs the list query of the whitelisted sort; each has its own index-friendly
// query and all take the same parameters.
func (s *Service) page(ctx context.Context, sort string, p sqlc.ListUsersByCreatedAtDescParams) ([]sqlc.User, error) {
	switch sort {
	case "-created_at":
		return s.store.ListUsersByCreatedAtDesc(ctx, p)
	case "created_at":
		return s.store.ListUsersByCreatedAtAsc(ctx, sqlc.ListUsersByCreatedAtAscParams(p))
	case "-id":
		return s.store.ListUsersByIDDesc(ctx, sqlc.ListUsersByIDDescParams(p))
	case "id":
		return s.store.ListUsersByIDAsc(ctx, sqlc.ListUsersByIDAscParams(p))
	}
	return nil, apperr.Invalid(apperr.FieldError{Field: "sort", Reason: "oneof", Message: "sort must be one of: created_at, -created_at, id, -id"})
}

// fingerprint identifies the filters a cursor was issued for.
func fingerprint(role *string, isActive *bool) string {
	f := ""
	if role != nil {
		f += "r" + *role
	}
	if isActive != nil {
		f += "a" + strconv.FormatBool(*isActive)
	}
	return f
}
