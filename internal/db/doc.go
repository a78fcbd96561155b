// Package db is the hand-written part of the data layer. It sits between the
// services and the generated queries in package sqlc and provides:
//
//   - [Pool], a pgx connection pool built from a [PoolConfig] whose acquire
//     wait is bounded ([ErrPoolExhausted]); it implements sqlc's DBTX, so
//     sqlc.New(pool) works directly.
//   - [InTx] and [Pool.InTx], which run a function in a transaction, roll back
//     on error or panic and retry serialization failures and deadlocks.
//   - [Translate], which turns PostgreSQL and pgx errors into a small error
//     vocabulary ([ErrNotFound], [ErrConflict], [ErrForeignKey], [ErrCheck],
//     [ErrInvalidInput], [ErrCanceled]) carried by [*Error].
//   - [CursorCodec], which seals keyset pagination positions into opaque,
//     tamper-proof strings.
//
// Typical use in a service:
//
//	err := pool.InTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
//		q := sqlc.New(tx)
//		// ... several queries ...
//		return nil
//	})
//	return db.Translate(err)
//
// Nothing in this package formats SQL text or query parameter values into
// error messages.
package db
