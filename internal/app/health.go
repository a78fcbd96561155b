package app

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/quarrydev/quarry/internal/core/apperr"
	"github.com/quarrydev/quarry/internal/core/httpx"
)

// Health is the payload of the health endpoints.
type Health struct {
	// Status is "alive" or "ready".
	Status string `json:"status"`
}

func notReady(reason string) *apperr.Error {
	return apperr.New(apperr.KindUnavailable, "not_ready", reason)
}

func (a *App) healthRoutes() []httpx.Route {
	return []httpx.Route{
		{
			Method: http.MethodGet, Path: "/livez", OperationID: "livez",
			Summary:     "Liveness",
			Description: "Answers 200 while the process runs.",
			Endpoint: httpx.Handle(func(*gin.Context, *struct{}) (Health, error) {
				return Health{Status: "alive"}, nil
			}),
		},
		{
			Method: http.MethodGet, Path: "/readyz", OperationID: "readyz",
			Summary:     "Readiness",
			Description: "Answers 200 when the primary database is reachable and has every migration applied; 503 with the reason otherwise, and while shutting down. Read replicas do not count: a failing one is taken out of rotation, not out of service.",
			Errors:      []int{http.StatusServiceUnavailable},
			Endpoint: httpx.Handle(func(c *gin.Context, _ *struct{}) (Health, error) {
				if err := a.readiness(c.Request.Context()); err != nil {
					return Health{}, err
				}
				return Health{Status: "ready"}, nil
			}),
		},
	}
}

// readiness returns nil when the app may take traffic, else a not_ready error.
func (a *App) readiness(ctx context.Context) error {
	if !a.ready.Load() {
		return notReady("the server is not serving (starting or shutting down)")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := a.pool.Ping(ctx); err != nil {
		a.log.WarnContext(ctx, "readiness: database unreachable", "error", err)
		return notReady("the database is unreachable")
	}
	if a.schema == nil || a.migrated.Load() {
		return nil
	}
	st, err := a.schema.Status(ctx, a.cfg.DatabaseURL)
	if err != nil {
		a.log.WarnContext(ctx, "readiness: migration status", "error", err)
		return notReady("the migration status cannot be read")
	}
	if !st.UpToDate() {
		if st.Failed != nil {
			return notReady("migration " + st.Failed.File + " failed: run `api migrate status`")
		}
		return notReady("migrations are pending: run `api migrate apply`")
	}
	// Once up to date, the database stays so for this binary.
	a.migrated.Store(true)
	return nil
}
