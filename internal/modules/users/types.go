package users

import (
	"github.com/quarrydev/quarry/internal/account"
	"github.com/quarrydev/quarry/internal/core/paging"
)

// User is a user as clients see it: the account without its password hash.
type User account.User

// UserList is a page of users.
type UserList paging.Response[User]

// UserID addresses one user.
type UserID struct {
	ID int64 `uri:"id" binding:"gt=0" doc:"user id"`
}

// UserEmail finds a user by email.
type UserEmail struct {
	Email string `form:"email" binding:"required,email,max=254" doc:"email address, compared ignoring case"`
}

// CreateUserRequest creates a user.
type CreateUserRequest struct {
	Email       string `json:"email" binding:"required,email,max=254" doc:"unique ignoring case; stored as given"`
	DisplayName string `json:"display_name" binding:"required,max=100"`
	Password    string `json:"password" binding:"required,min=12,max=256" doc:"write-only; stored as an argon2id hash"`
}

// UpdateUserRequest changes the fields it gives and leaves the others as they are.
type UpdateUserRequest struct {
	ID          int64   `uri:"id" binding:"gt=0" doc:"user id"`
	DisplayName *string `json:"display_name" binding:"omitnil,min=1,max=100"`
	Role        *string `json:"role" binding:"omitnil,oneof=user admin"`
	IsActive    *bool   `json:"is_active"`
}

// ListUsersRequest selects a page of users.
type ListUsersRequest struct {
	Limit    int     `form:"limit" binding:"omitempty,min=1" doc:"page size; at most USERS_MAX_PAGE_SIZE (default 100), larger is rejected"`
	Cursor   string  `form:"cursor" binding:"max=1024" doc:"next_cursor of the previous page"`
	Role     *string `form:"role" binding:"omitnil,oneof=user admin"`
	IsActive *bool   `form:"is_active"`
	Sort     string  `form:"sort" binding:"omitempty,oneof=created_at -created_at id -id" doc:"sort key, - for descending; default -created_at"`
	Total    bool    `form:"total" doc:"also count the matching users, up to 10000 (a total of 10000 means at least that many)"`
}
