package httpx_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/quarrydev/quarry/internal/core/httpx"
	"github.com/quarrydev/quarry/internal/db"
)

func TestClassifyDatabaseFailures(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"pool exhausted", fmt.Errorf("%w: %w", db.ErrPoolExhausted, context.DeadlineExceeded), http.StatusServiceUnavailable, "database_busy"},
		{"server shutting down", fmt.Errorf("q: %w", &pgconn.PgError{Code: "57P01"}), http.StatusServiceUnavailable, "database_unavailable"},
		{"server starting", &pgconn.PgError{Code: "57P03"}, http.StatusServiceUnavailable, "database_unavailable"},
		{"connection broke", fmt.Errorf("db: begin transaction: %w", errors.Join(errors.New("read"), context.Canceled, &pgconn.PgError{Code: "08006"})), http.StatusServiceUnavailable, "database_unavailable"},
		{"request deadline", fmt.Errorf("q: %w", context.DeadlineExceeded), http.StatusGatewayTimeout, "timeout"},
		{"unknown", errors.New("boom"), http.StatusInternalServerError, "internal_error"},
	}
	for _, tt := range tests {
		e := httpx.Classify(tt.err)
		if got := httpx.Status(e.Kind); got != tt.status || e.Code != tt.code {
			t.Errorf("%s: Classify(%v) = %d %s, want %d %s", tt.name, tt.err, got, e.Code, tt.status, tt.code)
		}
	}
}
