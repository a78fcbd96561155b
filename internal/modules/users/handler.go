package users

import (
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/quarrydev/quarry/internal/core/auth"
	"github.com/quarrydev/quarry/internal/core/httpx"
)

// requireSelfOrAdmin is the dependency that lets a user act on their own account
// (path parameter param) and admins on any; others get 403. A malformed id is left
// to the endpoint's validation.
func requireSelfOrAdmin(param string) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, _ := auth.PrincipalFrom(c.Request.Context())
		id, err := strconv.ParseInt(c.Param(param), 10, 64)
		if err == nil && !p.IsAdmin() && p.UserID != id {
			httpx.Fail(c, auth.ErrForbidden)
			return
		}
		c.Next()
	}
}

// handler adapts HTTP requests to the Service: bind, call, map to DTOs.
type handler struct {
	svc *Service
}

func (h *handler) create(c *gin.Context, in *CreateUserRequest) (User, error) {
	u, err := h.svc.Create(c.Request.Context(), CreateInput{
		Email: in.Email, DisplayName: in.DisplayName, Password: in.Password,
	})
	return toUser(u), err
}

func (h *handler) get(c *gin.Context, in *UserID) (User, error) {
	u, err := h.svc.Get(c.Request.Context(), in.ID)
	return toUser(u), err
}

func (h *handler) getByEmail(c *gin.Context, in *UserEmail) (User, error) {
	u, err := h.svc.GetByEmail(c.Request.Context(), in.Email)
	return toUser(u), err
}

func (h *handler) list(c *gin.Context, in *ListUsersRequest) (UserList, error) {
	page, err := h.svc.List(c.Request.Context(), ListInput(*in))
	if err != nil {
		return UserList{}, err
	}
	out := UserList{Items: make([]User, len(page.Users)), Total: page.Total}
	for i, u := range page.Users {
		out.Items[i] = toUser(u)
	}
	if page.Next != "" {
		out.NextCursor = &page.Next
	}
	return out, nil
}

func (h *handler) update(c *gin.Context, in *UpdateUserRequest) (User, error) {
	if p, _ := auth.PrincipalFrom(c.Request.Context()); !p.IsAdmin() {
		in.Role, in.IsActive = nil, nil // only admins change roles and activation
	}
	u, err := h.svc.Update(c.Request.Context(), in.ID, UpdateInput{
		DisplayName: in.DisplayName, Role: in.Role, IsActive: in.IsActive,
	})
	return toUser(u), err
}

func (h *handler) deactivate(c *gin.Context, in *UserID) (User, error) {
	u, err := h.svc.Deactivate(c.Request.Context(), in.ID)
	return toUser(u), err
}
