package posts

import (
	"github.com/gin-gonic/gin"
)

// handler adapts HTTP requests to the Service: bind, call, map to DTOs.
type handler struct {
	svc *Service
}

func (h *handler) create(c *gin.Context, in *CreatePostRequest) (Post, error) {
	p, err := h.svc.Create(c.Request.Context(), CreateInput(*in))
	return toPost(p), err
}

func (h *handler) get(c *gin.Context, in *PostID) (Post, error) {
	p, err := h.svc.Get(c.Request.Context(), in.ID)
	return toPost(p), err
}

func (h *handler) list(c *gin.Context, in *ListPostsRequest) (PostList, error) {
	page, err := h.svc.List(c.Request.Context(), ListInput(*in))
	if err != nil {
		return PostList{}, err
	}
	out := PostList{Items: make([]Post, len(page.Posts)), Total: page.Total}
	for i, p := range page.Posts {
		out.Items[i] = toPost(p)
	}
	if page.Next != "" {
		out.NextCursor = &page.Next
	}
	return out, nil
}

func (h *handler) update(c *gin.Context, in *UpdatePostRequest) (Post, error) {
	p, err := h.svc.Update(c.Request.Context(), in.ID, UpdateInput{Title: in.Title, Body: in.Body, Status: in.Status})
	return toPost(p), err
}

func (h *handler) delete(c *gin.Context, in *PostID) (struct{}, error) {
	return struct{}{}, h.svc.Delete(c.Request.Context(), in.ID)
}

func (h *handler) bulkCreate(c *gin.Context, in *BulkCreateRequest) (BulkCreateResult, error) {
	items := make([]CreateInput, len(in.Items))
	for i, p := range in.Items {
		items[i] = CreateInput(p)
	}
	n, err := h.svc.BulkCreate(c.Request.Context(), items)
	return BulkCreateResult{Created: n}, err
}
