// Package audit is the audit module: administrators read the audit log, newest first,
// filtered by actor, action, resource and time.
//
// The log itself is written by internal/core/audit, in the transaction of every
// change any module makes, whether or not this module is enabled: disabling it only
// removes the read API.
package audit

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/quarrydev/quarry/internal/core/authn"
	"github.com/quarrydev/quarry/internal/core/httpx"
	"github.com/quarrydev/quarry/internal/core/module"
)

// Module is the audit module.
type Module struct {
	module.Base
	cfg *Config
}

// New returns the audit module with its default configuration.
func New() *Module {
	cfg := defaultConfig()
	return &Module{Base: module.NewBase("audit", "The audit log of every change: who did what to which resource, when, from where, before and after.", cfg), cfg: cfg}
}

// Routes implements module.Module.
func (m *Module) Routes(deps module.Deps) ([]httpx.Route, error) {
	h := &handler{svc: NewService(deps.Store, deps.Cursors, m.cfg)}
	admin := []gin.HandlerFunc{deps.Guard.RequireAuth(), authn.RequireRole(authn.RoleAdmin)}
	return []httpx.Route{
		{
			Method: http.MethodGet, OperationID: "listAuditEvents", Summary: "List audit events",
			Description: "Admins only. Newest first, in keyset pages: pass next_cursor back as cursor; a cursor only " +
				"works with the filters it was issued for. Filters combine with AND; from is inclusive, to " +
				"exclusive (RFC 3339). resource_id needs resource_type. before and after are the resource's " +
				fmt.Sprintf("state as JSON objects with secrets replaced by %q.", redacted),
			Errors: []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden},
			Deps:   admin, Secured: true,
			Endpoint: httpx.Handle(h.list),
		},
	}, nil
}
