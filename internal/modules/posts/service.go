package posts

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/quarrydev/quarry/internal/core/apperr"
	"github.com/quarrydev/quarry/internal/core/audit"
	"github.com/quarrydev/quarry/internal/core/paging"
	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/db/sqlc"
)

// Service holds the posts business rules on top of the generated queries. Every
// change is written in one transaction with its audit event (internal/core/audit).
type Service struct {
	store   *db.Store
	cursors *db.CursorCodec
	cfg     *Config
	list    *paging.Resource[filter, sqlc.Post]
}

// NewService returns a Service reading and writing through store.
func NewService(store *db.Store, cursors *db.CursorCodec, cfg *Config) *Service {
	return &Service{store: store, cursors: cursors, cfg: cfg, list: listing()}
}

// Audit actions and resource type of the posts module.
const (
	resourcePost     = "post"
	actionCreate     = "post.create"
	actionUpdate     = "post.update"
	actionDelete     = "post.delete"
	actionBulkCreate = "post.bulk_create"
)

// Viewer is who asks: drafts are visible only to their author and to admins.
// The zero Viewer is an anonymous caller.
type Viewer struct {
	UserID int64
	Admin  bool
}

// CanSee reports whether v may read p: published posts are public, drafts belong to
// their author and admins.
func (v Viewer) CanSee(p sqlc.Post) bool {
	return p.Status == StatusPublished || v.Admin || (v.UserID != 0 && v.UserID == p.AuthorID)
}

// CanEdit reports whether v may change or delete p: its author or an admin.
func (v Viewer) CanEdit(p sqlc.Post) bool {
	return v.Admin || (v.UserID != 0 && v.UserID == p.AuthorID)
}

// Statuses a post may have.
const (
	StatusDraft     = "draft"
	StatusPublished = "published"
)

// CreateInput is a new post.
type CreateInput struct {
	AuthorID int64
	Title    string
	Body     string
	Status   string // "" means draft
}

// Create inserts a post and records post.create with the post as after. Errors:
// ErrAuthorNotFound when the author does not exist; the audit log's errors.
func (s *Service) Create(ctx context.Context, in CreateInput) (sqlc.Post, error) {
	var p sqlc.Post
	err := s.store.InTx(ctx, func(q db.Querier) error {
		var err error
		p, err = q.CreatePost(ctx, sqlc.CreatePostParams{
			AuthorID: in.AuthorID, Title: in.Title, Body: in.Body, Status: statusOrDraft(in.Status),
		})
		if err != nil {
			return translate(err)
		}
		return audit.Record(ctx, q, audit.Entry{
			Action: actionCreate, ResourceType: resourcePost, ResourceID: audit.ID(p.ID), After: p,
		})
	})
	if err != nil {
		return sqlc.Post{}, err
	}
	return p, nil
}

// Get returns the post id. Errors: ErrPostNotFound.
func (s *Service) Get(ctx context.Context, id int64) (sqlc.Post, error) {
	p, err := s.store.GetPost(ctx, id)
	if err != nil {
		return sqlc.Post{}, translate(err)
	}
	return p, nil
}

// UpdateInput holds the fields to change; nil fields stay as they are.
type UpdateInput struct {
	Title, Body, Status *string
}

// Update changes the given fields of post id, records post.update with the post
// before and after, and returns it. Without any field it returns the post unchanged
// and records nothing. Errors: ErrPostNotFound; the audit log's errors.
func (s *Service) Update(ctx context.Context, id int64, in UpdateInput) (sqlc.Post, error) {
	if in.Title == nil && in.Body == nil && in.Status == nil {
		return s.Get(ctx, id)
	}
	var p sqlc.Post
	err := s.store.InTx(ctx, func(q db.Querier) error {
		before, err := q.GetPostForUpdate(ctx, id)
		if err != nil {
			return translate(err)
		}
		p, err = q.UpdatePost(ctx, sqlc.UpdatePostParams{ID: id, Title: in.Title, Body: in.Body, Status: in.Status})
		if err != nil {
			return translate(err)
		}
		return audit.Record(ctx, q, audit.Entry{
			Action: actionUpdate, ResourceType: resourcePost, ResourceID: audit.ID(id), Before: before, After: p,
		})
	})
	if err != nil {
		return sqlc.Post{}, err
	}
	return p, nil
}

// Delete removes post id and records post.delete with the post as before. Errors:
// ErrPostNotFound; the audit log's errors.
func (s *Service) Delete(ctx context.Context, id int64) error {
	return s.store.InTx(ctx, func(q db.Querier) error {
		before, err := q.GetPostForUpdate(ctx, id)
		if err != nil {
			return translate(err)
		}
		if _, err := q.DeletePost(ctx, id); err != nil {
			return translate(err)
		}
		return audit.Record(ctx, q, audit.Entry{
			Action: actionDelete, ResourceType: resourcePost, ResourceID: audit.ID(id), Before: before,
		})
	})
}

// BulkCreate inserts posts with COPY, all or none, and records one post.bulk_create
// event for the batch (COPY does not return the new ids): its after holds the number
// of posts created and their authors. Errors: a validation error naming items when
// there are more than the configured maximum; ErrAuthorNotFound; the audit log's
// errors.
func (s *Service) BulkCreate(ctx context.Context, in []CreateInput) (int64, error) {
	if len(in) > s.cfg.MaxBulk {
		return 0, apperr.Invalid(apperr.FieldError{
			Field: "items", Reason: "max", Message: fmt.Sprintf("items must have at most %d items", s.cfg.MaxBulk),
		})
	}
	rows := make([]sqlc.CreatePostsParams, len(in))
	var authors []int64
	for i, p := range in {
		rows[i] = sqlc.CreatePostsParams{AuthorID: p.AuthorID, Title: p.Title, Body: p.Body, Status: statusOrDraft(p.Status)}
		if !slices.Contains(authors, p.AuthorID) {
			authors = append(authors, p.AuthorID)
		}
	}
	var n int64
	err := s.store.InTx(ctx, func(q db.Querier) error {
		var err error
		if n, err = q.CreatePosts(ctx, rows); err != nil {
			return translate(err)
		}
		return audit.Record(ctx, q, audit.Entry{
			Action: actionBulkCreate, ResourceType: resourcePost,
			After: bulkCreated{Count: n, AuthorIDs: authors},
		})
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// bulkCreated is the after of a post.bulk_create event.
type bulkCreated struct {
	Count     int64   `json:"count"`
	AuthorIDs []int64 `json:"author_ids"`
}

// ListInput selects a page of posts.
type ListInput struct {
	paging.Request
	AuthorID *int64
	Status   *string
	// Viewer decides which drafts are listed: all for admins, their own for authors
	// filtering on themselves, none otherwise.
	Viewer Viewer
}

// filter narrows a list of posts.
type filter struct {
	AuthorID *int64  `json:"a,omitempty"`
	Status   *string `json:"s,omitempty"`
}

// params are the parameters every list query of posts takes.
func (f filter) params(a paging.After, n int32) sqlc.ListPostsByCreatedAtDescParams {
	return sqlc.ListPostsByCreatedAtDescParams{AuthorID: f.AuthorID, Status: f.Status, AfterCreatedAt: a.At, AfterID: a.ID, PageLimit: n}
}

// listing declares the list of posts: its sort keys, the default first.
func listing() *paging.Resource[filter, sqlc.Post] {
	type sort = paging.Sort[filter, sqlc.Post]
	return &paging.Resource[filter, sqlc.Post]{
		Sorts: []sort{
			{Key: "-created_at", Query: func(ctx context.Context, q db.Querier, f filter, a paging.After, n int32) ([]sqlc.Post, error) {
				return q.ListPostsByCreatedAtDesc(ctx, f.params(a, n))
			}},
			{Key: "created_at", Query: func(ctx context.Context, q db.Querier, f filter, a paging.After, n int32) ([]sqlc.Post, error) {
				return q.ListPostsByCreatedAtAsc(ctx, sqlc.ListPostsByCreatedAtAscParams(f.params(a, n)))
			}},
			{Key: "-id", Query: func(ctx context.Context, q db.Querier, f filter, a paging.After, n int32) ([]sqlc.Post, error) {
				return q.ListPostsByIDDesc(ctx, sqlc.ListPostsByIDDescParams(f.params(a, n)))
			}},
			{Key: "id", Query: func(ctx context.Context, q db.Querier, f filter, a paging.After, n int32) ([]sqlc.Post, error) {
				return q.ListPostsByIDAsc(ctx, sqlc.ListPostsByIDAscParams(f.params(a, n)))
			}},
		},
		Position: func(p sqlc.Post) (time.Time, int64) { return p.CreatedAt, p.ID },
		Count: func(ctx context.Context, q db.Querier, f filter, max int32) (int64, error) {
			return q.CountPosts(ctx, sqlc.CountPostsParams{AuthorID: f.AuthorID, Status: f.Status, MaxCount: max})
		},
	}
}

// List returns a page of posts in keyset order; drafts of others are never listed
// (asking for them gives an empty page). Errors: those of paging.Resource.List.
func (s *Service) List(ctx context.Context, in ListInput) (paging.Page[sqlc.Post], error) {
	f := filter{AuthorID: in.AuthorID, Status: in.Status}
	in.Request.Default, in.Request.Max = s.cfg.DefaultPageSize, s.cfg.MaxPageSize
	if !in.Viewer.Admin && (in.AuthorID == nil || *in.AuthorID != in.Viewer.UserID) {
		in.Request.Empty = in.Status != nil && *in.Status != StatusPublished
		published := StatusPublished
		f.Status = &published
	}
	return s.list.List(ctx, s.store, s.cursors, in.Request, f)
}

func statusOrDraft(s string) string {
	if s == "" {
		return StatusDraft
	}
	return s
}

// translate maps database errors to the module's errors.
func translate(err error) error {
	switch {
	case errors.Is(err, db.ErrNotFound):
		return ErrPostNotFound.Wrap(err)
	case db.IsForeignKeyViolation(err, db.ConstraintPostsAuthorIDFkey):
		return ErrAuthorNotFound.Wrap(err)
	}
	return err
}
