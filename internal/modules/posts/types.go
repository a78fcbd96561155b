package posts

import (
	"time"

	"github.com/quarrydev/quarry/internal/core/paging"
)

// Post is a post as clients see it.
type Post struct {
	ID        int64     `json:"id"`
	AuthorID  int64     `json:"author_id"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	Status    string    `json:"status" enum:"draft,published"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// PostList is a page of posts.
type PostList paging.Response[Post]

// PostID addresses one post.
type PostID struct {
	ID int64 `uri:"id" binding:"gt=0" doc:"post id"`
}

// CreatePostRequest creates a post; its author is the caller.
type CreatePostRequest struct {
	Title  string `json:"title" binding:"required,max=200"`
	Body   string `json:"body" binding:"max=100000"`
	Status string `json:"status" binding:"omitempty,oneof=draft published" doc:"default draft"`
}

// UpdatePostRequest changes the fields it gives and leaves the others as they are.
type UpdatePostRequest struct {
	ID     int64   `uri:"id" binding:"gt=0" doc:"post id"`
	Title  *string `json:"title" binding:"omitnil,min=1,max=200"`
	Body   *string `json:"body" binding:"omitnil,max=100000"`
	Status *string `json:"status" binding:"omitnil,oneof=draft published"`
}

// ListPostsRequest selects a page of posts.
type ListPostsRequest struct {
	Limit    int     `form:"limit" binding:"omitempty,min=1" doc:"page size; at most POSTS_MAX_PAGE_SIZE (default 100), larger is rejected"`
	Cursor   string  `form:"cursor" binding:"max=1024" doc:"next_cursor of the previous page"`
	AuthorID *int64  `form:"author_id" binding:"omitnil,gt=0"`
	Status   *string `form:"status" binding:"omitnil,oneof=draft published"`
	Sort     string  `form:"sort" binding:"omitempty,oneof=created_at -created_at id -id" doc:"sort key, - for descending; default -created_at"`
	Total    bool    `form:"total" doc:"also count the matching posts, up to 10000 (a total of 10000 means at least that many)"`
}

// BulkCreateRequest creates many posts at once.
type BulkCreateRequest struct {
	Items []CreatePostRequest `json:"items" binding:"required,min=1,dive"`
}

// BulkCreateResult reports how many posts a bulk create inserted.
type BulkCreateResult struct {
	Created int64 `json:"created"`
}
