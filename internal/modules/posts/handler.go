package posts

import (
	"github.com/gin-gonic/gin"

	"github.com/quarrydev/quarry/internal/core/authn"
	"github.com/quarrydev/quarry/internal/core/httpx"
	"github.com/quarrydev/quarry/internal/core/paging"
	"github.com/quarrydev/quarry/internal/db/sqlc"
)

// handler adapts HTTP requests to the Service: bind, call, map to DTOs.
type handler struct {
	svc *Service
	// post holds the post loaded from the path by the route's dependencies.
	post httpx.Slot[sqlc.Post]
}

// viewer returns the caller as the service sees it.
func viewer(c *gin.Context) Viewer {
	p, _ := authn.PrincipalFrom(c.Request.Context())
	return Viewer{UserID: p.UserID, Admin: p.IsAdmin()}
}

func (h *handler) create(c *gin.Context, in *CreatePostRequest) (Post, error) {
	p, err := h.svc.Create(c.Request.Context(), viewer(c).UserID, in)
	return Post(p), err
}

func (h *handler) get(c *gin.Context, _ *PostID) (Post, error) { return Post(h.post.MustGet(c)), nil }

func (h *handler) list(c *gin.Context, in *ListPostsRequest) (PostList, error) {
	page, err := h.svc.List(c.Request.Context(), viewer(c), in)
	return PostList(paging.Respond(page, func(p sqlc.Post) Post { return Post(p) })), err
}

func (h *handler) update(c *gin.Context, in *UpdatePostRequest) (Post, error) {
	p, err := h.svc.Update(c.Request.Context(), in)
	return Post(p), err
}

func (h *handler) delete(c *gin.Context, in *PostID) (struct{}, error) {
	return struct{}{}, h.svc.Delete(c.Request.Context(), in.ID)
}

func (h *handler) bulkCreate(c *gin.Context, in *BulkCreateRequest) (BulkCreateResult, error) {
	n, err := h.svc.BulkCreate(c.Request.Context(), viewer(c).UserID, in.Items)
	return BulkCreateResult{Created: n}, err
}
