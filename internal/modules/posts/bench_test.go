package posts_test

import (
	"context"
	"testing"

	"github.com/quarrydev/quarry/internal/core/reqctx"
	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/db/sqlc"
	"github.com/quarrydev/quarry/internal/modules/posts"
	"github.com/quarrydev/quarry/internal/testdb"
)

// BenchmarkCreatePost measures what the audit log adds to a write: the service's
// Create (transaction, insert, audit event) against the bare generated insert, and
// against the same insert in a transaction, on one database.
//
//	go test -run '^$' -bench CreatePost -benchtime 3s ./internal/modules/posts/
func BenchmarkCreatePost(b *testing.B) {
	ctx := context.Background()
	pool, err := db.NewPool(ctx, db.PoolConfig{URL: testdb.NewURL(b), MaxConns: 8})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	var author int64
	if err := pool.QueryRow(ctx, `INSERT INTO users (email, display_name, password_hash) VALUES ('bench@example.com', 'Bench', 'x') RETURNING id`).Scan(&author); err != nil {
		b.Fatal(err)
	}
	store := db.NewStore(pool)
	svc := posts.NewService(store, nil, &posts.Config{MaxBulk: 1}, nil)
	in := sqlc.CreatePostParams{AuthorID: author, Title: "A benchmark post", Body: "A short body of text.", Status: posts.StatusDraft}
	reqCtx := reqctx.With(ctx, &reqctx.Info{RequestID: "0123456789abcdef01234567", ClientIP: "192.0.2.1", UserAgent: "bench/1.0", ActorID: author}, nil)

	cases := []struct {
		name string
		op   func() error
	}{
		{"store", func() error { _, err := store.CreatePost(ctx, in); return err }},
		{"store_in_tx", func() error {
			return store.InTx(ctx, func(q db.Querier) error { _, err := q.CreatePost(ctx, in); return err })
		}},
		{"service_audited", func() error {
			_, err := svc.Create(reqCtx, author, &posts.CreatePostRequest{Title: in.Title, Body: &in.Body})
			return err
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if err := c.op(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"_parallel", func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := c.op(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
