package db

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quarrydev/quarry/internal/db/sqlc"
)

//go:generate go run ./dbgen

// Querier is every generated query. The ones a [Store] hands out return errors
// already translated into this package's vocabulary (see [Translate]).
type Querier = sqlc.Querier

// QueryHook observes queries by name (e.g. "GetPost"). Metrics and spans per query
// are hooks. Both functions are optional; the store calls them directly, with no
// closure or allocation per query.
type QueryHook struct {
	// Start is called before the query runs and returns the context to run it
	// with (e.g. one carrying a span).
	Start func(ctx context.Context, name string) context.Context
	// End is called once the query ran, with the context the Start functions
	// returned, the time the query took and its translated error (nil on success).
	End func(ctx context.Context, name string, elapsed time.Duration, err error)
}

// Store is what services use of the database: the generated queries on the pool
// (embedded [Querier]) and [Store.InTx] for several of them in one transaction.
// Every query's error is translated once, here, and every query is seen by the
// store's hooks under its name. A Store is safe for concurrent use.
//
// A store with [Replicas] ([NewReplicatedStore]) sends each read-only query made
// outside a transaction (the generator derives which are from the SQL) to a replica
// in rotation that has replayed the context's [Session], and reruns it on the
// primary when the replica fails to answer. Writes, locking reads and everything in
// InTx run on the primary; a write outside a transaction, or a committed
// transaction that wrote, advances the context's session to the primary's WAL
// position. Without replicas none of this costs anything but a nil check.
type Store struct {
	Querier
	pool     *Pool
	replicas *Replicas
	hooks    []QueryHook
}

// NewStore returns a store running queries on pool and telling hooks about each.
func NewStore(pool *Pool, hooks ...QueryHook) *Store {
	return NewReplicatedStore(pool, nil, hooks...)
}

// NewReplicatedStore returns a store running writes and transactions on pool and
// read-only queries on replicas when one is fresh enough (nil replicas: all on pool),
// telling hooks about each query.
func NewReplicatedStore(pool *Pool, replicas *Replicas, hooks ...QueryHook) *Store {
	s := &Store{pool: pool, replicas: replicas, hooks: hooks}
	s.Querier = queries{q: sqlc.New(pool), replicas: replicas, hooks: hooks}
	return s
}

// InTx runs fn in a transaction (see [InTx]: rolled back on error or panic, rerun on
// serialization failures and deadlocks), handing it the queries bound to the
// transaction. It returns nil after the commit, fn's error as fn returned it, or a
// begin or commit error translated into this package's vocabulary. With replicas,
// a committed transaction that wrote advances the context's [Session].
func (s *Store) InTx(ctx context.Context, fn func(q Querier) error) error {
	var tx txState
	err := Translate(InTx(ctx, s.pool, pgx.TxOptions{}, func(ptx pgx.Tx) error {
		tx.tx = ptx
		return fn(queries{q: sqlc.New(ptx), hooks: s.hooks, tx: &tx})
	}))
	if err == nil && tx.wrote && s.replicas != nil {
		s.replicas.recordWrite(ctx)
	}
	return err
}

// TxOf returns the transaction q runs in when q was handed out by [Store.InTx], so
// work that is not a generated query (a background job enqueued with the writes) can
// join it, and counts that work as a write of the transaction; false for the store's
// own queries on the pool.
func TxOf(q Querier) (pgx.Tx, bool) {
	qs, ok := q.(queries)
	if !ok || qs.tx == nil {
		return nil, false
	}
	qs.tx.wrote = true
	return qs.tx.tx, true
}

// queries wraps generated queries with translation and hooks; its methods are
// generated (store_gen.go).
type queries struct {
	q        sqlc.Querier // the primary, or the transaction
	replicas *Replicas    // nil in a transaction and without replicas
	hooks    []QueryHook
	tx       *txState // nil outside a transaction
}

// txState is what a transaction's queries tell its InTx.
type txState struct {
	wrote bool   // a query that is not read-only ran
	tx    pgx.Tx // the transaction, for TxOf
}

// wrote records that a query that is not read-only ran, when err is nil, and
// returns err: in a transaction it marks the transaction; outside one it advances
// the context's session.
func (q queries) wrote(ctx context.Context, err error) error {
	switch {
	case err != nil:
	case q.tx != nil:
		q.tx.wrote = true
	case q.replicas != nil:
		q.replicas.recordWrite(ctx)
	}
	return err
}

// start runs the hooks' Start for query name and returns the context to run it
// with and the time it started (zero without hooks), to hand to end.
func (q queries) start(ctx context.Context, name string) (context.Context, time.Time) {
	if len(q.hooks) == 0 {
		return ctx, time.Time{}
	}
	for _, h := range q.hooks {
		if h.Start != nil {
			ctx = h.Start(ctx, name)
		}
	}
	return ctx, time.Now()
}

// end finishes query name that start began at started: it translates err, tells
// the hooks' End (in reverse order) and returns it.
func (q queries) end(ctx context.Context, name string, started time.Time, err error) error {
	err = Translate(err)
	if len(q.hooks) == 0 {
		return err
	}
	elapsed := time.Since(started)
	for i := len(q.hooks) - 1; i >= 0; i-- {
		if h := q.hooks[i]; h.End != nil {
			h.End(ctx, name, elapsed, err)
		}
	}
	return err
}
