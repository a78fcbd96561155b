// Package db is the hand-written part of the data layer. It sits between the
// services and the generated queries in package sqlc and provides:
//
//   - [Store], the one thing services use: every generated query ([Querier]) on
//     the pool, and [Store.InTx] for several of them in one transaction. Every
//     query's error is translated once, by a wrapper generated from the
//     Querier interface (store_gen.go, written by ./dbgen), and every query
//     is seen by the store's [QueryHook]s (metrics and spans by query name).
//   - [Replicas], the read replicas of the primary with their replay positions and
//     health kept current in the background; a store built with
//     [NewReplicatedStore] sends read-only queries made outside a transaction to
//     them, and a [Session] in the context makes a client's reads see its writes.
//   - [Pool], a pgx connection pool built from a [PoolConfig] whose acquire
//     wait is bounded ([ErrPoolExhausted]).
//   - [InTx], the transaction loop under Store.InTx: roll back on error or
//     panic, rerun serialization failures and deadlocks.
//   - [Translate], which turns PostgreSQL and pgx errors into a small error
//     vocabulary ([ErrNotFound], [ErrConflict], [ErrForeignKey], [ErrCheck],
//     [ErrInvalidInput], [ErrCanceled]) carried by [*Error].
//   - [CursorCodec], which seals keyset pagination positions into opaque,
//     tamper-proof strings.
//
// Typical use in a service:
//
//	err := store.InTx(ctx, func(q db.Querier) error {
//		p, err := q.GetPostForUpdate(ctx, id)
//		if errors.Is(err, db.ErrNotFound) {
//			return ErrPostNotFound.Wrap(err)
//		}
//		// ... more queries, audit.Record(ctx, q, …) ...
//		return err
//	})
//
// Nothing in this package formats SQL text or query parameter values into
// error messages.
package db
