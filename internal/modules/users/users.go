package users

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/quarrydev/quarry/internal/account"
	"github.com/quarrydev/quarry/internal/core/authn"
	"github.com/quarrydev/quarry/internal/core/httpx"
	"github.com/quarrydev/quarry/internal/core/module"
	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/db/sqlc"
)

// customize sets what is particular to users. Accounts are created by
// internal/account, which hashes the password, and deactivated rather than deleted;
// only admins change role and is_active (from anyone else they are ignored); the
// last active admin can be neither demoted nor deactivated: an update that may take
// away an admin locks the active admins first, as account does, and is refused when
// none would be left (409 last_admin).
func (m *Module) customize() {
	m.rules.BeforeUpdate = func(ctx context.Context, _ *Service, q db.Querier, in *UpdateUserRequest) error {
		if p, _ := authn.PrincipalFrom(ctx); !p.IsAdmin() {
			in.Role, in.IsActive = httpx.Optional[string]{}, httpx.Optional[bool]{}
		}
		if !in.Role.Set && !in.IsActive.Set {
			return nil
		}
		return account.LockAdmins(ctx, q)
	}
	m.rules.AfterWrite = func(ctx context.Context, _ *Service, q db.Querier, before *sqlc.User, after sqlc.User) error {
		if before == nil {
			return nil
		}
		return account.KeepAdmin(ctx, q, *before, after)
	}
	m.rules.Statuses = map[string][]int{"updateUser": {http.StatusConflict}}
	m.rules.Describe = map[string]string{
		"updateUser": "Changes only the fields given. Users may change their own display_name; " +
			"role and is_active are changed only by admins and ignored from anyone else. " +
			"409 last_admin when the change would leave no active admin.",
	}
	m.rules.Routes = func(deps module.Deps, _ *Service) []httpx.Route {
		h := &accounts{svc: account.New(deps.Store, deps.Passwords, deps.Log)}
		admin := []gin.HandlerFunc{deps.Guard.RequireAuth(), authn.RequireRole(authn.RoleAdmin)}
		return []httpx.Route{
			{
				Method: http.MethodPost, OperationID: "createUser", Summary: "Create a user",
				Description: "Admins only. Creates an active user with role user (sign-up is POST /api/v1/auth/register). Emails are unique ignoring case; " +
					"the password is stored as an argon2id hash and never returned. " +
					"Answers 503 with Retry-After when password hashing is saturated.",
				Status: http.StatusCreated, Errors: []int{http.StatusConflict, http.StatusUnauthorized, http.StatusForbidden},
				Deps: admin, Secured: true,
				Endpoint: httpx.Handle(h.create),
			},
			{
				Method: http.MethodGet, Path: "/by-email", OperationID: "getUserByEmail", Summary: "Find a user by email",
				Description: "Looks the user up by the email query parameter, compared ignoring case. " +
					"A path of its own rather than a list filter, because an email names at most one user.",
				Errors: []int{http.StatusNotFound, http.StatusUnauthorized, http.StatusForbidden}, Deps: admin, Secured: true,
				Endpoint: httpx.Handle(h.getByEmail),
			},
			{
				Method: http.MethodPost, Path: "/:id/deactivate", OperationID: "deactivateUser", Summary: "Deactivate a user",
				Description: "Sets is_active to false; deactivating an inactive user changes nothing. " +
					"409 last_admin for the last active admin.",
				Errors: []int{http.StatusNotFound, http.StatusConflict, http.StatusUnauthorized, http.StatusForbidden}, Deps: admin, Secured: true,
				Endpoint: httpx.Handle(h.deactivate),
			},
		}
	}
}

// CreateUserRequest creates a user.
type CreateUserRequest struct {
	Email       string `json:"email" binding:"required,email,max=254" doc:"unique ignoring case; stored as given"`
	DisplayName string `json:"display_name" binding:"required,max=100"`
	Password    string `json:"password" binding:"required,min=12,max=256" doc:"write-only; stored as an argon2id hash"`
}

// UserEmail finds a user by email.
type UserEmail struct {
	Email string `form:"email" binding:"required,email,max=254" doc:"email address, compared ignoring case"`
}

// accounts serves the routes that go through the account rules.
type accounts struct{ svc *account.Service }

func (h *accounts) create(c *gin.Context, in *CreateUserRequest) (User, error) {
	u, err := h.svc.Create(c.Request.Context(), account.CreateInput{Email: in.Email, DisplayName: in.DisplayName, Password: in.Password})
	return User(u), err
}

func (h *accounts) getByEmail(c *gin.Context, in *UserEmail) (User, error) {
	u, err := h.svc.GetByEmail(c.Request.Context(), in.Email)
	return User(u), err
}

func (h *accounts) deactivate(c *gin.Context, in *UserID) (User, error) {
	u, err := h.svc.Deactivate(c.Request.Context(), in.ID)
	return User(u), err
}
