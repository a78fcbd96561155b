package products_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"

	"github.com/quarrydev/quarry/internal/app/apptest"
	"github.com/quarrydev/quarry/internal/db/sqlc"
	"github.com/quarrydev/quarry/internal/modules/products"
	"github.com/quarrydev/quarry/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

func TestAdminsWriteEveryoneReads(t *testing.T) {
	t.Parallel()
	srv := apptest.New(t, apptest.Options{})
	admin := srv.SignIn(t, "admin@example.com", "admin")
	user := srv.SignIn(t, "user@example.com", "user")
	anon := srv.Anonymous()

	in := map[string]any{"sku": "MUG-1", "name": "Mug", "price": 1250, "stock": 7}
	apptest.ExpectError(t, anon.Do(http.MethodPost, "/api/v1/products", in), http.StatusUnauthorized, "unauthenticated")
	apptest.ExpectError(t, user.Do(http.MethodPost, "/api/v1/products", in), http.StatusForbidden, "forbidden")
	p := apptest.Expect[products.Product](t, admin.Do(http.MethodPost, "/api/v1/products", in), http.StatusCreated).Data
	if p.Sku != "MUG-1" || p.Price != 1250 || p.Stock != 7 || p.ID == 0 {
		t.Fatalf("created: %+v", p)
	}
	apptest.ExpectError(t, admin.Do(http.MethodPost, "/api/v1/products", in), http.StatusConflict, "sku_taken")
	if data := apptest.ExpectError(t, admin.Do(http.MethodPost, "/api/v1/products", map[string]any{"sku": "X", "name": "X"}),
		http.StatusUnprocessableEntity, "validation_failed"); !apptest.HasField(data, "price") {
		t.Fatalf("missing price: %+v", data)
	}

	path := fmt.Sprintf("/api/v1/products/%d", p.ID)
	if got := apptest.Expect[products.Product](t, anon.Do(http.MethodGet, path, nil), http.StatusOK).Data; got != p {
		t.Fatalf("read: %+v, want %+v", got, p)
	}
	list := apptest.Expect[products.ProductList](t, anon.Do(http.MethodGet, "/api/v1/products?sort=id&total=true", nil), http.StatusOK).Data
	if len(list.Items) != 1 || list.Items[0].ID != p.ID || *list.Total != 1 {
		t.Fatalf("list: %+v", list)
	}

	apptest.ExpectError(t, user.Do(http.MethodPatch, path, map[string]any{"stock": 1}), http.StatusForbidden, "forbidden")
	up := apptest.Expect[products.Product](t, admin.Do(http.MethodPatch, path, map[string]any{"stock": 9}), http.StatusOK).Data
	if up.Stock != 9 || up.Price != 1250 || up.Name != "Mug" {
		t.Fatalf("updated: %+v", up)
	}
	apptest.ExpectError(t, admin.Do(http.MethodPatch, path, map[string]any{"stock": -1}), http.StatusUnprocessableEntity, "validation_failed")

	// A product on an order stays; one on none is deleted.
	apptest.Expect[map[string]any](t, user.Do(http.MethodPost, "/api/v1/orders", map[string]any{
		"items": []map[string]any{{"product_id": p.ID, "quantity": 1}},
	}), http.StatusCreated)
	apptest.ExpectError(t, admin.Do(http.MethodDelete, path, nil), http.StatusConflict, "product_ordered")
	spare := testdb.Product(t, srv.App.Store(), sqlc.CreateProductParams{Price: 1})
	apptest.Expect[struct{}](t, admin.Do(http.MethodDelete, fmt.Sprintf("/api/v1/products/%d", spare.ID), nil), http.StatusNoContent)
	apptest.ExpectError(t, anon.Do(http.MethodGet, fmt.Sprintf("/api/v1/products/%d", spare.ID), nil), http.StatusNotFound, "product_not_found")

	var n int
	if err := srv.App.Pool().QueryRow(context.Background(),
		`SELECT count(*) FROM audit_events WHERE resource_type = 'product' AND action IN ('product.create', 'product.update', 'product.delete')`).Scan(&n); err != nil || n != 3 {
		t.Fatalf("product audit rows: %d, %v; want 3 (create, update, delete)", n, err)
	}
}
