// Package paging is the keyset pagination every list shares. A resource declares its
// list once, as a Resource: its sort keys, each with the query reading a page in
// that order, the position of a row and its count. From that one declaration come
// the sort validation, the dispatch to the query, the cursor bound to its sort and
// filters, the page size rules and the extra row that tells whether a next page
// exists; CheckSortTag keeps the request type's sort whitelist (and so the API
// document's enum) equal to it.
package paging

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/quarrydev/quarry/internal/core/apperr"
	"github.com/quarrydev/quarry/internal/db"
)

// MaxTotal caps the count a list reports with its page: counting stops there, so a
// count costs at most that many index entries. A total equal to MaxTotal means "at
// least that many".
const MaxTotal = 10000

// After is where a page starts: the sort key values of the last row of the previous
// page, both nil on the first page. Sorts by id read only ID.
type After struct {
	At *time.Time
	ID *int64
}

// Sort is one whitelisted order of a list: the key clients pass ("-" first for
// descending) and the query reading up to limit rows of filter f after a, in that
// order.
type Sort[F, R any] struct {
	Key   string
	Query func(ctx context.Context, q db.Querier, f F, a After, limit int32) ([]R, error)
}

// Resource declares a listable resource. F is its filter (a struct of exported,
// JSON-encodable fields: its encoding binds cursors to the filters) and R its row.
type Resource[F, R any] struct {
	// Sorts lists the sort keys; the first is the default.
	Sorts []Sort[F, R]
	// Position returns a row's sort values: its time (nil for resources sorted only
	// by id) and id.
	Position func(R) (time.Time, int64)
	// Count counts the rows of filter f, up to max; nil when the list has no total.
	Count func(ctx context.Context, q db.Querier, f F, max int32) (int64, error)
}

// Request is the page asked for.
type Request struct {
	// Limit is the page size asked for; 0 means Default, more than Max is refused.
	Limit, Default, Max int
	// Cursor is the next_cursor of the previous page; "" for the first page.
	Cursor string
	// Sort is a key of the resource's Sorts; "" means the first.
	Sort string
	// Total asks for the count of all matching rows (capped at MaxTotal).
	Total bool
	// Empty answers an empty page after the same validation, without querying: for
	// filters the caller may not see.
	Empty bool
}

// Page is one page of rows.
type Page[R any] struct {
	Items []R
	// Next is the cursor of the next page; "" on the last page.
	Next string
	// Total is set when asked for.
	Total *int64
}

// keyset is what a cursor carries.
type keyset struct {
	Sort   string     `json:"s"`
	At     *time.Time `json:"t,omitempty"`
	ID     int64      `json:"i"`
	Filter string     `json:"f,omitempty"`
}

// Keys returns the sort keys, the default first.
func (r *Resource[F, R]) Keys() []string {
	keys := make([]string, len(r.Sorts))
	for i, s := range r.Sorts {
		keys[i] = s.Key
	}
	return keys
}

// List returns one page of rows of filter f through q, cursors sealed by c.
// Errors: a validation error naming limit when it exceeds Max, or sort when it is
// not a key; apperr.ErrBadCursor for a tampered cursor or one issued for another
// sort or filters; the query's errors as they are.
func (r *Resource[F, R]) List(ctx context.Context, q db.Querier, c *db.CursorCodec, req Request, f F) (Page[R], error) {
	limit := req.Limit
	switch {
	case limit == 0:
		limit = req.Default
	case limit > req.Max:
		return Page[R]{}, apperr.Invalid(apperr.FieldError{
			Field: "limit", Reason: "max", Message: fmt.Sprintf("limit must be at most %d", req.Max),
		})
	}
	sort := r.Sorts[0]
	if req.Sort != "" {
		i := slices.IndexFunc(r.Sorts, func(s Sort[F, R]) bool { return s.Key == req.Sort })
		if i < 0 {
			return Page[R]{}, apperr.Invalid(apperr.FieldError{
				Field: "sort", Reason: "oneof", Message: "sort must be one of: " + strings.Join(r.Keys(), ", "),
			})
		}
		sort = r.Sorts[i]
	}
	filter, err := fingerprint(f)
	if err != nil {
		return Page[R]{}, err
	}
	var after After
	if req.Cursor != "" {
		var k keyset
		if err := c.Decode(req.Cursor, &k); err != nil {
			if errors.Is(err, db.ErrInvalidCursor) {
				return Page[R]{}, apperr.ErrBadCursor.Wrap(err)
			}
			return Page[R]{}, err
		}
		if k.Sort != sort.Key || k.Filter != filter {
			return Page[R]{}, apperr.ErrBadCursor.Wrap(errors.New("cursor issued for another sort or filters"))
		}
		after = After{At: k.At, ID: &k.ID}
	}
	page := Page[R]{Items: []R{}}
	if req.Empty {
		if req.Total {
			page.Total = new(int64)
		}
		return page, nil
	}
	rows, err := sort.Query(ctx, q, f, after, int32(limit+1))
	if err != nil {
		return Page[R]{}, err
	}
	page.Items = rows
	if len(rows) > limit {
		page.Items = rows[:limit]
		at, id := r.Position(rows[limit-1])
		k := keyset{Sort: sort.Key, ID: id, Filter: filter}
		if !at.IsZero() {
			k.At = &at
		}
		if page.Next, err = c.Encode(k); err != nil {
			return Page[R]{}, fmt.Errorf("encode cursor: %w", err)
		}
	}
	if req.Total && r.Count != nil {
		n, err := r.Count(ctx, q, f, MaxTotal)
		if err != nil {
			return Page[R]{}, err
		}
		page.Total = &n
	}
	return page, nil
}

// fingerprint identifies filter f in a cursor: a short hash of its JSON encoding.
func fingerprint(f any) (string, error) {
	b, err := json.Marshal(f)
	if err != nil {
		return "", fmt.Errorf("list filters: %w", err)
	}
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:12]), nil
}

// Response is a page as clients see it; list types of the API are defined on it
// (type PostList paging.Response[Post]) so each keeps its own name.
type Response[T any] struct {
	Items []T `json:"items"`
	// NextCursor continues the list; null on the last page.
	NextCursor *string `json:"next_cursor"`
	// Total counts every match, up to MaxTotal; present when asked for.
	Total *int64 `json:"total,omitempty"`
}

// Respond maps page to its response, each row through item.
func Respond[R, T any](page Page[R], item func(R) T) Response[T] {
	out := Response[T]{Items: make([]T, len(page.Items)), Total: page.Total}
	for i, row := range page.Items {
		out.Items[i] = item(row)
	}
	if page.Next != "" {
		out.NextCursor = &page.Next
	}
	return out
}

// CheckSortTag returns an error unless the sort field of request type req (a struct,
// or a pointer to one) whitelists exactly keys with binding:"omitempty,oneof=…": the
// tag is what validates requests and what the API document lists, the keys are what
// the resource can run.
func CheckSortTag(req any, keys []string) error {
	t := reflect.TypeOf(req)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Tag.Get("form") != "sort" {
			continue
		}
		for rule := range strings.SplitSeq(f.Tag.Get("binding"), ",") {
			if list, ok := strings.CutPrefix(rule, "oneof="); ok {
				if got := strings.Fields(list); !slices.Equal(sorted(got), sorted(keys)) {
					return fmt.Errorf("%s.%s: sort keys %v, but the list declares %v", t.Name(), f.Name, got, keys)
				}
				return nil
			}
		}
		return fmt.Errorf("%s.%s: no oneof whitelist of sort keys", t.Name(), f.Name)
	}
	return fmt.Errorf("%s: no sort field", t.Name())
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
