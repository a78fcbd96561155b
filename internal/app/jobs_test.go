package app_test

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/quarrydev/quarry/internal/app"
	"github.com/quarrydev/quarry/internal/app/apptest"
)

// slowArgs is a job that runs until released or cancelled.
type slowArgs struct{}

func (slowArgs) Kind() string { return "test_slow" }

// served is an app serving with its workers, and a slowArgs job enqueued before.
type served struct {
	url     string        // the database
	id      int64         // the job
	sigterm func()        // what SIGTERM does in `api serve`
	done    chan error    // Serve's result
	started chan struct{} // the job started
	release chan struct{} // closing it lets the job finish
}

func serveWithWorkers(t *testing.T, shutdownTimeout string) served {
	t.Helper()
	cfg, mods := apptest.Config(t, apptest.Options{Env: map[string]string{
		"WORKERS_ENABLED": "true", "JOBS_POLL_INTERVAL": "50ms", "SHUTDOWN_TIMEOUT": shutdownTimeout,
	}})
	startedc, releasec := make(chan struct{}, 1), make(chan struct{})
	a, err := app.New(context.Background(), cfg, app.Options{Modules: mods, Log: slog.New(slog.DiscardHandler),
		JobWorkers: func(w *river.Workers) error {
			return river.AddWorkerSafely(w, river.WorkFunc(func(ctx context.Context, _ *river.Job[slowArgs]) error {
				startedc <- struct{}{}
				select {
				case <-releasec:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}))
		}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.Jobs().Insert(context.Background(), slowArgs{}, &river.InsertOpts{MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	donec := make(chan error, 1)
	go func() { donec <- a.Serve(ctx, ln) }()
	t.Cleanup(stop)
	return served{url: cfg.DatabaseURL, id: res.Job.ID, sigterm: stop, done: donec, started: startedc, release: releasec}
}

// jobState reads job id's state straight from the database (the app is closed).
func jobState(t *testing.T, url string, id int64) rivertype.JobState {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var state string
	if err := conn.QueryRow(context.Background(), `SELECT state::text FROM river_job WHERE id = $1`, id).Scan(&state); err != nil {
		t.Fatal(err)
	}
	return rivertype.JobState(state)
}

func TestServeWorksJobsAndShutdownLetsTheRunningOneFinish(t *testing.T) {
	t.Parallel()
	s := serveWithWorkers(t, "10s")
	<-s.started
	s.sigterm()
	select {
	case err := <-s.done:
		t.Fatalf("Serve returned while the job still ran: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	close(s.release)
	if err := <-s.done; err != nil {
		t.Fatalf("Serve = %v, want a clean shutdown", err)
	}
	if st := jobState(t, s.url, s.id); st != rivertype.JobStateCompleted {
		t.Fatalf("job is %s, want completed", st)
	}
}

func TestShutdownTimeoutCancelsTheRunningJobForARetry(t *testing.T) {
	t.Parallel()
	s := serveWithWorkers(t, "300ms")
	<-s.started
	s.sigterm()
	err := <-s.done
	if err == nil || !strings.Contains(err.Error(), "retried") {
		t.Fatalf("Serve = %v, want the error saying the job was cancelled and will be retried", err)
	}
	if st := jobState(t, s.url, s.id); st != rivertype.JobStateRetryable && st != rivertype.JobStateAvailable {
		t.Fatalf("job is %s, want retryable", st)
	}
}
