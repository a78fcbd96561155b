package posts_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/quarrydev/quarry/internal/app"
	"github.com/quarrydev/quarry/internal/app/apptest"
	"github.com/quarrydev/quarry/internal/core/module"
	"github.com/quarrydev/quarry/internal/jobs"
	"github.com/quarrydev/quarry/internal/modules/posts"
)

// publishedJobs returns the ids of the post_published jobs, by post id.
func publishedJobs(t *testing.T, srv *apptest.Server) map[int64][]int64 {
	t.Helper()
	rows, err := srv.App.Pool().Query(context.Background(), `SELECT id, (args->>'post_id')::bigint FROM river_job WHERE kind = 'post_published' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64][]int64{}
	for rows.Next() {
		var id, post int64
		if err := rows.Scan(&id, &post); err != nil {
			t.Fatal(err)
		}
		out[post] = append(out[post], id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPublicationIsAnnouncedOnceByAJobOfItsTransaction(t *testing.T) {
	t.Parallel()
	srv := apptest.New(t, apptest.Options{})
	a := srv.SignIn(t, "author@example.com", "user")

	published := apptest.Expect[posts.Post](t, a.Do(http.MethodPost, "/api/v1/posts", map[string]any{"title": "Out now", "status": "published"}), http.StatusCreated).Data
	draft := apptest.Expect[posts.Post](t, a.Do(http.MethodPost, "/api/v1/posts", map[string]any{"title": "Not yet"}), http.StatusCreated).Data
	// A change that keeps a post published announces nothing more.
	apptest.Expect[posts.Post](t, a.Do(http.MethodPatch, "/api/v1/posts/"+strconv.FormatInt(published.ID, 10), map[string]any{"title": "Out now!"}), http.StatusOK)
	enqueued := publishedJobs(t, srv)
	if len(enqueued[published.ID]) != 1 || len(enqueued[draft.ID]) != 0 {
		t.Fatalf("jobs by post %v: want one for the published post, none for the draft", enqueued)
	}
	// Publishing the draft announces it.
	apptest.Expect[posts.Post](t, a.Do(http.MethodPatch, "/api/v1/posts/"+strconv.FormatInt(draft.ID, 10), map[string]any{"status": "published"}), http.StatusOK)
	enqueued = publishedJobs(t, srv)
	if len(enqueued[draft.ID]) != 1 {
		t.Fatalf("jobs by post %v: want one for the post published by an update", enqueued)
	}

	// A worker (as `api worker` builds it) delivers both, each recorded once with its job.
	mods := []module.Module{posts.New()}
	worker, err := jobs.New(srv.App.Pool(), srv.App.Store(), jobs.Config{
		Work: true, Queues: map[string]int{jobs.QueueDefault: 2, jobs.QueueMaintenance: 1}, PollInterval: 50 * time.Millisecond,
		Register: app.ModuleWorkers(mods, module.Deps{Store: srv.App.Store()}, nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := worker.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_ = jobs.Stop(stop, worker)
	})
	for post, ids := range enqueued {
		deadline := time.Now().Add(30 * time.Second)
		for {
			row, err := worker.JobGet(ctx, ids[0])
			if err != nil {
				t.Fatal(err)
			}
			if row.State == rivertype.JobStateCompleted {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("announcement of post %d is %s after 30s (errors %v)", post, row.State, row.Errors)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	delivered := map[string]int64{}
	for _, e := range auditOf(t, srv) {
		if e.Action != posts.ActionPublicationDelivered {
			continue
		}
		var after struct {
			JobID int64 `json:"job_id"`
		}
		if err := json.Unmarshal(e.After, &after); err != nil {
			t.Fatal(err)
		}
		if _, dup := delivered[*e.ResourceID]; dup {
			t.Errorf("post %s: delivery recorded twice", *e.ResourceID)
		}
		delivered[*e.ResourceID] = after.JobID
		if e.ActorID == nil || *e.ActorID != a.ID {
			t.Errorf("post %s: delivery recorded for actor %v, want the author %d", *e.ResourceID, e.ActorID, a.ID)
		}
	}
	for post, ids := range enqueued {
		if got := delivered[strconv.FormatInt(post, 10)]; got != ids[0] {
			t.Errorf("post %d: delivery recorded by job %d, want %d", post, got, ids[0])
		}
	}
}
