package orders_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quarrydev/quarry/internal/app/apptest"
)

// concurrentEnv lets every concurrent request wait for a pool connection (the pool
// has 16) instead of failing fast with 503 database_busy: the tests are about locks.
var concurrentEnv = map[string]string{"DB_ACQUIRE_TIMEOUT": "15s"}

// TestConcurrentOrdersNeverOversell places 50 orders of one unit at once, through the
// real router, against a stock of 10: exactly 10 succeed, the 40 others are told the
// product is out of stock, the stock ends at 0 and never reads negative meanwhile,
// and no client sees a deadlock or any other error.
func TestConcurrentOrdersNeverOversell(t *testing.T) {
	t.Parallel()
	srv := apptest.New(t, apptest.Options{Env: concurrentEnv})
	p := product(t, srv, 1000, 10)
	buyers := make([]*apptest.Client, 5)
	for i := range buyers {
		buyers[i] = srv.SignIn(t, fmt.Sprintf("buyer%d@example.com", i), "user")
	}

	// A watcher reads the stock while the orders run.
	var negative atomic.Bool
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case <-stop:
				return
			default:
			}
			var s int32
			if err := srv.App.Pool().QueryRow(context.Background(), `SELECT stock FROM products WHERE id = $1`, p.ID).Scan(&s); err == nil && s < 0 {
				negative.Store(true)
			}
			time.Sleep(time.Millisecond)
		}
	}()

	const n = 50
	start := make(chan struct{})
	var wg sync.WaitGroup
	statuses := make([]int, n)
	codes := make([]string, n)
	for i := range n {
		wg.Go(func() {
			<-start
			r := buyers[i%len(buyers)].Do(http.MethodPost, "/api/v1/orders", body(line(p.ID, 1)))
			statuses[i] = r.Status
			if r.Status != http.StatusCreated {
				codes[i] = apptest.Envelope[map[string]any](t, r).Code
			}
		})
	}
	close(start)
	wg.Wait()
	close(stop)
	<-watched

	ok, outOfStock := 0, 0
	for i := range n {
		switch {
		case statuses[i] == http.StatusCreated:
			ok++
		case statuses[i] == http.StatusConflict && codes[i] == "out_of_stock":
			outOfStock++
		default:
			t.Errorf("request %d: %d %s", i, statuses[i], codes[i])
		}
	}
	t.Logf("50 orders of 1 unit against a stock of 10: %d placed, %d out of stock, final stock %d", ok, outOfStock, stock(t, srv, p.ID))
	if ok != 10 || outOfStock != 40 {
		t.Errorf("%d placed and %d out of stock; want 10 and 40", ok, outOfStock)
	}
	if s := stock(t, srv, p.ID); s != 0 {
		t.Errorf("final stock %d, want 0", s)
	}
	if negative.Load() {
		t.Error("the stock was read negative")
	}
	if c := count(t, srv, `SELECT count(*) FROM order_items WHERE product_id = $1`, p.ID); c != 10 {
		t.Errorf("order lines: %d, want 10", c)
	}
}

// TestOppositeOrdersDoNotDeadlock runs 20 orders at once over overlapping product
// sets listed in opposite orders, and cancels half of them as they land: placement
// and cancellation lock products in one order, so none fails.
func TestOppositeOrdersDoNotDeadlock(t *testing.T) {
	t.Parallel()
	srv := apptest.New(t, apptest.Options{Env: concurrentEnv})
	buyer := srv.SignIn(t, "buyer@example.com", "user")
	ps := []int64{product(t, srv, 100, 1000).ID, product(t, srv, 200, 1000).ID, product(t, srv, 300, 1000).ID, product(t, srv, 400, 1000).ID}
	sets := [][]int64{
		{ps[0], ps[1], ps[2], ps[3]}, {ps[3], ps[2], ps[1], ps[0]},
		{ps[0], ps[2]}, {ps[2], ps[0]}, {ps[1], ps[3], ps[0]}, {ps[0], ps[3], ps[1]},
	}
	const n = 20
	start := make(chan struct{})
	var wg sync.WaitGroup
	var placed, cancelled atomic.Int64
	for i := range n {
		wg.Go(func() {
			<-start
			set := sets[i%len(sets)]
			lines := make([]map[string]any, len(set))
			for j, id := range set {
				lines[j] = line(id, 1+j)
			}
			r := buyer.Do(http.MethodPost, "/api/v1/orders", body(lines...))
			if r.Status != http.StatusCreated {
				t.Errorf("order %d: %d %s", i, r.Status, r.Body)
				return
			}
			placed.Add(1)
			if i%2 == 1 {
				id := apptest.Envelope[struct{ ID int64 }](t, r).Data.ID
				if c := buyer.Do(http.MethodPost, fmt.Sprintf("/api/v1/orders/%d/cancel", id), nil); c.Status != http.StatusOK {
					t.Errorf("cancel %d: %d %s", id, c.Status, c.Body)
					return
				}
				cancelled.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	t.Logf("%d orders over overlapping products in opposite orders: %d placed, %d cancelled", n, placed.Load(), cancelled.Load())
	// Stock adds up: 1000 minus what the pending orders hold.
	for _, id := range ps {
		var held int32
		if err := srv.App.Pool().QueryRow(context.Background(),
			`SELECT COALESCE(sum(i.quantity), 0) FROM order_items i JOIN orders o ON o.id = i.order_id WHERE i.product_id = $1 AND o.status = 'pending'`, id).Scan(&held); err != nil {
			t.Fatal(err)
		}
		if s := stock(t, srv, id); s != 1000-held {
			t.Errorf("product %d: stock %d, pending orders hold %d", id, s, held)
		}
	}
}
