// Package auth is the auth module: sign-up, sign-in with an email and a password,
// access tokens renewed with rotating single-use refresh tokens, sign-out, the
// current account and password changes.
//
// A sign-in starts a session: a family of refresh tokens, of which only the newest
// is usable. Every refresh uses up the presented token and returns the next one;
// presenting a used token again revokes the whole family. Access tokens name their
// family as the session id (claim sid).
//
// Sign-in attempts are throttled per account and client address (tight), per client
// address, and per account from all addresses (loose), before any
// database or hashing work, by the core rate limiter: in Redis, shared by every
// instance, when REDIS_URL is set.
package auth

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/quarrydev/quarry/internal/core/httpx"
	"github.com/quarrydev/quarry/internal/core/module"
	"github.com/quarrydev/quarry/internal/core/password"
	"github.com/quarrydev/quarry/internal/core/ratelimit"
)

// Module is the auth module.
type Module struct {
	module.Base
	cfg *Config
	// hasher is the password hasher of the last Routes call (for the module's tests).
	hasher *password.Hasher
}

// New returns the auth module with its default configuration.
func New() *Module {
	cfg := defaultConfig()
	return &Module{Base: module.NewBase("auth", "Sign-up, sign-in, token refresh, sign-out and password changes.", cfg), cfg: cfg}
}

// Routes implements module.Module. Login attempts are counted by deps.RateLimits
// (by an in-memory limiter of the module's own when it is nil). It fails when
// AUTH_LOGIN_PER_ACCOUNT or AUTH_LOGIN_PER_ADDRESS cannot be read, naming the key.
func (m *Module) Routes(deps module.Deps) ([]httpx.Route, error) {
	perAccount, perAddress, err := m.cfg.limits()
	if err != nil {
		return nil, err
	}
	pair, err := m.cfg.pairLimit()
	if err != nil {
		return nil, err
	}
	limiter := deps.RateLimits
	if limiter == nil {
		if limiter, err = ratelimit.NewLimiter(ratelimit.Options{}); err != nil {
			return nil, err
		}
	}
	limits := Limits{
		PerAccount: Shared{L: limiter, Policy: perAccount},
		PerAddress: Shared{L: limiter, Policy: perAddress},

		PerAccountAddress: Shared{L: limiter, Policy: pair},
	}
	m.hasher = deps.Passwords
	svc := NewService(deps.Store, deps.Passwords, deps.Tokens, limits, m.cfg.RefreshTokenTTL, deps.Log).
		WithReuseGrace(m.cfg.RefreshReuseGrace, deps.Tokens.DeriveKey("refresh token successor"))
	h := &handler{svc: svc}
	requireAuth := deps.Guard.RequireAuth()
	const throttled = "Attempts are limited per account from one client address (AUTH_LOGIN_PER_ACCOUNT_ADDRESS, " +
		"default 5/1m), per client address (AUTH_LOGIN_PER_ADDRESS, default 20/1m) and, loosely, per account from " +
		"all addresses (AUTH_LOGIN_PER_ACCOUNT, default 100/1m), so that wrong passwords sent from elsewhere do " +
		"not lock the owner out; over a limit the answer is 429 with Retry-After in seconds."
	return []httpx.Route{
		{
			Method: http.MethodPost, Path: "/register", OperationID: "register", Summary: "Create an account",
			Description: "Creates an active account with role user. Emails are unique ignoring case; the password " +
				"(12 to 256 characters) is stored as an argon2id hash and never returned. " +
				"Answers 503 with Retry-After when password hashing is saturated.",
			Status: http.StatusCreated, Errors: []int{http.StatusConflict},
			Endpoint: httpx.Handle(h.register),
		},
		{
			Method: http.MethodPost, Path: "/login", OperationID: "login", Summary: "Sign in",
			Description: "Checks the email and password and starts a session: an access token for the " +
				"Authorization header (Bearer) and a single-use refresh token. An unknown email, a wrong " +
				"password and a deactivated account get the same 401 invalid_credentials, in the same time. " +
				throttled,
			Errors:   []int{http.StatusUnauthorized, http.StatusTooManyRequests},
			Endpoint: httpx.Handle(h.login),
		},
		{
			Method: http.MethodPost, Path: "/refresh", OperationID: "refreshTokens", Summary: "Renew the tokens",
			Description: "Exchanges a refresh token for a new access token and a new refresh token; the one " +
				"presented is used up. Within AUTH_REFRESH_REUSE_GRACE (default 10s) of its use, the same " +
				"token gets the same new refresh token again (two tabs refreshing at once keep the session); " +
				"presenting a used refresh token later ends the session (every " +
				"token of it stops working): a client must keep only the newest. 401 invalid_refresh_token " +
				"for a token that is unknown, expired, revoked or used, or whose account is deactivated.",
			Errors:   []int{http.StatusUnauthorized},
			Endpoint: httpx.Handle(h.refresh),
		},
		{
			Method: http.MethodPost, Path: "/logout", OperationID: "logout", Summary: "Sign out",
			Description: "Ends the session of the refresh token: it and every other token of the session stop " +
				"working. Answers 204 whatever the token, so it reveals nothing about it. Access tokens " +
				"already issued stay valid until they expire (ACCESS_TOKEN_TTL).",
			Status: http.StatusNoContent, Endpoint: httpx.Handle(h.logout),
		},
		{
			Method: http.MethodGet, Path: "/me", OperationID: "getCurrentUser", Summary: "Get the signed-in account",
			Errors: []int{http.StatusUnauthorized}, Endpoint: httpx.Handle(h.me),
			Deps: []gin.HandlerFunc{requireAuth}, Secured: true,
		},
		{
			Method: http.MethodPost, Path: "/password", OperationID: "changePassword", Summary: "Change the password",
			Description: "Replaces the password after checking the current one (403 invalid_credentials when it " +
				"is wrong: the caller is signed in, so this is not a 401). Every other session of the " +
				"account is ended (their refresh tokens stop working; access tokens already issued to them " +
				"run until they expire, ACCESS_TOKEN_TTL); the caller's stays. Attempts count against " +
				"the login limits of the account.",
			Status:   http.StatusNoContent,
			Errors:   []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests},
			Endpoint: httpx.Handle(h.changePassword),
			Deps:     []gin.HandlerFunc{requireAuth}, Secured: true,
		},
	}, nil
}
