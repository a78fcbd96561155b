package posts

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/quarrydev/quarry/internal/core/apperr"
	"github.com/quarrydev/quarry/internal/core/audit"
	"github.com/quarrydev/quarry/internal/core/crud"
	"github.com/quarrydev/quarry/internal/core/paging"
	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/db/sqlc"
	"github.com/quarrydev/quarry/internal/jobs"
)

// Statuses a post may have.
const (
	StatusDraft     = "draft"
	StatusPublished = "published"
)

// Service holds the posts rules on top of the generated queries; every change is
// written in one transaction with its audit event (post.create, post.update,
// post.delete, post.bulk_create), and a publication with the job announcing it
// (PublishedArgs).
type Service struct {
	posts   *crud.Resource[sqlc.Post]
	list    *paging.Resource[filter, sqlc.Post]
	cursors *db.CursorCodec
	cfg     *Config
	jobs    *jobs.Enqueuer // nil: publications are not announced
}

// NewService returns a Service reading and writing through store and enqueuing the
// announcements of publications with enq (nil for none, e.g. to build the route table).
func NewService(store *db.Store, cursors *db.CursorCodec, cfg *Config, enq *jobs.Enqueuer) *Service {
	return &Service{posts: &crud.Resource[sqlc.Post]{
		Store: store, Type: "post", ID: func(p sqlc.Post) int64 { return p.ID },
		Get: func(ctx context.Context, q db.Querier, id int64) (sqlc.Post, error) { return q.GetPost(ctx, id) },
		Lock: func(ctx context.Context, q db.Querier, id int64) (sqlc.Post, error) {
			return q.GetPostForUpdate(ctx, id)
		},
		NotFound: ErrPostNotFound, Violations: map[db.Constraint]*apperr.Error{db.ConstraintPostsAuthorIDFkey: ErrAuthorNotFound},
	}, list: listing(), cursors: cursors, cfg: cfg, jobs: enq}
}

// Viewer is who asks: drafts are visible only to their author and to admins. The
// zero Viewer is an anonymous caller.
type Viewer struct {
	UserID int64
	Admin  bool
}

// CanSee reports whether v may read p: published posts are public, drafts belong to
// their author and admins.
func (v Viewer) CanSee(p sqlc.Post) bool { return p.Status == StatusPublished || v.CanEdit(p) }

// CanEdit reports whether v may change or delete p: its author or an admin.
func (v Viewer) CanEdit(p sqlc.Post) bool {
	return v.Admin || (v.UserID != 0 && v.UserID == p.AuthorID)
}

// Create inserts a post by author (a draft unless in says otherwise); a published one
// is announced. Errors: ErrAuthorNotFound; the audit log's; the job queue's.
//
// The post and its post.create event are written by one statement, in one round trip;
// a published post's announcement joins them in one transaction.
func (s *Service) Create(ctx context.Context, author int64, in *CreatePostRequest) (sqlc.Post, error) {
	o := audit.OriginOf(ctx, 0)
	arg := sqlc.CreatePostAuditedParams{
		AuthorID: author, Title: in.Title, Body: in.Body, Status: statusOrDraft(in.Status),
		ActorID: o.ActorID, RequestID: o.RequestID, ClientIp: o.ClientIP, UserAgent: o.UserAgent,
	}
	var p sqlc.Post
	create := func(q db.Querier) error {
		row, err := q.CreatePostAudited(ctx, arg)
		p = sqlc.Post(row)
		return err
	}
	var err error
	if arg.Status == StatusPublished && s.jobs != nil {
		err = s.posts.Store.InTx(ctx, func(q db.Querier) error {
			if err := create(q); err != nil {
				return err
			}
			return s.announce(ctx, q, p.ID)
		})
	} else {
		err = create(s.posts.Store)
	}
	if err != nil {
		return sqlc.Post{}, s.posts.Translate(err)
	}
	return p, nil
}

// Get returns post id. Errors: ErrPostNotFound.
func (s *Service) Get(ctx context.Context, id int64) (sqlc.Post, error) { return s.posts.Find(ctx, id) }

// Update changes the fields in gives; without any it changes and records nothing. A
// draft that becomes published is announced. Errors: ErrPostNotFound; the audit
// log's; the job queue's.
func (s *Service) Update(ctx context.Context, in *UpdatePostRequest) (sqlc.Post, error) {
	return s.posts.Change(ctx, "", in.ID, func(q db.Querier, before sqlc.Post) (sqlc.Post, bool, error) {
		if in.Title == nil && in.Body == nil && in.Status == nil {
			return before, false, nil
		}
		p, err := q.UpdatePost(ctx, sqlc.UpdatePostParams{ID: in.ID, Title: in.Title, Body: in.Body, Status: in.Status})
		if err == nil && before.Status != StatusPublished && p.Status == StatusPublished {
			err = s.announce(ctx, q, p.ID)
		}
		return p, true, err
	})
}

// Delete removes post id. Errors: ErrPostNotFound; the audit log's.
func (s *Service) Delete(ctx context.Context, id int64) error {
	return s.posts.Delete(ctx, id, func(q db.Querier, id int64) error {
		_, err := q.DeletePost(ctx, id)
		return err
	})
}

// BulkCreate inserts posts by author with COPY, all or none, and records one
// post.bulk_create event whose after holds the count and author (COPY returns no
// ids). Errors: a validation error naming items above the configured maximum;
// ErrAuthorNotFound; the audit log's.
func (s *Service) BulkCreate(ctx context.Context, author int64, items []CreatePostRequest) (int64, error) {
	if len(items) > s.cfg.MaxBulk {
		return 0, apperr.Invalid(apperr.FieldError{
			Field: "items", Reason: "max", Message: fmt.Sprintf("items must have at most %d items", s.cfg.MaxBulk),
		})
	}
	rows := make([]sqlc.CreatePostsParams, len(items))
	for i, p := range items {
		rows[i] = sqlc.CreatePostsParams{AuthorID: author, Title: p.Title, Body: p.Body, Status: statusOrDraft(p.Status)}
	}
	var n int64
	err := s.posts.Store.InTx(ctx, func(q db.Querier) error {
		var err error
		if n, err = q.CreatePosts(ctx, rows); err != nil {
			return s.posts.Translate(err)
		}
		return audit.Record(ctx, q, audit.Entry{Action: "post.bulk_create", ResourceType: "post", After: struct {
			Count     int64   `json:"count"`
			AuthorIDs []int64 `json:"author_ids"`
		}{n, slices.Compact([]int64{author})}})
	})
	return n, err
}

// filter narrows a list of posts.
type filter struct {
	AuthorID *int64  `json:"a,omitempty"`
	Status   *string `json:"s,omitempty"`
}

func (f filter) params(a paging.After, n int32) sqlc.ListPostsByCreatedAtDescParams {
	return sqlc.ListPostsByCreatedAtDescParams{AuthorID: f.AuthorID, Status: f.Status, AfterCreatedAt: a.At, AfterID: a.ID, PageLimit: n}
}

// listing declares the list of posts: its sort keys, the default first.
func listing() *paging.Resource[filter, sqlc.Post] {
	type query = func(ctx context.Context, q db.Querier, f filter, a paging.After, n int32) ([]sqlc.Post, error)
	var byCreatedAtDesc, byCreatedAtAsc, byIDDesc, byIDAsc query = func(ctx context.Context, q db.Querier, f filter, a paging.After, n int32) ([]sqlc.Post, error) {
		return q.ListPostsByCreatedAtDesc(ctx, f.params(a, n))
	}, func(ctx context.Context, q db.Querier, f filter, a paging.After, n int32) ([]sqlc.Post, error) {
		return q.ListPostsByCreatedAtAsc(ctx, sqlc.ListPostsByCreatedAtAscParams(f.params(a, n)))
	}, func(ctx context.Context, q db.Querier, f filter, a paging.After, n int32) ([]sqlc.Post, error) {
		return q.ListPostsByIDDesc(ctx, sqlc.ListPostsByIDDescParams(f.params(a, n)))
	}, func(ctx context.Context, q db.Querier, f filter, a paging.After, n int32) ([]sqlc.Post, error) {
		return q.ListPostsByIDAsc(ctx, sqlc.ListPostsByIDAscParams(f.params(a, n)))
	}
	return &paging.Resource[filter, sqlc.Post]{
		Sorts: []paging.Sort[filter, sqlc.Post]{
			{Key: "-created_at", Query: byCreatedAtDesc}, {Key: "created_at", Query: byCreatedAtAsc},
			{Key: "-id", Query: byIDDesc}, {Key: "id", Query: byIDAsc},
		},
		Position: func(p sqlc.Post) (time.Time, int64) { return p.CreatedAt, p.ID },
		Count: func(ctx context.Context, q db.Querier, f filter, max int32) (int64, error) {
			return q.CountPosts(ctx, sqlc.CountPostsParams{AuthorID: f.AuthorID, Status: f.Status, MaxCount: max})
		},
	}
}

// List returns a page of posts for v in keyset order; drafts of others are never
// listed (asking for them gives an empty page). Errors: those of paging.Resource.List.
func (s *Service) List(ctx context.Context, v Viewer, in *ListPostsRequest) (paging.Page[sqlc.Post], error) {
	f := filter{AuthorID: in.AuthorID, Status: in.Status}
	req := paging.Request{Limit: in.Limit, Default: s.cfg.DefaultPageSize, Max: s.cfg.MaxPageSize, Cursor: in.Cursor, Sort: in.Sort, Total: in.Total}
	if !v.Admin && (in.AuthorID == nil || *in.AuthorID != v.UserID) {
		req.Empty = in.Status != nil && *in.Status != StatusPublished
		f.Status = new(string)
		*f.Status = StatusPublished
	}
	return s.list.List(ctx, s.posts.Store, s.cursors, req, f)
}

func statusOrDraft(s string) string {
	if s == "" {
		return StatusDraft
	}
	return s
}
