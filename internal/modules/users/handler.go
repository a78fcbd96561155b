package users

import (
	"github.com/gin-gonic/gin"
)

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
	u, err := h.svc.Update(c.Request.Context(), in.ID, UpdateInput{
		DisplayName: in.DisplayName, Role: in.Role, IsActive: in.IsActive,
	})
	return toUser(u), err
}

func (h *handler) deactivate(c *gin.Context, in *UserID) (User, error) {
	u, err := h.svc.Deactivate(c.Request.Context(), in.ID)
	return toUser(u), err
}
