package auth

import (
	"github.com/quarrydev/quarry/internal/core/audit"
	"github.com/quarrydev/quarry/internal/db/sqlc"
)

// Audit actions and resource type of the auth module. Every event is about an account
// (resource type user). The actor is the account once its credential is checked (a
// sign-in, a refresh, a sign-out, a password change by its signed-in owner) and nobody
// (NULL) for registrations and for failed sign-ins and refreshes, whose presenter is
// not known to be the account's owner.
const (
	resourceUser         = "user"
	actionRegister       = "auth.register"
	actionLogin          = "auth.login"
	actionRefresh        = "auth.refresh"
	actionLogout         = "auth.logout"
	actionPasswordChange = "auth.password_change"
)

// Reasons a failed event gives.
const (
	reasonRevoked = "revoked"
	reasonExpired = "expired"
	reasonReused  = "reused"
)

// sessionEvent is the after of sign-in, refresh and sign-out events. Session is the
// refresh token family id (an access token's sid claim), not a secret.
type sessionEvent struct {
	Session string `json:"session"`
	// Revoked counts the tokens a sign-out or a detected reuse revoked.
	Revoked int64 `json:"revoked,omitempty"`
	// Reason says why a refresh was refused.
	Reason string `json:"reason,omitempty"`
	// Grace marks a refresh that returned the successor of a token used moments
	// before (the reuse grace).
	Grace bool `json:"grace,omitempty"`
}

// loginFailure is the after of a failed sign-in.
type loginFailure struct {
	Email  string `json:"email"`
	Reason string `json:"reason"`
}

// refreshFailure is the failed auth.refresh event of rt, refused for reason, after
// revoking revoked tokens.
func refreshFailure(rt sqlc.RefreshToken, reason string, revoked int64) *audit.Entry {
	return &audit.Entry{
		Action: actionRefresh, ResourceType: resourceUser, ResourceID: audit.ID(rt.UserID), Outcome: audit.Failure,
		After: sessionEvent{Session: rt.FamilyID.String(), Revoked: revoked, Reason: reason},
	}
}
