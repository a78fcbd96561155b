package users

import "github.com/quarrydev/quarry/internal/core/apperr"

// Errors of the users module.
var (
	ErrUserNotFound = apperr.New(apperr.KindNotFound, "user_not_found", "user not found")
	ErrEmailTaken   = apperr.New(apperr.KindConflict, "email_taken", "a user with this email already exists")
	ErrLastAdmin    = apperr.New(apperr.KindConflict, "last_admin", "the last active admin cannot be deactivated or demoted")
)
