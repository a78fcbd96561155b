package orders_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/quarrydev/quarry/internal/app/apptest"
	"github.com/quarrydev/quarry/internal/modules/orders"
)

func TestIdempotentReplay(t *testing.T) {
	t.Parallel()
	srv := apptest.New(t, apptest.Options{})
	buyer := srv.SignIn(t, "buyer@example.com", "user")
	other := srv.SignIn(t, "other@example.com", "user")
	a, b := product(t, srv, 100, 10), product(t, srv, 200, 10)
	place := func(c *apptest.Client, key string, lines ...map[string]any) *apptest.Response {
		return c.Do(http.MethodPost, "/api/v1/orders", body(lines...), "Idempotency-Key", key)
	}

	first := apptest.Expect[orders.Order](t, place(buyer, `"order-1"`, line(a.ID, 2), line(b.ID, 1)), http.StatusCreated)
	// The same request again — the key bare or quoted, the lines in another order —
	// answers the same response and places nothing.
	for _, key := range []string{`"order-1"`, `order-1`} {
		r := place(buyer, key, line(b.ID, 1), line(a.ID, 1), line(a.ID, 1))
		again := apptest.Expect[orders.Order](t, r, http.StatusCreated)
		if again.Data.ID != first.Data.ID || again.Data.Total != first.Data.Total || len(again.Data.Items) != 2 ||
			!again.Data.CreatedAt.Equal(first.Data.CreatedAt) {
			t.Fatalf("replay with %s: %+v, first %+v", key, again.Data, first.Data)
		}
	}
	if n := count(t, srv, `SELECT count(*) FROM orders`); n != 1 || stock(t, srv, a.ID) != 8 || stock(t, srv, b.ID) != 9 {
		t.Fatalf("after replays: %d orders, stock %d, %d", n, stock(t, srv, a.ID), stock(t, srv, b.ID))
	}

	// The same key with another body is refused and changes nothing.
	apptest.ExpectError(t, place(buyer, `"order-1"`, line(a.ID, 3)), http.StatusUnprocessableEntity, "idempotency_key_reused")
	// Keys belong to their user: another user's "order-1" is a new order.
	apptest.Expect[orders.Order](t, place(other, `"order-1"`, line(a.ID, 3)), http.StatusCreated)
	// A malformed key is a validation error naming the header.
	for _, key := range []string{`"unterminated`, `"a" x`, `two words`, `""`} {
		data := apptest.ExpectError(t, place(buyer, key, line(a.ID, 1)), http.StatusUnprocessableEntity, "validation_failed")
		if !apptest.HasField(data, "Idempotency-Key") {
			t.Fatalf("key %s: %+v", key, data)
		}
	}
	if n := count(t, srv, `SELECT count(*) FROM orders`); n != 2 {
		t.Fatalf("orders: %d, want 2", n)
	}

	// An expired key is forgotten: the same key places a new order.
	if _, err := srv.App.Pool().Exec(context.Background(), `UPDATE order_idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = 'order-1' AND user_id = $1`, buyer.ID); err != nil {
		t.Fatal(err)
	}
	renewed := apptest.Expect[orders.Order](t, place(buyer, `"order-1"`, line(a.ID, 1)), http.StatusCreated)
	if renewed.Data.ID == first.Data.ID {
		t.Fatalf("an expired key replayed its order")
	}
	if n := count(t, srv, `SELECT count(*) FROM order_idempotency_keys WHERE user_id = $1 AND (response_body->>'id')::bigint = $2 AND expires_at > now()`, buyer.ID, renewed.Data.ID); n != 1 {
		t.Fatalf("renewed key rows: %d", n)
	}
}

// TestConcurrentDuplicatesPlaceOneOrder sends the same keyed request many times at
// once: the first placement holds the key; the others wait for it and replay its
// answer, so exactly one order is placed.
func TestConcurrentDuplicatesPlaceOneOrder(t *testing.T) {
	t.Parallel()
	srv := apptest.New(t, apptest.Options{Env: map[string]string{"DB_ACQUIRE_TIMEOUT": "15s"}})
	buyer := srv.SignIn(t, "buyer@example.com", "user")
	p := product(t, srv, 500, 100)
	const n = 16
	var wg sync.WaitGroup
	ids := make([]int64, n)
	statuses := make([]int, n)
	for i := range n {
		wg.Go(func() {
			r := buyer.Do(http.MethodPost, "/api/v1/orders", body(line(p.ID, 3)), "Idempotency-Key", `"same"`)
			statuses[i] = r.Status
			if r.Status == http.StatusCreated {
				ids[i] = apptest.Envelope[orders.Order](t, r).Data.ID
			}
		})
	}
	wg.Wait()
	for i := range n {
		if statuses[i] != http.StatusCreated || ids[i] != ids[0] {
			t.Errorf("request %d: status %d, order %d (first %d)", i, statuses[i], ids[i], ids[0])
		}
	}
	if c := count(t, srv, `SELECT count(*) FROM orders`); c != 1 || stock(t, srv, p.ID) != 97 {
		t.Fatalf("%d orders, stock %d; want 1 order, stock 97", c, stock(t, srv, p.ID))
	}
}
