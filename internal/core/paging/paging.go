// Package paging is the keyset pagination every list shares: the page size rules, the
// signed cursor bound to its sort and filters, and the extra row that tells whether a
// next page exists.
package paging

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/quarrydev/quarry/internal/core/apperr"
	"github.com/quarrydev/quarry/internal/db"
)

// Request describes the page asked for.
type Request struct {
	// Limit is the page size asked for; 0 means Default.
	Limit, Default, Max int
	// Cursor is the next_cursor of the previous page; "" for the first page.
	Cursor string
	// Sort and Filter identify the query; a cursor works only with the ones it was
	// issued for.
	Sort, Filter string
}

// List returns one page: at most the requested number of rows, in the order fetch
// returns them, and the cursor of the next page ("" on the last). fetch gets the
// position after which the page starts (nil for the first page) and how many rows to
// read (one more than the page, to see whether another follows); position returns a
// row's sort key and id.
//
// Errors: a validation error naming limit when it exceeds Max; apperr.ErrBadCursor for
// a tampered cursor or one issued for another sort or filters; fetch's errors as they
// are.
func List[T any](ctx context.Context, c *db.CursorCodec, r Request,
	fetch func(ctx context.Context, after *db.Keyset, n int32) ([]T, error),
	position func(T) (time.Time, int64),
) ([]T, string, error) {
	limit := r.Limit
	switch {
	case limit == 0:
		limit = r.Default
	case limit > r.Max:
		return nil, "", apperr.Invalid(apperr.FieldError{
			Field: "limit", Reason: "max", Message: fmt.Sprintf("limit must be at most %d", r.Max),
		})
	}
	after, err := c.DecodeKeyset(r.Cursor, r.Sort, r.Filter)
	if err != nil {
		if errors.Is(err, db.ErrInvalidCursor) || errors.Is(err, db.ErrCursorMismatch) {
			return nil, "", apperr.ErrBadCursor.Wrap(err)
		}
		return nil, "", err
	}
	rows, err := fetch(ctx, after, int32(limit+1))
	if err != nil {
		return nil, "", err
	}
	return db.Page(c, rows, limit, func(row T) db.Keyset {
		at, id := position(row)
		return db.Keyset{Sort: r.Sort, At: &at, ID: id, Filter: r.Filter}
	})
}
