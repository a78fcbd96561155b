package users

import (
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/quarrydev/quarry/internal/account"
	"github.com/quarrydev/quarry/internal/core/apperr"
	"github.com/quarrydev/quarry/internal/core/authn"
	"github.com/quarrydev/quarry/internal/core/httpx"
	"github.com/quarrydev/quarry/internal/core/paging"
	"github.com/quarrydev/quarry/internal/db"
)

// requireSelfOrAdmin is the dependency that lets a user act on their own account
// (path parameter param) and admins on any; others get 403. A malformed id is left
// to the endpoint's validation.
func requireSelfOrAdmin(param string) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, _ := authn.PrincipalFrom(c.Request.Context())
		id, err := strconv.ParseInt(c.Param(param), 10, 64)
		if err == nil && !p.IsAdmin() && p.UserID != id {
			httpx.Fail(c, apperr.ErrForbidden)
			return
		}
		c.Next()
	}
}

// handler adapts HTTP requests to the account rules: bind, call, map to DTOs.
type handler struct {
	accounts *account.Service
	cursors  *db.CursorCodec
	cfg      *Config
}

func (h *handler) create(c *gin.Context, in *CreateUserRequest) (User, error) {
	u, err := h.accounts.Create(c.Request.Context(), account.CreateInput{
		Email: in.Email, DisplayName: in.DisplayName, Password: in.Password,
	})
	return User(u), err
}

func (h *handler) get(c *gin.Context, in *UserID) (User, error) {
	u, err := h.accounts.Get(c.Request.Context(), in.ID)
	return User(u), err
}

func (h *handler) getByEmail(c *gin.Context, in *UserEmail) (User, error) {
	u, err := h.accounts.GetByEmail(c.Request.Context(), in.Email)
	return User(u), err
}

func (h *handler) list(c *gin.Context, in *ListUsersRequest) (UserList, error) {
	page, err := h.accounts.List(c.Request.Context(), h.cursors, paging.Request{
		Limit: in.Limit, Default: h.cfg.DefaultPageSize, Max: h.cfg.MaxPageSize,
		Cursor: in.Cursor, Sort: in.Sort, Total: in.Total,
	}, account.Filter{Role: in.Role, IsActive: in.IsActive})
	return UserList(paging.Respond(page, func(u account.User) User { return User(u) })), err
}

func (h *handler) update(c *gin.Context, in *UpdateUserRequest) (User, error) {
	if p, _ := authn.PrincipalFrom(c.Request.Context()); !p.IsAdmin() {
		in.Role, in.IsActive = nil, nil // only admins change roles and activation
	}
	u, err := h.accounts.Update(c.Request.Context(), in.ID, account.UpdateInput{
		DisplayName: in.DisplayName, Role: in.Role, IsActive: in.IsActive,
	})
	return User(u), err
}

func (h *handler) deactivate(c *gin.Context, in *UserID) (User, error) {
	u, err := h.accounts.Deactivate(c.Request.Context(), in.ID)
	return User(u), err
}
