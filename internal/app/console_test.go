package app_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/quarrydev/quarry/internal/app/apptest"
	"github.com/quarrydev/quarry/internal/jobs"
)

// failingArgs is a job that always fails.
type failingArgs struct{}

func (failingArgs) Kind() string { return "test_always_fails" }

// console sends a request to the server's jobs console, which is not part of the API
// document (it serves River's UI to browsers), so the exchange is not checked against it.
func console(s *apptest.Server, method, path, body string, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	s.App.Handler().ServeHTTP(rec, req)
	return rec
}

func TestJobsConsole(t *testing.T) {
	s := apptest.New(t, apptest.Options{})
	admin := s.Bearer(t, s.SeedUser(t, "admin@example.com", "admin"))
	user := s.Bearer(t, s.SeedUser(t, "user@example.com", "user"))

	// A job fails on a worker (another process as far as the server knows) and is
	// discarded after its one attempt.
	ctx := context.Background()
	worker, err := jobs.New(s.App.Pool(), s.App.Store(), jobs.Config{
		Work: true, Queues: map[string]int{jobs.QueueDefault: 1, jobs.QueueMaintenance: 1}, PollInterval: 50 * time.Millisecond,
		Register: func(w *river.Workers) error {
			return river.AddWorkerSafely(w, river.WorkFunc(func(context.Context, *river.Job[failingArgs]) error {
				return errors.New("the mail server said no")
			}))
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := worker.Insert(ctx, failingArgs{}, &river.InsertOpts{MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := worker.Start(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		row, err := s.App.Jobs().JobGet(ctx, res.Job.ID)
		if err != nil {
			t.Fatal(err)
		}
		if row.State == rivertype.JobStateDiscarded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job is %s after 30s, want discarded", row.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := jobs.Stop(stopCtx, worker); err != nil {
		t.Fatal(err)
	}

	id := strconv.FormatInt(res.Job.ID, 10)
	t.Run("an admin's bearer token sees the failed job and its error", func(t *testing.T) {
		r := console(s, http.MethodGet, "/admin/jobs/api/jobs/"+id, "", admin...)
		if r.Code != http.StatusOK || !strings.Contains(r.Body.String(), "the mail server said no") || !strings.Contains(r.Body.String(), "discarded") {
			t.Fatalf("status %d: %s", r.Code, r.Body)
		}
		r = console(s, http.MethodGet, "/admin/jobs/api/jobs?state=discarded&limit=10", "", admin...)
		if r.Code != http.StatusOK || !strings.Contains(r.Body.String(), "test_always_fails") {
			t.Fatalf("list: status %d: %s", r.Code, r.Body)
		}
	})
	t.Run("a non-admin gets 403", func(t *testing.T) {
		for _, path := range []string{"/admin/jobs/api/jobs?state=discarded", "/admin/jobs/"} {
			if r := console(s, http.MethodGet, path, "", user...); r.Code != http.StatusForbidden {
				t.Errorf("%s: status %d, want 403", path, r.Code)
			}
		}
		if r := console(s, http.MethodPost, "/admin/session", "", user...); r.Code != http.StatusForbidden || r.Header().Get("Set-Cookie") != "" {
			t.Errorf("sign-in of a non-admin: status %d, cookie %q", r.Code, r.Header().Get("Set-Cookie"))
		}
	})
	t.Run("anonymous: 401 for the API, the sign-in page for a browser", func(t *testing.T) {
		if r := console(s, http.MethodGet, "/admin/jobs/api/jobs", ""); r.Code != http.StatusUnauthorized {
			t.Errorf("API: status %d, want 401", r.Code)
		}
		r := console(s, http.MethodGet, "/admin/jobs/jobs?state=discarded", "", "Accept", "text/html")
		if r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/admin/login?next=%2Fadmin%2Fjobs%2Fjobs%3Fstate%3Ddiscarded" {
			t.Errorf("page: status %d, Location %q", r.Code, r.Header().Get("Location"))
		}
		r = console(s, http.MethodGet, "/admin/login", "")
		if r.Code != http.StatusOK || !strings.Contains(r.Body.String(), `<form id="signin">`) || !strings.Contains(r.Header().Get("Content-Security-Policy"), "script-src 'self';") {
			t.Errorf("sign-in page: status %d, CSP %q", r.Code, r.Header().Get("Content-Security-Policy"))
		}
	})
	t.Run("a browser signs in, reads the console and acts from its pages only", func(t *testing.T) {
		r := console(s, http.MethodPost, "/admin/session", "", admin...)
		if r.Code != http.StatusNoContent {
			t.Fatalf("sign-in: status %d: %s", r.Code, r.Body)
		}
		cookie := r.Result().Cookies()
		if len(cookie) != 1 || !cookie[0].HttpOnly || cookie[0].SameSite != http.SameSiteStrictMode || cookie[0].Path != "/admin/" || cookie[0].MaxAge <= 0 {
			t.Fatalf("cookie %+v, want one HttpOnly, SameSite=Strict cookie for /admin/", cookie)
		}
		jar := cookie[0].Name + "=" + cookie[0].Value

		page := console(s, http.MethodGet, "/admin/jobs/", "", "Cookie", jar, "Accept", "text/html")
		csp := page.Header().Get("Content-Security-Policy")
		if page.Code != http.StatusOK || !strings.Contains(page.Body.String(), "/admin/jobs/assets/") ||
			!strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "http") {
			t.Fatalf("console page: status %d, CSP %q", page.Code, csp)
		}

		retry := `{"ids":["` + id + `"]}`
		r = console(s, http.MethodPost, "/admin/jobs/api/jobs/retry", retry, "Cookie", jar, "Origin", "https://elsewhere.example", "Content-Type", "application/json")
		if r.Code != http.StatusForbidden || !strings.Contains(r.Body.String(), "cross_site_request") {
			t.Fatalf("cross-site retry: status %d: %s", r.Code, r.Body)
		}
		r = console(s, http.MethodPost, "/admin/jobs/api/jobs/retry", retry, "Cookie", jar, "Origin", "http://example.com", "Content-Type", "application/json")
		if r.Code != http.StatusOK {
			t.Fatalf("retry from the console: status %d: %s", r.Code, r.Body)
		}
		row, err := s.App.Jobs().JobGet(ctx, res.Job.ID)
		if err != nil || row.State != rivertype.JobStateAvailable {
			t.Fatalf("after retry the job is %v (%v), want available", row.State, err)
		}

		r = console(s, http.MethodDelete, "/admin/session", "", "Cookie", jar)
		if c := r.Result().Cookies(); r.Code != http.StatusNoContent || len(c) != 1 || c[0].MaxAge >= 0 {
			t.Fatalf("sign-out: status %d, cookies %+v", r.Code, c)
		}
	})
}
