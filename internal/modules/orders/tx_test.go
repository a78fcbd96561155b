package orders_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/quarrydev/quarry/internal/app/apptest"
	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/db/sqlc"
	"github.com/quarrydev/quarry/internal/modules/orders"
)

// nothingPlaced fails the test unless the database holds no order, line, key or
// order.place event, and the products still have want stock.
func nothingPlaced(t *testing.T, srv *apptest.Server, want map[int64]int32) {
	t.Helper()
	for _, q := range []string{
		`SELECT count(*) FROM orders`, `SELECT count(*) FROM order_items`,
		`SELECT count(*) FROM order_idempotency_keys`, `SELECT count(*) FROM audit_events WHERE action = 'order.place'`,
	} {
		if n := count(t, srv, q); n != 0 {
			t.Errorf("%s: %d, want 0", q, n)
		}
	}
	for id, s := range want {
		if got := stock(t, srv, id); got != s {
			t.Errorf("stock of %d: %d, want %d", id, got, s)
		}
	}
}

func TestPlacementIsAllOrNothing(t *testing.T) {
	t.Parallel()
	srv := apptest.New(t, apptest.Options{})
	buyer := srv.SignIn(t, "buyer@example.com", "user")
	a, b := product(t, srv, 100, 5), product(t, srv, 200, 1)
	initial := map[int64]int32{a.ID: 5, b.ID: 1}

	// One short line refuses the whole order and names the sku and what is available.
	r := buyer.Do(http.MethodPost, "/api/v1/orders", body(line(a.ID, 2), line(b.ID, 3)), "Idempotency-Key", `"k1"`)
	data := apptest.ExpectError(t, r, http.StatusConflict, "out_of_stock")
	if !apptest.HasField(data, "items[1].quantity") || len(data.Fields) != 1 ||
		!strings.Contains(data.Fields[0].Message, b.Sku) || !strings.Contains(data.Fields[0].Message, "1 available") {
		t.Fatalf("out of stock: %+v", data)
	}
	nothingPlaced(t, srv, initial)

	// An unknown product is a validation error naming its line.
	r = buyer.Do(http.MethodPost, "/api/v1/orders", body(line(a.ID, 1), line(b.ID+1000, 1)))
	if data := apptest.ExpectError(t, r, http.StatusUnprocessableEntity, "validation_failed"); !apptest.HasField(data, "items[1].product_id") {
		t.Fatalf("unknown product: %+v", data)
	}
	nothingPlaced(t, srv, initial)

	// The last step failing (after stock, order, lines and audit row are written)
	// rolls every one of them back, the idempotency key included.
	store := srv.App.Store()
	codec, err := db.NewCursorCodec([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	svc := orders.NewService(store, codec, &orders.Config{DefaultPageSize: 20, MaxPageSize: 100, IdempotencyKeyTTL: time.Hour})
	boom := errors.New("enqueue failed")
	var seen orders.Order
	svc.OnPlaced = func(ctx context.Context, q db.Querier, o orders.Order) error {
		seen = o
		if p, err := q.GetProduct(ctx, a.ID); err != nil || p.Stock != 3 {
			t.Errorf("inside the transaction: stock %d, %v; want 3", p.Stock, err)
		}
		return boom
	}
	_, err = svc.Place(context.Background(), buyer.ID, &orders.PlaceOrderRequest{
		IdempotencyKey: "k2", Items: []orders.Line{{ProductID: a.ID, Quantity: 2}, {ProductID: b.ID, Quantity: 1}},
	})
	if !errors.Is(err, boom) || seen.ID == 0 || seen.Total != 400 {
		t.Fatalf("Place with a failing last step: %v (order seen: %+v)", err, seen)
	}
	nothingPlaced(t, srv, initial)

	// Under the lock the stock never goes negative: the decrement takes only what is
	// there, and the check constraint refuses anything else.
	n, err := store.DecrementProductStock(context.Background(), sqlc.DecrementProductStockParams{Ids: []int64{a.ID}, Quantities: []int32{6}})
	if err != nil || n != 0 || stock(t, srv, a.ID) != 5 {
		t.Fatalf("DecrementProductStock beyond the stock: %d rows, %v, stock %d", n, err, stock(t, srv, a.ID))
	}
	_, err = store.UpdateProduct(context.Background(), sqlc.UpdateProductParams{ID: a.ID, Stock: new(int32(-1))})
	var dbErr *db.Error
	if !errors.As(err, &dbErr) || !errors.Is(err, db.ErrCheck) || db.Constraint(dbErr.Constraint) != db.ConstraintProductsStockCheck {
		t.Fatalf("negative stock: %v", err)
	}
}
