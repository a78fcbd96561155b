// Package users is the users module: accounts with an email, a display name, a role
// and an argon2id password hash that never leaves the service.
package users

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/quarrydev/quarry/internal/account"
	"github.com/quarrydev/quarry/internal/core/authn"
	"github.com/quarrydev/quarry/internal/core/httpx"
	"github.com/quarrydev/quarry/internal/core/module"
	"github.com/quarrydev/quarry/internal/core/paging"
)

// Module is the users module.
type Module struct {
	module.Base
	cfg *Config
}

// New returns the users module with its default configuration.
func New() *Module {
	cfg := defaultConfig()
	return &Module{Base: module.NewBase("users", "User accounts: profiles, roles and activation (sign-up is in auth).", cfg), cfg: cfg}
}

// Routes implements module.Module.
func (m *Module) Routes(deps module.Deps) ([]httpx.Route, error) {
	if err := paging.CheckSortTag(ListUsersRequest{}, account.Listing().Keys()); err != nil {
		return nil, err
	}
	h := &handler{accounts: account.New(deps.Store, deps.Passwords, deps.Log), cursors: deps.Cursors, cfg: m.cfg}
	admin := []gin.HandlerFunc{deps.Guard.RequireAuth(), authn.RequireRole(authn.RoleAdmin)}
	selfOrAdmin := []gin.HandlerFunc{deps.Guard.RequireAuth(), requireSelfOrAdmin("id")}
	adminOnly := []int{http.StatusUnauthorized, http.StatusForbidden}
	return []httpx.Route{
		{
			Method: http.MethodPost, OperationID: "createUser", Summary: "Create a user",
			Description: "Admins only. Creates an active user with role user (sign-up is POST /api/v1/auth/register). Emails are unique ignoring case; " +
				"the password is stored as an argon2id hash and never returned. " +
				"Answers 503 with Retry-After when password hashing is saturated.",
			Status: http.StatusCreated, Errors: append([]int{http.StatusConflict}, adminOnly...),
			Deps: admin, Secured: true,
			Endpoint: httpx.Handle(h.create),
		},
		{
			Method: http.MethodGet, OperationID: "listUsers", Summary: "List users",
			Description: "Keyset pagination: pass next_cursor back as cursor. A cursor only works with the sort and filters it was issued for.",
			Errors:      append([]int{http.StatusBadRequest}, adminOnly...),
			Deps:        admin, Secured: true,
			Endpoint: httpx.Handle(h.list),
		},
		{
			Method: http.MethodGet, Path: "/by-email", OperationID: "getUserByEmail", Summary: "Find a user by email",
			Description: "Looks the user up by the email query parameter, compared ignoring case. " +
				"A path of its own rather than a list filter, because an email names at most one user.",
			Errors: append([]int{http.StatusNotFound}, adminOnly...), Deps: admin, Secured: true,
			Endpoint: httpx.Handle(h.getByEmail),
		},
		{
			Method: http.MethodGet, Path: "/:id", OperationID: "getUser", Summary: "Get a user",
			Errors: append([]int{http.StatusNotFound}, adminOnly...), Deps: selfOrAdmin, Secured: true,
			Endpoint: httpx.Handle(h.get),
		},
		{
			Method: http.MethodPatch, Path: "/:id", OperationID: "updateUser", Summary: "Update a user",
			Description: "Changes only the fields given. Users may change their own display_name; " +
				"role and is_active are changed only by admins and ignored from anyone else. " +
				"409 last_admin when the change would leave no active admin.",
			Errors: append([]int{http.StatusNotFound, http.StatusConflict}, adminOnly...), Deps: selfOrAdmin, Secured: true,
			Endpoint: httpx.Handle(h.update),
		},
		{
			Method: http.MethodPost, Path: "/:id/deactivate", OperationID: "deactivateUser", Summary: "Deactivate a user",
			Description: "Sets is_active to false; deactivating an inactive user changes nothing. " +
				"409 last_admin for the last active admin.",
			Errors: append([]int{http.StatusNotFound, http.StatusConflict}, adminOnly...), Deps: admin, Secured: true,
			Endpoint: httpx.Handle(h.deactivate),
		},
	}, nil
}
