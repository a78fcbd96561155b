package orders_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"

	"github.com/quarrydev/quarry/internal/app/apptest"
	"github.com/quarrydev/quarry/internal/db/sqlc"
	"github.com/quarrydev/quarry/internal/modules/orders"
	"github.com/quarrydev/quarry/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// product seeds a product with price and stock.
func product(t *testing.T, srv *apptest.Server, price int64, stock int32) sqlc.Product {
	t.Helper()
	return testdb.Product(t, srv.App.Store(), sqlc.CreateProductParams{Price: price, Stock: stock})
}

// stock returns product id's stock.
func stock(t *testing.T, srv *apptest.Server, id int64) int32 {
	t.Helper()
	p, err := srv.App.Store().GetProduct(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p.Stock
}

// count returns the result of a count(*) query.
func count(t *testing.T, srv *apptest.Server, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := srv.App.Pool().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func line(id int64, qty int) map[string]any { return map[string]any{"product_id": id, "quantity": qty} }

func body(lines ...map[string]any) map[string]any { return map[string]any{"items": lines} }

func TestPlaceReadAndCancel(t *testing.T) {
	t.Parallel()
	srv := apptest.New(t, apptest.Options{})
	buyer := srv.SignIn(t, "buyer@example.com", "user")
	other := srv.SignIn(t, "other@example.com", "user")
	admin := srv.SignIn(t, "admin@example.com", "admin")
	a, b := product(t, srv, 250, 5), product(t, srv, 1999, 3)

	// Lines of the same product add up; the total and captured prices come from SQL.
	r := buyer.Do(http.MethodPost, "/api/v1/orders", body(line(b.ID, 1), line(a.ID, 2), line(a.ID, 1)))
	o := apptest.Expect[orders.Order](t, r, http.StatusCreated).Data
	if o.BuyerID != buyer.ID || o.Status != "pending" || o.Total != 3*250+1999 || len(o.Items) != 2 ||
		o.Items[0] != (orders.OrderItem{ProductID: a.ID, Sku: a.Sku, Quantity: 3, UnitPrice: 250}) ||
		o.Items[1] != (orders.OrderItem{ProductID: b.ID, Sku: b.Sku, Quantity: 1, UnitPrice: 1999}) {
		t.Fatalf("placed: %+v", o)
	}
	if stock(t, srv, a.ID) != 2 || stock(t, srv, b.ID) != 2 {
		t.Fatalf("stock after placing: %d, %d", stock(t, srv, a.ID), stock(t, srv, b.ID))
	}
	if n := count(t, srv, `SELECT count(*) FROM audit_events WHERE action = 'order.place' AND resource_id = $1 AND actor_id = $2`, fmt.Sprint(o.ID), buyer.ID); n != 1 {
		t.Fatalf("order.place audit rows: %d", n)
	}

	// A later price change does not change the order.
	apptest.Expect[map[string]any](t, admin.Do(http.MethodPatch, fmt.Sprintf("/api/v1/products/%d", a.ID), map[string]any{"price": 9999}), http.StatusOK)
	path := fmt.Sprintf("/api/v1/orders/%d", o.ID)
	got := apptest.Expect[orders.Order](t, buyer.Do(http.MethodGet, path, nil), http.StatusOK).Data
	if got.Total != o.Total || got.Items[0].UnitPrice != 250 {
		t.Fatalf("read back: %+v", got)
	}
	apptest.ExpectError(t, other.Do(http.MethodGet, path, nil), http.StatusNotFound, "order_not_found")
	apptest.Expect[orders.Order](t, admin.Do(http.MethodGet, path, nil), http.StatusOK)

	// Lists carry the lines; a buyer lists only their own orders.
	second := apptest.Expect[orders.Order](t, other.Do(http.MethodPost, "/api/v1/orders", body(line(b.ID, 1))), http.StatusCreated).Data
	mine := apptest.Expect[orders.OrderList](t, buyer.Do(http.MethodGet, "/api/v1/orders?total=true", nil), http.StatusOK).Data
	if len(mine.Items) != 1 || mine.Items[0].ID != o.ID || len(mine.Items[0].Items) != 2 || *mine.Total != 1 {
		t.Fatalf("buyer's list: %+v", mine)
	}
	apptest.ExpectError(t, buyer.Do(http.MethodGet, fmt.Sprintf("/api/v1/orders?buyer_id=%d", other.ID), nil), http.StatusForbidden, "forbidden")
	all := apptest.Expect[orders.OrderList](t, admin.Do(http.MethodGet, "/api/v1/orders?limit=1", nil), http.StatusOK).Data
	if len(all.Items) != 1 || all.Items[0].ID != second.ID || all.NextCursor == nil {
		t.Fatalf("admin's first page: %+v", all)
	}
	next := apptest.Expect[orders.OrderList](t, admin.Do(http.MethodGet, "/api/v1/orders?limit=1&cursor="+*all.NextCursor, nil), http.StatusOK).Data
	if len(next.Items) != 1 || next.Items[0].ID != o.ID || next.NextCursor != nil || len(next.Items[0].Items) != 2 {
		t.Fatalf("admin's second page: %+v", next)
	}

	// Cancelling puts the stock back; a second cancel answers the order unchanged.
	apptest.ExpectError(t, other.Do(http.MethodPost, path+"/cancel", nil), http.StatusNotFound, "order_not_found")
	c := apptest.Expect[orders.Order](t, buyer.Do(http.MethodPost, path+"/cancel", nil), http.StatusOK).Data
	if c.Status != "cancelled" || stock(t, srv, a.ID) != 5 || stock(t, srv, b.ID) != 2 {
		t.Fatalf("cancelled: %+v, stock %d, %d", c, stock(t, srv, a.ID), stock(t, srv, b.ID))
	}
	again := apptest.Expect[orders.Order](t, admin.Do(http.MethodPost, path+"/cancel", nil), http.StatusOK).Data
	if again.Status != "cancelled" || !again.UpdatedAt.Equal(c.UpdatedAt) || stock(t, srv, a.ID) != 5 {
		t.Fatalf("second cancel: %+v, stock %d", again, stock(t, srv, a.ID))
	}
	if n := count(t, srv, `SELECT count(*) FROM audit_events WHERE action = 'order.cancel' AND resource_id = $1`, fmt.Sprint(o.ID)); n != 1 {
		t.Fatalf("order.cancel audit rows: %d", n)
	}
	// A paid order stays as it is.
	if _, err := srv.App.Pool().Exec(context.Background(), `UPDATE orders SET status = 'paid' WHERE id = $1`, second.ID); err != nil {
		t.Fatal(err)
	}
	apptest.ExpectError(t, admin.Do(http.MethodPost, fmt.Sprintf("/api/v1/orders/%d/cancel", second.ID), nil), http.StatusConflict, "order_not_cancellable")
	if stock(t, srv, b.ID) != 2 {
		t.Fatalf("stock after refused cancel: %d", stock(t, srv, b.ID))
	}
	apptest.ExpectError(t, srv.Anonymous().Do(http.MethodPost, "/api/v1/orders", body(line(a.ID, 1))), http.StatusUnauthorized, "unauthenticated")
}
