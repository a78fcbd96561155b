package authn

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/quarrydev/quarry/internal/core/apperr"
	"github.com/quarrydev/quarry/internal/core/httpx"
	"github.com/quarrydev/quarry/internal/core/reqctx"
)

// Roles.
const (
	RoleUser  = "user"
	RoleAdmin = "admin"
)

// Principal is the authenticated caller.
type Principal struct {
	UserID int64
	// Role is the user's current role, read from the database on every request.
	Role string
	// Session is the refresh token family the access token came from.
	Session string
}

// IsAdmin reports whether the caller is an administrator.
func (p Principal) IsAdmin() bool { return p.Role == RoleAdmin }

// PrincipalFrom returns the authenticated caller of ctx, which the Guard keeps on the
// request's reqctx.Info; false for anonymous requests and outside a request.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	if info, ok := reqctx.Lookup(ctx); ok {
		p, ok := info.Auth.(Principal)
		return p, ok
	}
	return Principal{}, false
}

// UserState returns the current role of user id and whether the user is active; a
// missing user is reported as inactive. It is the source of truth that makes
// deactivation and role changes take effect on the next request.
type UserState func(ctx context.Context, userID int64) (role string, active bool, err error)

// Guard authenticates requests with bearer access tokens.
type Guard struct {
	tokens *Tokens
	users  UserState
	// OnFailure, when set, is called for every rejected token (e.g. to count it).
	OnFailure func(reason string)
}

// NewGuard returns a Guard verifying tokens and checking users' current state.
func NewGuard(tokens *Tokens, users UserState) *Guard {
	return &Guard{tokens: tokens, users: users}
}

// RequireAuth is the dependency that demands a valid access token of an active user
// and puts the Principal in the request context; otherwise it answers 401 with
// WWW-Authenticate: Bearer.
func (g *Guard) RequireAuth() gin.HandlerFunc {
	return func(c *gin.Context) {
		if !g.authenticate(c, true) {
			return
		}
		c.Next()
	}
}

// OptionalAuth authenticates the request when it carries a token (an invalid token is
// still 401) and lets anonymous requests through.
func (g *Guard) OptionalAuth() gin.HandlerFunc {
	return func(c *gin.Context) {
		if !g.authenticate(c, false) {
			return
		}
		c.Next()
	}
}

// authenticate returns false when it answered the request.
func (g *Guard) authenticate(c *gin.Context, required bool) bool {
	raw, present := bearer(httpx.Header(c.Request, "Authorization"))
	if !present {
		if !required {
			return true
		}
		g.reject(c, "missing", errors.New("no bearer token"))
		return false
	}
	claims, userID, err := g.tokens.Verify(raw)
	if err != nil {
		g.reject(c, "invalid", err)
		return false
	}
	ctx := c.Request.Context()
	role, active, err := g.users(ctx, userID)
	if err != nil {
		httpx.Fail(c, fmt.Errorf("load user state: %w", err))
		return false
	}
	if !active {
		g.reject(c, "inactive", fmt.Errorf("user %d is inactive or gone", userID))
		return false
	}
	info, ok := reqctx.Lookup(ctx)
	if !ok {
		httpx.Fail(c, errors.New("authn: the request carries no reqctx.Info: middleware.Core must run before the guard"))
		return false
	}
	// The request's own Info carries the caller: no context layer and no copy of the
	// request for it.
	info.ActorID, info.Auth = userID, Principal{UserID: userID, Role: role, Session: claims.Session}
	return true
}

func (g *Guard) reject(c *gin.Context, reason string, err error) {
	if g.OnFailure != nil {
		g.OnFailure(reason)
	}
	c.Header("WWW-Authenticate", `Bearer realm="api"`)
	httpx.Fail(c, apperr.ErrUnauthorized.Wrap(err))
}

// bearer extracts the token of an "Authorization: Bearer <token>" header.
func bearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", header != ""
	}
	token = strings.TrimSpace(token)
	return token, true
}

// RequireRole is the dependency that answers 403 unless the authenticated caller has
// role. It must follow RequireAuth.
func RequireRole(role string) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, ok := PrincipalFrom(c.Request.Context())
		if !ok {
			httpx.Fail(c, apperr.ErrUnauthorized)
			return
		}
		if p.Role != role {
			httpx.Fail(c, apperr.ErrForbidden)
			return
		}
		c.Next()
	}
}

// Require is the dependency that checks a resource loaded earlier in the chain (see
// httpx.Load) against the caller: check returns nil to allow, or the error to answer
// with (typically apperr.ErrForbidden, or the resource's not-found error to hide it). It must
// follow RequireAuth or OptionalAuth; anonymous callers get a zero Principal.
func Require[T any](slot httpx.Slot[T], check func(p Principal, v T) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		v := slot.MustGet(c)
		p, _ := PrincipalFrom(c.Request.Context())
		if err := check(p, v); err != nil {
			httpx.Fail(c, err)
			return
		}
		c.Next()
	}
}
