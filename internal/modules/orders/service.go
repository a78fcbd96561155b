package orders

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/quarrydev/quarry/internal/core/apperr"
	"github.com/quarrydev/quarry/internal/core/audit"
	"github.com/quarrydev/quarry/internal/core/paging"
	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/db/sqlc"
)

// Statuses an order may have.
const (
	StatusPending   = "pending"
	StatusPaid      = "paid"
	StatusCancelled = "cancelled"
)

// Service places, cancels and reads orders. Placing and cancelling each run as one
// transaction over several queries (products, orders, order lines, idempotency keys,
// audit log); both lock the products they touch in ascending id order, so
// concurrent orders queue on the rows they share and never deadlock.
type Service struct {
	store   *db.Store
	list    *paging.Resource[filter, sqlc.Order]
	cursors *db.CursorCodec
	cfg     *Config
	// OnPlaced, when set, runs inside the placement transaction once the order and
	// its lines are written, with that transaction's queries: the place to enqueue
	// follow-up work (an "order placed" job) so it commits with the order or not at
	// all. Its error rolls the placement back. It may run more than once for one
	// order when the transaction is retried (only the last run commits).
	OnPlaced func(ctx context.Context, q db.Querier, o Order) error
}

// NewService returns a Service reading and writing through store.
func NewService(store *db.Store, cursors *db.CursorCodec, cfg *Config) *Service {
	return &Service{store: store, list: listing(), cursors: cursors, cfg: cfg}
}

// Viewer is who asks: an order is visible to its buyer and to admins.
type Viewer struct {
	UserID int64
	Admin  bool
}

// CanSee reports whether v may read and cancel o.
func (v Viewer) CanSee(o sqlc.Order) bool { return v.Admin || (v.UserID != 0 && v.UserID == o.BuyerID) }

// Placement is the answer to a placement: the order, and whether it is the stored
// answer to an earlier request with the same Idempotency-Key.
type Placement struct {
	Order    Order
	Replayed bool
}

// Place places an order of buyer for in's lines in one transaction: it claims the
// Idempotency-Key (if any), locks the products in ascending id order, checks and
// decrements their stock, inserts the order with its total and its lines with the
// prices of the moment (both computed in SQL), records order.place in the audit log,
// runs OnPlaced and stores the response with the key; any failure rolls all of it
// back. A key already used with the same lines answers the stored order without
// placing another; a concurrent request with the key waits for the first to end.
// Errors: a validation error naming an unknown product or a malformed key;
// ErrOutOfStock listing each short line with its sku and available units;
// ErrIdempotencyKeyReused; ErrIdempotencyKeyInUse; the store's and the audit log's.
func (s *Service) Place(ctx context.Context, buyer int64, in *PlaceOrderRequest) (Placement, error) {
	key, ok := parseIdempotencyKey(in.IdempotencyKey)
	if !ok {
		return Placement{}, errInvalidIdempotencyKey
	}
	lines, index := normalize(in.Items)
	hash := requestHash(lines)
	var out Placement
	err := s.store.InTx(ctx, func(q db.Querier) error {
		out = Placement{}
		var keyID int64
		if key != "" {
			id, err := q.ClaimOrderIdempotencyKey(ctx, sqlc.ClaimOrderIdempotencyKeyParams{
				UserID: buyer, Key: key, RequestHash: hash, ExpiresAt: time.Now().Add(s.cfg.IdempotencyKeyTTL),
			})
			if errors.Is(err, db.ErrNotFound) {
				out, err = replay(ctx, q, buyer, key, hash)
				return err
			}
			if err != nil {
				return err
			}
			keyID = id
		}
		o, err := s.place(ctx, q, buyer, lines, index)
		if err != nil {
			return err
		}
		if keyID != 0 {
			body, err := json.Marshal(o)
			if err != nil {
				return fmt.Errorf("encode order: %w", err)
			}
			status := int32(http.StatusCreated)
			if err := q.CompleteOrderIdempotencyKey(ctx, sqlc.CompleteOrderIdempotencyKeyParams{
				ID: keyID, ResponseStatus: &status, ResponseBody: body,
			}); err != nil {
				return err
			}
		}
		out.Order = o
		return nil
	})
	return out, err
}

// replay answers a request whose key is held: the stored order when the request is
// the same. Errors: ErrIdempotencyKeyReused, ErrIdempotencyKeyInUse; the store's.
func replay(ctx context.Context, q db.Querier, buyer int64, key string, hash []byte) (Placement, error) {
	stored, err := q.GetOrderIdempotencyKey(ctx, sqlc.GetOrderIdempotencyKeyParams{UserID: buyer, Key: key})
	switch {
	case errors.Is(err, db.ErrNotFound): // pruned between the claim and now
		return Placement{}, ErrIdempotencyKeyInUse.Wrap(err)
	case err != nil:
		return Placement{}, err
	case string(stored.RequestHash) != string(hash):
		return Placement{}, ErrIdempotencyKeyReused
	case stored.ResponseBody == nil:
		return Placement{}, ErrIdempotencyKeyInUse
	}
	var o Order
	if err := json.Unmarshal(stored.ResponseBody, &o); err != nil {
		return Placement{}, fmt.Errorf("decode stored order: %w", err)
	}
	return Placement{Order: o, Replayed: true}, nil
}

// place writes the order of lines (normalized, ascending product ids) with q; index
// maps a product id to its first line in the request, for error fields.
func (s *Service) place(ctx context.Context, q db.Querier, buyer int64, lines []Line, index map[int64]int) (Order, error) {
	ids, quantities := make([]int64, len(lines)), make([]int32, len(lines))
	for i, l := range lines {
		ids[i], quantities[i] = l.ProductID, l.Quantity
	}
	locked, err := q.LockProductsForOrder(ctx, ids)
	if err != nil {
		return Order{}, err
	}
	if err := checkStock(lines, locked, index); err != nil {
		return Order{}, err
	}
	n, err := q.DecrementProductStock(ctx, sqlc.DecrementProductStockParams{Ids: ids, Quantities: quantities})
	if err != nil {
		return Order{}, err
	}
	if n != int64(len(ids)) {
		return Order{}, fmt.Errorf("decrement stock: %d of %d products changed under lock", n, len(ids))
	}
	order, err := q.CreateOrder(ctx, sqlc.CreateOrderParams{BuyerID: buyer, Ids: ids, Quantities: quantities})
	if err != nil {
		return Order{}, err
	}
	rows, err := q.CreateOrderItems(ctx, sqlc.CreateOrderItemsParams{OrderID: order.ID, Ids: ids, Quantities: quantities})
	if err != nil {
		return Order{}, err
	}
	skus := make(map[int64]string, len(locked))
	for _, p := range locked {
		skus[p.ID] = p.Sku
	}
	items := make([]OrderItem, len(rows))
	for i, r := range rows {
		items[i] = OrderItem{ProductID: r.ProductID, Sku: skus[r.ProductID], Quantity: r.Quantity, UnitPrice: r.UnitPrice}
	}
	o := toOrder(order, items)
	if err := audit.Record(ctx, q, audit.Entry{Action: "order.place", ResourceType: "order", ResourceID: audit.ID(o.ID), After: o}); err != nil {
		return Order{}, err
	}
	if s.OnPlaced != nil {
		if err := s.OnPlaced(ctx, q, o); err != nil {
			return Order{}, err
		}
	}
	return o, nil
}

// checkStock returns nil when every line's product exists (locked holds them by
// ascending id, as lines) and has the units asked for. Errors: a validation error
// naming each unknown product; ErrOutOfStock naming each short line's sku and
// available units.
func checkStock(lines []Line, locked []sqlc.LockProductsForOrderRow, index map[int64]int) error {
	var missing, short []apperr.FieldError
	j := 0
	for _, l := range lines {
		if j >= len(locked) || locked[j].ID != l.ProductID {
			missing = append(missing, apperr.FieldError{
				Field: fmt.Sprintf("items[%d].product_id", index[l.ProductID]), Reason: "exists",
				Message: fmt.Sprintf("product %d does not exist", l.ProductID),
			})
			continue
		}
		p := locked[j]
		j++
		if p.Stock < l.Quantity {
			short = append(short, apperr.FieldError{
				Field: fmt.Sprintf("items[%d].quantity", index[l.ProductID]), Reason: "stock",
				Message: fmt.Sprintf("sku %s: %d available, %d asked for", p.Sku, p.Stock, l.Quantity),
			})
		}
	}
	switch {
	case len(missing) > 0:
		return apperr.Invalid(missing...)
	case len(short) > 0:
		e := ErrOutOfStock.WithFields(short...)
		e.Msg = "not enough stock: " + short[0].Message
		return e
	}
	return nil
}

// normalize returns the lines with one line per product (quantities added up) in
// ascending product id order, the lock order, and the index of each product's first
// line in the request.
func normalize(items []Line) ([]Line, map[int64]int) {
	index := make(map[int64]int, len(items))
	var lines []Line
	for i, it := range items {
		if j, ok := index[it.ProductID]; ok {
			k := slices.IndexFunc(lines, func(l Line) bool { return l.ProductID == items[j].ProductID })
			lines[k].Quantity += it.Quantity
			continue
		}
		index[it.ProductID] = i
		lines = append(lines, it)
	}
	slices.SortFunc(lines, func(a, b Line) int { return cmp.Compare(a.ProductID, b.ProductID) })
	return lines, index
}

// Cancel cancels order id for v in one transaction: it locks the order, then its
// products in ascending id order, puts the lines' quantities back on stock, sets the
// status and records order.cancel. Cancelling a cancelled order changes and records
// nothing and answers the order as it is. Errors: ErrOrderNotFound (also for orders v
// may not see); ErrNotCancellable for a paid order; the store's and the audit log's.
func (s *Service) Cancel(ctx context.Context, v Viewer, id int64) (Order, error) {
	var out Order
	err := s.store.InTx(ctx, func(q db.Querier) error {
		before, err := q.GetOrderForUpdate(ctx, id)
		if errors.Is(err, db.ErrNotFound) || (err == nil && !v.CanSee(before)) {
			return ErrOrderNotFound.Wrap(err)
		}
		if err != nil {
			return err
		}
		items, err := s.items(ctx, q, []int64{id})
		if err != nil {
			return err
		}
		switch before.Status {
		case StatusCancelled:
			out = toOrder(before, items[id])
			return nil
		case StatusPaid:
			return ErrNotCancellable
		}
		if _, err := q.LockOrderProducts(ctx, id); err != nil {
			return err
		}
		if _, err := q.RestoreOrderStock(ctx, id); err != nil {
			return err
		}
		after, err := q.SetOrderStatus(ctx, sqlc.SetOrderStatusParams{ID: id, Status: StatusCancelled})
		if err != nil {
			return err
		}
		out = toOrder(after, items[id])
		return audit.Record(ctx, q, audit.Entry{
			Action: "order.cancel", ResourceType: "order", ResourceID: audit.ID(id), Before: toOrder(before, items[id]), After: out,
		})
	})
	return out, err
}

// Get returns order id with its lines for v. Errors: ErrOrderNotFound (also for
// orders v may not see); the store's.
func (s *Service) Get(ctx context.Context, v Viewer, id int64) (Order, error) {
	o, err := s.store.GetOrder(ctx, id)
	if errors.Is(err, db.ErrNotFound) || (err == nil && !v.CanSee(o)) {
		return Order{}, ErrOrderNotFound.Wrap(err)
	}
	if err != nil {
		return Order{}, err
	}
	items, err := s.items(ctx, s.store, []int64{id})
	return toOrder(o, items[id]), err
}

// filter narrows a list of orders.
type filter struct {
	BuyerID *int64 `json:"b,omitempty"`
}

// listing declares the list of orders: its sort keys, the default first.
func listing() *paging.Resource[filter, sqlc.Order] {
	params := func(f filter, a paging.After, n int32) sqlc.ListOrdersByCreatedAtDescParams {
		return sqlc.ListOrdersByCreatedAtDescParams{BuyerID: f.BuyerID, AfterCreatedAt: a.At, AfterID: a.ID, PageLimit: n}
	}
	return &paging.Resource[filter, sqlc.Order]{
		Sorts: []paging.Sort[filter, sqlc.Order]{
			{Key: "-created_at", Query: func(ctx context.Context, q db.Querier, f filter, a paging.After, n int32) ([]sqlc.Order, error) {
				return q.ListOrdersByCreatedAtDesc(ctx, params(f, a, n))
			}},
			{Key: "created_at", Query: func(ctx context.Context, q db.Querier, f filter, a paging.After, n int32) ([]sqlc.Order, error) {
				return q.ListOrdersByCreatedAtAsc(ctx, sqlc.ListOrdersByCreatedAtAscParams(params(f, a, n)))
			}},
		},
		Position: func(o sqlc.Order) (time.Time, int64) { return o.CreatedAt, o.ID },
		Count: func(ctx context.Context, q db.Querier, f filter, max int32) (int64, error) {
			return q.CountOrders(ctx, sqlc.CountOrdersParams{BuyerID: f.BuyerID, MaxCount: max})
		},
	}
}

// List returns a page of orders with their lines for v, in keyset order: one query
// for the page and one for all its lines. Without buyer_id it lists v's own orders,
// or every order for an admin. Errors: apperr.ErrForbidden when a non-admin names
// another buyer; those of paging.Resource.List; the store's.
func (s *Service) List(ctx context.Context, v Viewer, in *ListOrdersRequest) (paging.Page[Order], error) {
	f := filter{BuyerID: in.BuyerID}
	if !v.Admin {
		if in.BuyerID != nil && *in.BuyerID != v.UserID {
			return paging.Page[Order]{}, apperr.ErrForbidden
		}
		f.BuyerID = &v.UserID
	}
	req := paging.Request{Limit: in.Limit, Default: s.cfg.DefaultPageSize, Max: s.cfg.MaxPageSize, Cursor: in.Cursor, Sort: in.Sort, Total: in.Total}
	page, err := s.list.List(ctx, s.store, s.cursors, req, f)
	if err != nil {
		return paging.Page[Order]{}, err
	}
	ids := make([]int64, len(page.Items))
	for i, o := range page.Items {
		ids[i] = o.ID
	}
	items, err := s.items(ctx, s.store, ids)
	if err != nil {
		return paging.Page[Order]{}, err
	}
	out := paging.Page[Order]{Items: make([]Order, len(page.Items)), Next: page.Next, Total: page.Total}
	for i, o := range page.Items {
		out.Items[i] = toOrder(o, items[o.ID])
	}
	return out, nil
}

// items returns the lines of the orders ids, by order, in one query.
func (s *Service) items(ctx context.Context, q db.Querier, ids []int64) (map[int64][]OrderItem, error) {
	out := make(map[int64][]OrderItem, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := q.ListOrderItems(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.OrderID] = append(out[r.OrderID], OrderItem{ProductID: r.ProductID, Sku: r.Sku, Quantity: r.Quantity, UnitPrice: r.UnitPrice})
	}
	return out, nil
}

// toOrder returns the order o with its lines as clients see it.
func toOrder(o sqlc.Order, items []OrderItem) Order {
	if items == nil {
		items = []OrderItem{}
	}
	return Order{ID: o.ID, BuyerID: o.BuyerID, Status: o.Status, Total: o.Total, Items: items, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
}
