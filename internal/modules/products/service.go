package products

import (
	"context"
	"time"

	"github.com/quarrydev/quarry/internal/core/apperr"
	"github.com/quarrydev/quarry/internal/core/crud"
	"github.com/quarrydev/quarry/internal/core/paging"
	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/db/sqlc"
)

// Service holds the products rules on top of the generated queries; every change is
// written in one transaction with its audit event (product.create, product.update,
// product.delete). Stock changes made by orders are the orders module's.
type Service struct {
	products *crud.Resource[sqlc.Product]
	list     *paging.Resource[filter, sqlc.Product]
	cursors  *db.CursorCodec
	cfg      *Config
}

// NewService returns a Service reading and writing through store.
func NewService(store *db.Store, cursors *db.CursorCodec, cfg *Config) *Service {
	return &Service{products: &crud.Resource[sqlc.Product]{
		Store: store, Type: "product", ID: func(p sqlc.Product) int64 { return p.ID },
		Get: func(ctx context.Context, q db.Querier, id int64) (sqlc.Product, error) { return q.GetProduct(ctx, id) },
		Lock: func(ctx context.Context, q db.Querier, id int64) (sqlc.Product, error) {
			return q.GetProductForUpdate(ctx, id)
		},
		NotFound: ErrProductNotFound,
		Violations: map[db.Constraint]*apperr.Error{
			db.ConstraintProductsSkuKey:          ErrSKUTaken,
			db.ConstraintOrderItemsProductIDFkey: ErrProductOrdered,
		},
	}, list: listing(), cursors: cursors, cfg: cfg}
}

// Create inserts a product. Errors: ErrSKUTaken; the audit log's.
func (s *Service) Create(ctx context.Context, in *CreateProductRequest) (sqlc.Product, error) {
	return s.products.Create(ctx, "", func(q db.Querier) (sqlc.Product, error) {
		return q.CreateProduct(ctx, sqlc.CreateProductParams{Sku: in.SKU, Name: in.Name, Price: *in.Price, Stock: in.Stock})
	})
}

// Get returns product id. Errors: ErrProductNotFound.
func (s *Service) Get(ctx context.Context, id int64) (sqlc.Product, error) {
	return s.products.Find(ctx, id)
}

// Update changes the fields in gives; without any it changes and records nothing.
// Errors: ErrProductNotFound, ErrSKUTaken; the audit log's.
func (s *Service) Update(ctx context.Context, in *UpdateProductRequest) (sqlc.Product, error) {
	return s.products.Change(ctx, "", in.ID, func(q db.Querier, before sqlc.Product) (sqlc.Product, bool, error) {
		if in.SKU == nil && in.Name == nil && in.Price == nil && in.Stock == nil {
			return before, false, nil
		}
		p, err := q.UpdateProduct(ctx, sqlc.UpdateProductParams{ID: in.ID, Sku: in.SKU, Name: in.Name, Price: in.Price, Stock: in.Stock})
		return p, true, err
	})
}

// Delete removes product id. Errors: ErrProductNotFound, ErrProductOrdered; the
// audit log's.
func (s *Service) Delete(ctx context.Context, id int64) error {
	return s.products.Delete(ctx, id, func(q db.Querier, id int64) error {
		_, err := q.DeleteProduct(ctx, id)
		return err
	})
}

// filter narrows a list of products: products have no filters yet.
type filter struct{}

func params(a paging.After, n int32) sqlc.ListProductsByCreatedAtDescParams {
	return sqlc.ListProductsByCreatedAtDescParams{AfterCreatedAt: a.At, AfterID: a.ID, PageLimit: n}
}

// listing declares the list of products: its sort keys, the default first.
func listing() *paging.Resource[filter, sqlc.Product] {
	type query = func(ctx context.Context, q db.Querier, f filter, a paging.After, n int32) ([]sqlc.Product, error)
	var byCreatedAtDesc, byCreatedAtAsc, byIDDesc, byIDAsc query = func(ctx context.Context, q db.Querier, _ filter, a paging.After, n int32) ([]sqlc.Product, error) {
		return q.ListProductsByCreatedAtDesc(ctx, params(a, n))
	}, func(ctx context.Context, q db.Querier, _ filter, a paging.After, n int32) ([]sqlc.Product, error) {
		return q.ListProductsByCreatedAtAsc(ctx, sqlc.ListProductsByCreatedAtAscParams(params(a, n)))
	}, func(ctx context.Context, q db.Querier, _ filter, a paging.After, n int32) ([]sqlc.Product, error) {
		return q.ListProductsByIDDesc(ctx, sqlc.ListProductsByIDDescParams(params(a, n)))
	}, func(ctx context.Context, q db.Querier, _ filter, a paging.After, n int32) ([]sqlc.Product, error) {
		return q.ListProductsByIDAsc(ctx, sqlc.ListProductsByIDAscParams(params(a, n)))
	}
	return &paging.Resource[filter, sqlc.Product]{
		Sorts: []paging.Sort[filter, sqlc.Product]{
			{Key: "-created_at", Query: byCreatedAtDesc}, {Key: "created_at", Query: byCreatedAtAsc},
			{Key: "-id", Query: byIDDesc}, {Key: "id", Query: byIDAsc},
		},
		Position: func(p sqlc.Product) (time.Time, int64) { return p.CreatedAt, p.ID },
		Count: func(ctx context.Context, q db.Querier, _ filter, max int32) (int64, error) {
			return q.CountProducts(ctx, max)
		},
	}
}

// List returns a page of products in keyset order. Errors: those of
// paging.Resource.List.
func (s *Service) List(ctx context.Context, in *ListProductsRequest) (paging.Page[sqlc.Product], error) {
	req := paging.Request{Limit: in.Limit, Default: s.cfg.DefaultPageSize, Max: s.cfg.MaxPageSize, Cursor: in.Cursor, Sort: in.Sort, Total: in.Total}
	return s.list.List(ctx, s.products.Store, s.cursors, req, filter{})
}
