// Package crud is the part of a resource's service that is the same for every
// table: read a row by id, and create, change or delete one atomically with its audit
// event, mapping the database's errors to the resource's. A module
// declares a Resource and keeps only its own rules.
package crud

import (
	"context"
	"errors"

	"github.com/quarrydev/quarry/internal/core/apperr"
	"github.com/quarrydev/quarry/internal/core/audit"
	"github.com/quarrydev/quarry/internal/db"
)

// Resource declares one table's rows of type R.
type Resource[R any] struct {
	Store *db.Store
	// Type is the audit resource type, e.g. "post"; the default actions are
	// <Type>.create, <Type>.update and <Type>.delete.
	Type string
	// ID returns a row's id.
	ID func(R) int64
	// Get reads row id; Lock reads it and locks it until the end of the transaction.
	Get, Lock func(ctx context.Context, q db.Querier, id int64) (R, error)
	// NotFound answers a missing row.
	NotFound *apperr.Error
	// Violations maps the constraints the resource's writes may violate to the errors
	// they mean to clients (a conflict, a field that fails validation, …).
	Violations map[db.Constraint]*apperr.Error
}

// Translate maps a store error to the resource's: NotFound for a missing row, the
// error of a violated constraint in Violations; other errors as they are.
func (r *Resource[R]) Translate(err error) error {
	if err == nil {
		return nil // before dbErr, which escapes to the heap
	}
	var dbErr *db.Error
	switch {
	case errors.Is(err, db.ErrNotFound) && r.NotFound != nil:
		return r.NotFound.Wrap(err)
	case errors.As(err, &dbErr) && r.Violations[db.Constraint(dbErr.Constraint)] != nil:
		return r.Violations[db.Constraint(dbErr.Constraint)].Wrap(err)
	}
	return err
}

// Find returns row id. Errors: NotFound; the store's.
func (r *Resource[R]) Find(ctx context.Context, id int64) (R, error) {
	row, err := r.Get(ctx, r.Store, id)
	return row, r.Translate(err)
}

// Create inserts a row with insert and records action (<Type>.create when empty)
// with the row as after, in one transaction. Errors: insert's, translated; the audit
// log's.
func (r *Resource[R]) Create(ctx context.Context, action string, insert func(q db.Querier) (R, error)) (R, error) {
	var row R
	err := r.Store.InTx(ctx, func(q db.Querier) error {
		var err error
		if row, err = insert(q); err != nil {
			return r.Translate(err)
		}
		return audit.Record(ctx, q, audit.Entry{
			Action: or(action, r.Type+".create"), ResourceType: r.Type, ResourceID: audit.ID(r.ID(row)), After: row,
		})
	})
	return row, err
}

// Insert runs insert, one statement that writes a row together with its audit event
// (e.g. an INSERT and the event's INSERT in a data-modifying WITH), and then after
// with the row, in one transaction. Without after, the statement runs alone outside a
// transaction, atomic on its own: one round trip. Errors: insert's and after's,
// translated.
func (r *Resource[R]) Insert(ctx context.Context, insert func(q db.Querier) (R, error), after func(q db.Querier, row R) error) (R, error) {
	if after == nil {
		row, err := insert(r.Store)
		return row, r.Translate(err)
	}
	var row R
	err := r.Store.InTx(ctx, func(q db.Querier) error {
		var err error
		if row, err = insert(q); err != nil {
			return r.Translate(err)
		}
		return r.Translate(after(q, row))
	})
	return row, err
}

// Change locks row id and calls apply with it; when apply reports a change, it
// records action (<Type>.update when empty) with the row before and after, in the
// same transaction. It returns the row as it is at the end. Errors: NotFound;
// apply's, translated; the audit log's.
func (r *Resource[R]) Change(ctx context.Context, action string, id int64, apply func(q db.Querier, before R) (after R, changed bool, err error)) (R, error) {
	var row R
	err := r.Store.InTx(ctx, func(q db.Querier) error {
		before, err := r.Lock(ctx, q, id)
		if err != nil {
			return r.Translate(err)
		}
		after, changed, err := apply(q, before)
		if err != nil || !changed {
			row = before
			return r.Translate(err)
		}
		row = after
		return audit.Record(ctx, q, audit.Entry{
			Action: or(action, r.Type+".update"), ResourceType: r.Type, ResourceID: audit.ID(id), Before: before, After: after,
		})
	})
	return row, err
}

// Delete locks row id, deletes it with del and records <Type>.delete with the row as
// before, in one transaction. Errors: NotFound; del's, translated; the audit log's.
func (r *Resource[R]) Delete(ctx context.Context, id int64, del func(q db.Querier, id int64) error) error {
	return r.Store.InTx(ctx, func(q db.Querier) error {
		before, err := r.Lock(ctx, q, id)
		if err != nil {
			return r.Translate(err)
		}
		if err := del(q, id); err != nil {
			return r.Translate(err)
		}
		return audit.Record(ctx, q, audit.Entry{
			Action: r.Type + ".delete", ResourceType: r.Type, ResourceID: audit.ID(id), Before: before,
		})
	})
}

func or(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
