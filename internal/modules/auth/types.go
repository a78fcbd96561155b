package auth

import (
	"time"

	"github.com/quarrydev/quarry/internal/account"
)

// User is an account as clients see it, without its password hash.
type User account.User

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
