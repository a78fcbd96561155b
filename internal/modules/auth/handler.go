package auth

import (
	"errors"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/quarrydev/quarry/internal/core/apperr"
	"github.com/quarrydev/quarry/internal/core/authn"
	"github.com/quarrydev/quarry/internal/core/ratelimit"
)

// handler adapts HTTP requests to the Service: bind, call, map to DTOs.
type handler struct {
	svc *Service
}

func (h *handler) register(c *gin.Context, in *RegisterRequest) (User, error) {
	u, err := h.svc.Register(c.Request.Context(), RegisterInput{
		Email: in.Email, DisplayName: in.DisplayName, Password: in.Password,
	})
	return User(u), err
}

func (h *handler) login(c *gin.Context, in *LoginRequest) (Tokens, error) {
	s, err := h.svc.Login(c.Request.Context(), LoginInput{
		Email: in.Email, Password: in.Password, ClientAddr: c.ClientIP(),
	})
	return tokens(c, s, err)
}

func (h *handler) refresh(c *gin.Context, in *RefreshRequest) (Tokens, error) {
	s, err := h.svc.Refresh(c.Request.Context(), in.RefreshToken)
	return tokens(c, s, err)
}

func (h *handler) logout(c *gin.Context, in *RefreshRequest) (struct{}, error) {
	return struct{}{}, h.svc.Logout(c.Request.Context(), in.RefreshToken)
}

func (h *handler) me(c *gin.Context, _ *struct{}) (User, error) {
	p, err := principal(c)
	if err != nil {
		return User{}, err
	}
	u, err := h.svc.Me(c.Request.Context(), p.UserID)
	return User(u), err
}

func (h *handler) changePassword(c *gin.Context, in *ChangePasswordRequest) (struct{}, error) {
	p, err := principal(c)
	if err != nil {
		return struct{}{}, err
	}
	err = h.svc.ChangePassword(c.Request.Context(), ChangePasswordInput{
		UserID: p.UserID, Session: p.Session, Current: in.CurrentPassword, New: in.NewPassword,
		ClientAddr: c.ClientIP(),
	})
	retryAfter(c, err)
	return struct{}{}, err
}

// principal returns the caller RequireAuth authenticated. Errors:
// apperr.ErrUnauthorized when the route lacks RequireAuth.
func principal(c *gin.Context) (authn.Principal, error) {
	p, ok := authn.PrincipalFrom(c.Request.Context())
	if !ok {
		return authn.Principal{}, apperr.ErrUnauthorized
	}
	return p, nil
}

// tokens maps a session to its response: never cached, and with Retry-After when
// the attempt was throttled.
func tokens(c *gin.Context, s Session, err error) (Tokens, error) {
	c.Header("Cache-Control", "no-store")
	if err != nil {
		retryAfter(c, err)
		return Tokens{}, err
	}
	return toTokens(s), nil
}

// retryAfter sets the Retry-After header (whole seconds, rounded up) when err is a
// throttled attempt; httpx.Fail then writes the 429.
func retryAfter(c *gin.Context, err error) {
	var te *ThrottledError
	if errors.As(err, &te) {
		c.Header("Retry-After", strconv.FormatInt(ratelimit.RetryAfterSeconds(te.RetryAfter), 10))
	}
}
