package posts

import "github.com/quarrydev/quarry/internal/core/apperr"

// Errors of the posts module.
var (
	ErrPostNotFound   = apperr.New(apperr.KindNotFound, "post_not_found", "post not found")
	ErrNotAuthor      = apperr.New(apperr.KindForbidden, "not_post_author", "only the author or an admin may change this post")
	ErrAuthorNotFound = apperr.Invalid(apperr.FieldError{Field: "author_id", Reason: "exists", Message: "author_id does not name an existing user"})
)
