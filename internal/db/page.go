package db

import (
	"errors"
	"fmt"
	"time"
)

// Keyset is the position after which the next page of a keyset-paginated list
// starts: the sort it was issued for, the sort key values of the last row, and a
// fingerprint of the filters, so a cursor is only accepted by the query it came from.
type Keyset struct {
	Sort   string     `json:"s"`
	At     *time.Time `json:"t,omitempty"`
	ID     int64      `json:"i"`
	Filter string     `json:"f,omitempty"`
}

// ErrCursorMismatch reports a well-formed cursor issued for another sort or filters.
var ErrCursorMismatch = errors.New("db: cursor was issued for another query")

// DecodeKeyset decodes cursor for a list sorted by sort with filter fingerprint filter.
// An empty cursor returns nil (the first page). Errors wrap ErrInvalidCursor or
// ErrCursorMismatch.
func (c *CursorCodec) DecodeKeyset(cursor, sort, filter string) (*Keyset, error) {
	if cursor == "" {
		return nil, nil
	}
	var k Keyset
	if err := c.Decode(cursor, &k); err != nil {
		return nil, err
	}
	if k.Sort != sort || k.Filter != filter {
		return nil, ErrCursorMismatch
	}
	return &k, nil
}

// Page trims rows fetched with limit+1 to limit and, when there was one more row,
// returns the cursor of the next page built by keyset from the last row kept.
func Page[T any](c *CursorCodec, rows []T, limit int, keyset func(T) Keyset) ([]T, string, error) {
	if len(rows) <= limit {
		return rows, "", nil
	}
	rows = rows[:limit]
	next, err := c.Encode(keyset(rows[limit-1]))
	if err != nil {
		return nil, "", fmt.Errorf("encode cursor: %w", err)
	}
	return rows, next, nil
}
