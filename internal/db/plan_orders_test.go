package db_test

import (
	"context"
	"strings"
	"testing"

	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/db/sqlc"
)

// TestOrderAndProductListPlansUnderGenericPlans is the query-plan gate of
// TestListAndCountPlansUnderGenericPlans for the orders and products lists: on
// seeded data (200 buyers, 60,000 orders, 20,000 products), every list and count
// query runs, for every filter shape, as a generic plan, and the test fails on a
// sequential scan of orders or products or on a scan that throws away more rows than
// a page holds.
func TestOrderAndProductListPlansUnderGenericPlans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, pool, conn, rec := newPlanGate(t, seedOrders)
	var buyer int64
	if err := pool.QueryRow(ctx, "SELECT buyer_id FROM orders ORDER BY id LIMIT 1").Scan(&buyer); err != nil {
		t.Fatal(err)
	}
	shapes := map[string]*int64{"none": nil, "buyer": &buyer}
	queries := map[string]func(buyer *int64) error{
		"ListOrdersByCreatedAtDesc": func(b *int64) error {
			_, err := store.ListOrdersByCreatedAtDesc(ctx, sqlc.ListOrdersByCreatedAtDescParams{BuyerID: b, PageLimit: planPage})
			return err
		},
		"ListOrdersByCreatedAtAsc": func(b *int64) error {
			_, err := store.ListOrdersByCreatedAtAsc(ctx, sqlc.ListOrdersByCreatedAtAscParams{BuyerID: b, PageLimit: planPage})
			return err
		},
		"CountOrders": func(b *int64) error {
			_, err := store.CountOrders(ctx, sqlc.CountOrdersParams{BuyerID: b, MaxCount: 10000})
			return err
		},
		"ListProductsByCreatedAtDesc": func(*int64) error {
			_, err := store.ListProductsByCreatedAtDesc(ctx, sqlc.ListProductsByCreatedAtDescParams{PageLimit: planPage})
			return err
		},
		"ListProductsByCreatedAtAsc": func(*int64) error {
			_, err := store.ListProductsByCreatedAtAsc(ctx, sqlc.ListProductsByCreatedAtAscParams{PageLimit: planPage})
			return err
		},
		"ListProductsByIDDesc": func(*int64) error {
			_, err := store.ListProductsByIDDesc(ctx, sqlc.ListProductsByIDDescParams{PageLimit: planPage})
			return err
		},
		"ListProductsByIDAsc": func(*int64) error {
			_, err := store.ListProductsByIDAsc(ctx, sqlc.ListProductsByIDAscParams{PageLimit: planPage})
			return err
		},
		"CountProducts": func(*int64) error {
			_, err := store.CountProducts(ctx, 10000)
			return err
		},
	}
	for _, name := range sortedKeys(queries) {
		for _, shape := range sortedKeys(shapes) {
			if strings.Contains(name, "Products") && shape != "none" {
				continue
			}
			if err := queries[name](shapes[shape]); err != nil {
				t.Fatalf("%s/%s: %v", name, shape, err)
			}
			sql, args := rec.last()
			scans, problems := inspect(explainGeneric(t, conn, sql, args))
			t.Logf("%s/%s: %s", name, shape, strings.Join(scans, "; "))
			for _, s := range scans {
				if strings.HasPrefix(s, "Seq Scan on orders") || strings.HasPrefix(s, "Seq Scan on products") {
					problems = append(problems, "sequential scan: "+s)
				}
			}
			for _, p := range problems {
				t.Errorf("%s/%s: %s", name, shape, p)
			}
		}
	}
}

// seedOrders fills users, orders and products: 200 buyers with 300 orders each, and
// 20,000 products, then refreshes the statistics.
func seedOrders(t *testing.T, pool *db.Pool) {
	t.Helper()
	for _, stmt := range []string{
		`INSERT INTO users (email, display_name, password_hash)
		 SELECT 'b' || g || '@example.com', 'Buyer ' || g, 'x' FROM generate_series(1, 200) AS g`,
		`INSERT INTO orders (buyer_id, status, total, created_at)
		 SELECT (SELECT min(id) FROM users) + g % 200, 'pending', g, now() - g * interval '1 second'
		 FROM generate_series(1, 60000) AS g`,
		`INSERT INTO products (sku, name, price, stock, created_at)
		 SELECT 'SKU-' || g, 'Product ' || g, g, g, now() - g * interval '1 second' FROM generate_series(1, 20000) AS g`,
		`ANALYZE users, orders, products`,
	} {
		if _, err := pool.Exec(context.Background(), stmt); err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
}
