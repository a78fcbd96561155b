package posts

import (
	"context"
	"errors"

	"github.com/riverqueue/river"

	"github.com/quarrydev/quarry/internal/core/audit"
	"github.com/quarrydev/quarry/internal/core/module"
	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/db/sqlc"
	"github.com/quarrydev/quarry/internal/jobs"
)

// ActionPublicationDelivered is the audit action recording that a post's publication
// was announced.
const ActionPublicationDelivered = "post.publication_delivered"

// PublishedArgs is the job that announces a post's publication. It is enqueued in the
// transaction that publishes the post (created published, or changed to published),
// so a publication that rolls back announces nothing and one that commits is always
// announced.
type PublishedArgs struct {
	PostID int64 `json:"post_id"`
}

// Kind is the job kind, as stored in river_job.kind.
func (PublishedArgs) Kind() string { return "post_published" }

// InsertOpts puts the job on the default queue with up to 10 attempts.
func (PublishedArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: jobs.QueueDefault, MaxAttempts: 10}
}

// publishedWorker delivers publication announcements. Delivery is recorded as the
// audit event post.publication_delivered, written in one transaction with the job's
// completion: the record exists exactly once per announced publication, even when a
// worker dies mid-way and the job is retried. A notifier (webhook, mail) that must
// not repeat itself keys on the job id, which the record carries.
type publishedWorker struct {
	river.WorkerDefaults[PublishedArgs]
	store *db.Store
}

// Work records the delivery, unless the post was deleted or unpublished since (then
// there is nothing to announce and the job completes). Errors: the store's; River
// retries the job.
func (w *publishedWorker) Work(ctx context.Context, job *river.Job[PublishedArgs]) error {
	return w.store.InTx(ctx, func(q db.Querier) error {
		p, err := q.GetPost(ctx, job.Args.PostID)
		if errors.Is(err, db.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if p.Status != StatusPublished {
			return nil
		}
		err = audit.Record(ctx, q, audit.Entry{
			Action: ActionPublicationDelivered, ResourceType: "post", ResourceID: audit.ID(p.ID), ActorID: p.AuthorID,
			After: map[string]any{"job_id": job.ID, "title": p.Title, "attempt": job.Attempt},
		})
		if err != nil {
			return err
		}
		return jobs.CompleteInTx(ctx, q, job)
	})
}

// RegisterWorkers implements module.Worker.
func (m *Module) RegisterWorkers(w *river.Workers, deps module.Deps) error {
	return river.AddWorkerSafely(w, &publishedWorker{store: deps.Store})
}

// announce is the posts' Rules.AfterWrite: a post created published, or a draft that
// becomes published, is announced by a job enqueued in the write's transaction.
// Errors: the job queue's.
func announce(ctx context.Context, s *Service, q db.Querier, before *sqlc.Post, after sqlc.Post) error {
	if after.Status != StatusPublished || (before != nil && before.Status == StatusPublished) {
		return nil
	}
	return s.Enqueue(ctx, q, PublishedArgs{PostID: after.ID})
}
