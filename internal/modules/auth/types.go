package auth

import (
	"time"

	"github.com/quarrydev/quarry/internal/db/sqlc"
)

// User is an account as clients see it; the password hash never leaves the service.
type User struct {
	ID          int64     `json:"id"`
	Email       string    `json:"email"`
	DisplayName string    `json:"display_name"`
	Role        string    `json:"role" enum:"user,admin"`
	IsActive    bool      `json:"is_active"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// toUser maps a row to its DTO, leaving out the password hash.
func toUser(u sqlc.User) User {
	return User{
		ID:          u.ID,
		Email:       u.Email,
		DisplayName: u.DisplayName,
		Role:        u.Role,
		IsActive:    u.IsActive,
		CreatedAt:   u.CreatedAt,
		UpdatedAt:   u.UpdatedAt,
	}
}

// TokenTypeBearer is the token_type of every token response.
const TokenTypeBearer = "Bearer"

// Tokens is a signed-in session: a short-lived access token for the Authorization
// header and a long-lived, single-use refresh token to get the next pair.
type Tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token" doc:"single use: each refresh returns a new one, and using one twice ends the session"`
	TokenType    string `json:"token_type" enum:"Bearer"`
	ExpiresIn    int64  `json:"expires_in" doc:"lifetime of the access token in seconds"`
}

func toTokens(s Session) Tokens {
	return Tokens{
		AccessToken:  s.AccessToken,
		RefreshToken: s.RefreshToken,
		TokenType:    TokenTypeBearer,
		ExpiresIn:    int64(s.AccessTTL / time.Second),
	}
}

// RegisterRequest creates an account.
type RegisterRequest struct {
	Email       string `json:"email" binding:"required,email,max=254" doc:"unique ignoring case; stored as given"`
	Password    string `json:"password" binding:"required,min=12,max=256" doc:"write-only; stored as an argon2id hash"`
	DisplayName string `json:"display_name" binding:"required,max=100"`
}

// LoginRequest signs in with an email and a password.
type LoginRequest struct {
	Email    string `json:"email" binding:"required,email,max=254" doc:"compared ignoring case"`
	Password string `json:"password" binding:"required,max=256"`
}

// RefreshRequest carries a refresh token.
type RefreshRequest struct {
	RefreshToken string `json:"refresh_token" binding:"required,max=512"`
}

// ChangePasswordRequest replaces the caller's password.
type ChangePasswordRequest struct {
	CurrentPassword string `json:"current_password" binding:"required,max=256"`
	NewPassword     string `json:"new_password" binding:"required,min=12,max=256"`
}
