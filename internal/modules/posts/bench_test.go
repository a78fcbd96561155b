package posts_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/quarrydev/quarry/internal/core/reqctx"
	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/db/sqlc"
	"github.com/quarrydev/quarry/internal/modules/posts"
	"github.com/quarrydev/quarry/internal/testdb"
)

// BenchmarkCreatePost measures what the audit log adds to a write: the service's
// Create (the post and its audit event in one statement; NewService sets no
// AfterWrite) against the bare generated insert, the same insert in a transaction,
// and the insert and an audit event (the post encoded as after) in a transaction, the
// bare create of bench/bare, on one database.
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
		{"store_in_tx_with_event", func() error {
			return store.InTx(ctx, func(q db.Querier) error {
				p, err := q.CreatePost(ctx, in)
				if err != nil {
					return err
				}
				after, err := json.Marshal(p)
				if err != nil {
					return err
				}
				id := strconv.FormatInt(p.ID, 10)
				return q.CreateAuditEvent(ctx, sqlc.CreateAuditEventParams{
					ActorID: &author, Action: "post.create", ResourceType: "post", ResourceID: &id, After: after, Outcome: "success",
				})
			})
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
