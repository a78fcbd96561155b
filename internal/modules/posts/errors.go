package posts

import "github.com/quarrydev/quarry/internal/core/apperr"

// Errors of the posts module.
var (
	ErrPostNotFound   = apperr.New(apperr.KindNotFound, "post_not_found", "post not found")
	ErrAuthorNotFound = apperr.Invalid(apperr.FieldError{Field: "author_id", Reason: "exists", Message: "author_id does not name an existing user"})
)
