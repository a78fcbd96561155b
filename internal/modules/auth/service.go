package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/quarrydev/quarry/internal/account"
	"github.com/quarrydev/quarry/internal/core/apperr"
	"github.com/quarrydev/quarry/internal/core/audit"
	"github.com/quarrydev/quarry/internal/core/password"
	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/db/sqlc"
)

// AccessTokens issues access tokens; *auth.Tokens of the core implements it.
type AccessTokens interface {
	// Issue returns a signed access token for user id with role, tied to refresh
	// token family session.
	Issue(userID int64, role, session string) (string, error)
	// TTL returns the lifetime of access tokens.
	TTL() time.Duration
}

// Limiter decides whether one more attempt under key may proceed now. Shared
// implements it on the core rate limiter (in memory, or in Redis so that every
// instance draws on one budget).
type Limiter interface {
	// Allow counts one attempt under key. It returns true, or false and how long to
	// wait; err when the limiter cannot decide (the attempt is then refused).
	Allow(ctx context.Context, key string) (ok bool, retryAfter time.Duration, err error)
}

// Limits are the login throttles.
type Limits struct {
	// PerAccountAddress is keyed by the lower-cased email and the client address:
	// the tight limit on guessing one account's password from one place.
	PerAccountAddress Limiter
	// PerAccount is keyed by the lower-cased email alone: a loose limit, against
	// guessing spread over many addresses, that few wrong passwords cannot exhaust.
	PerAccount Limiter
	// PerAddress is keyed by the client address.
	PerAddress Limiter
}

// Service holds the authentication rules: accounts, sign-in, refresh token rotation,
// sign-out and password changes. Every change is written in one transaction with its
// audit event (internal/core/audit); failed sign-ins, refreshes of a known token and
// password changes are recorded too, each in a transaction of its own.
type Service struct {
	store      *db.Store
	accounts   *account.Service
	tokens     AccessTokens
	limits     Limits
	refreshTTL time.Duration
	// reuseGrace and successorKey: see WithReuseGrace.
	reuseGrace   time.Duration
	successorKey []byte
	log          *slog.Logger
	now          func() time.Time
}

// NewService returns a Service. refreshTTL is the lifetime of refresh tokens; log
// receives security events (refresh token reuse, failed rehashes).
func NewService(store *db.Store, hasher *password.Hasher, tokens AccessTokens, limits Limits, refreshTTL time.Duration, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{
		store: store, accounts: account.New(store, hasher, log), tokens: tokens, limits: limits,
		refreshTTL: refreshTTL, log: log, now: time.Now,
	}
}

// WithReuseGrace sets the refresh token reuse grace: for grace after a refresh token
// was used, presenting it again returns its successor again instead of revoking the
// session. Successors are then derived from the used token with key (HMAC), so any
// instance sharing key can return the same one; without it (grace 0 or an empty key)
// they are random and every reuse revokes. It returns s.
func (s *Service) WithReuseGrace(grace time.Duration, key []byte) *Service {
	if grace > 0 && len(key) > 0 {
		s.reuseGrace, s.successorKey = grace, key
	}
	return s
}

// Session is a signed-in session's credentials.
type Session struct {
	AccessToken  string
	RefreshToken string
	// AccessTTL is the lifetime of AccessToken.
	AccessTTL time.Duration
}

// RegisterInput is a new account.
type RegisterInput struct {
	// Email is stored as given; it must be unique ignoring case.
	Email       string
	DisplayName string
	// Password is hashed; it is never stored or logged.
	Password string
}

// Register creates an active account with role user and records auth.register with
// the account as after. Errors: those of account.Service.Create.
func (s *Service) Register(ctx context.Context, in RegisterInput) (account.User, error) {
	return s.accounts.Create(ctx, account.CreateInput{
		Email: in.Email, DisplayName: in.DisplayName, Password: in.Password, Action: actionRegister,
	})
}

// LoginInput is a sign-in attempt.
type LoginInput struct {
	Email    string
	Password string
	// ClientAddr is the address the attempt comes from, for throttling.
	ClientAddr string
}

// Login checks an email and password and starts a session: a new refresh token
// family. Attempts are throttled per client address and per account before any
// database or hashing work; throttled attempts are not recorded, so a flood of them
// costs the database nothing. An unknown email, a wrong password and a deactivated
// account take the same time, give the same error and are each recorded as a failed
// auth.login (with the email and the reason); a sign-in records auth.login with the
// account as actor. When the stored hash was made with other parameters, it is
// replaced (best effort). Errors: *ThrottledError (ratelimit.ErrLimited);
// ErrInvalidCredentials; apperr.ErrUnavailable when password hashing is saturated;
// the audit log's errors.
func (s *Service) Login(ctx context.Context, in LoginInput) (Session, error) {
	if err := s.throttle(ctx, in.Email, in.ClientAddr); err != nil {
		return Session{}, err
	}
	u, err := s.accounts.Authenticate(ctx, in.Email, in.Password)
	var refused *account.CredentialsError
	if errors.As(err, &refused) {
		return Session{}, s.loginFailed(ctx, refused.UserID, in.Email, refused.Reason, refused)
	}
	if err != nil {
		return Session{}, err
	}
	return s.startSession(ctx, u)
}

// loginFailed records a failed auth.login against user id (0: no such account) and
// returns ErrInvalidCredentials wrapping cause, or the audit log's error.
func (s *Service) loginFailed(ctx context.Context, id int64, email, reason string, cause error) error {
	e := audit.Entry{
		Action: actionLogin, ResourceType: resourceUser, Outcome: audit.Failure,
		After: loginFailure{Email: email, Reason: reason},
	}
	if id != 0 {
		e.ResourceID = audit.ID(id)
	}
	if err := audit.RecordAlone(ctx, s.store, e); err != nil {
		return err
	}
	return ErrInvalidCredentials.Wrap(cause)
}

// throttle counts one attempt from addr, then one for the account of email from
// addr, then one for the account from anywhere; an attempt refused by one limit is
// not counted by the next. Errors: *ThrottledError; the limiter's error when it
// cannot decide.
func (s *Service) throttle(ctx context.Context, email, addr string) error {
	if err := allow(ctx, s.limits.PerAddress, addr, "address"); err != nil {
		return err
	}
	return s.throttleAccount(ctx, email, addr)
}

// throttleAccount counts one attempt for the account of email from addr (tight), then
// one for the account from anywhere (loose). Errors as for throttle.
func (s *Service) throttleAccount(ctx context.Context, email, addr string) error {
	if err := allow(ctx, s.limits.PerAccountAddress, accountKey(email)+"\x00"+addr, "account"); err != nil {
		return err
	}
	return allow(ctx, s.limits.PerAccount, accountKey(email), "account")
}

func allow(ctx context.Context, l Limiter, key, name string) error {
	if l == nil {
		return nil
	}
	ok, wait, err := l.Allow(ctx, key)
	if err != nil {
		return fmt.Errorf("login throttle (%s): %w", name, err)
	}
	if !ok {
		return &ThrottledError{RetryAfter: wait, Limit: name}
	}
	return nil
}

// accountKey is the throttle key of an account: its email, compared ignoring case
// like the database does.
func accountKey(email string) string { return strings.ToLower(email) }

// startSession creates a refresh token family for u, records auth.login with u as
// actor and issues the first tokens. Errors: the database's, the audit log's or the
// random source's.
func (s *Service) startSession(ctx context.Context, u account.User) (Session, error) {
	family, err := newFamily()
	if err != nil {
		return Session{}, err
	}
	refresh, hash, err := newRefreshToken()
	if err != nil {
		return Session{}, err
	}
	err = s.store.InTx(ctx, func(q db.Querier) error {
		if _, err := q.CreateRefreshToken(ctx, sqlc.CreateRefreshTokenParams{
			UserID: u.ID, FamilyID: family, TokenHash: hash, ExpiresAt: s.now().Add(s.refreshTTL),
		}); err != nil {
			return err
		}
		return audit.Record(ctx, q, audit.Entry{
			Action: actionLogin, ResourceType: resourceUser, ResourceID: audit.ID(u.ID), ActorID: u.ID,
			After: sessionEvent{Session: family.String()},
		})
	})
	if err != nil {
		return Session{}, err
	}
	access, err := s.tokens.Issue(u.ID, u.Role, family.String())
	if err != nil {
		return Session{}, err
	}
	return Session{AccessToken: access, RefreshToken: refresh, AccessTTL: s.tokens.TTL()}, nil
}

// Refresh exchanges a refresh token for a new access token and a new refresh token
// of the same family, in one transaction with its auth.refresh event (the token's
// owner as actor); the presented token is used up. Within the reuse grace (see
// WithReuseGrace) of its use, a used token gets its successor again, with a new
// access token, as long as that successor is itself unused and live (two tabs that
// refresh at once keep the session; the event records grace). Presenting a token
// that was already used otherwise means it was copied: the whole family is revoked
// and a failed auth.refresh recorded (and both committed), so the newest token stops
// working too.
// A known token refused for another reason (revoked, expired, inactive account) is
// recorded as a failed auth.refresh as well; an unknown one is not, as there is
// nothing to attach it to. The access token carries the account's current role.
// Errors: ErrInvalidRefreshToken for a token that is unknown, expired, revoked or
// already used, or whose account is inactive; the audit log's errors.
func (s *Service) Refresh(ctx context.Context, token string) (Session, error) {
	raw, ok := decodeRefreshToken(token)
	if !ok {
		return Session{}, ErrInvalidRefreshToken.Wrap(errors.New("not a refresh token"))
	}
	hash, _ := hashRefreshToken(token)
	var (
		out     Session
		reuse   *sqlc.RefreshToken
		refused *audit.Entry // a failed refresh of a known token, recorded after the rollback
	)
	err := s.store.InTx(ctx, func(q db.Querier) error {
		out, reuse, refused = Session{}, nil, nil
		rt, err := q.GetRefreshTokenForUpdate(ctx, hash)
		if errors.Is(err, db.ErrNotFound) {
			return ErrInvalidRefreshToken.Wrap(errors.New("unknown refresh token"))
		}
		if err != nil {
			return err
		}
		refuse := func(reason string) error {
			refused = refreshFailure(rt, reason, 0)
			return ErrInvalidRefreshToken.Wrap(fmt.Errorf("%s refresh token", reason))
		}
		now := s.now()
		switch {
		case rt.RevokedAt != nil:
			return refuse(reasonRevoked)
		case rt.RotatedAt != nil:
			if s.reuseGrace > 0 && now.Sub(*rt.RotatedAt) < s.reuseGrace {
				again, ok, err := s.successorAgain(ctx, q, rt, raw, now)
				if err != nil || ok {
					out = again
					return err
				}
			}
			n, err := q.RevokeRefreshFamily(ctx, rt.FamilyID)
			if err != nil {
				return err
			}
			reuse = &rt
			return audit.Record(ctx, q, *refreshFailure(rt, reasonReused, n)) // committed with the revocation
		case !now.Before(rt.ExpiresAt):
			return refuse(reasonExpired)
		}
		// A sign-out or password change may have revoked the family while this
		// refresh held the token's lock; such a family stays ended.
		if revoked, err := q.RefreshFamilyRevoked(ctx, rt.FamilyID); err != nil {
			return err
		} else if revoked {
			return refuse(reasonRevoked)
		}
		u, err := q.GetUserAuthState(ctx, rt.UserID)
		if err != nil {
			return err
		}
		if !u.IsActive {
			return refuse(account.ReasonInactive)
		}
		if err := q.RotateRefreshToken(ctx, rt.ID); err != nil {
			return err
		}
		refresh, newHash, err := s.nextRefreshToken(raw)
		if err != nil {
			return err
		}
		if _, err := q.CreateRefreshToken(ctx, sqlc.CreateRefreshTokenParams{
			UserID: rt.UserID, FamilyID: rt.FamilyID, TokenHash: newHash, ExpiresAt: now.Add(s.refreshTTL),
		}); err != nil {
			return err
		}
		if err := audit.Record(ctx, q, audit.Entry{
			Action: actionRefresh, ResourceType: resourceUser, ResourceID: audit.ID(rt.UserID), ActorID: rt.UserID,
			After: sessionEvent{Session: rt.FamilyID.String()},
		}); err != nil {
			return err
		}
		access, err := s.tokens.Issue(rt.UserID, u.Role, rt.FamilyID.String())
		if err != nil {
			return err
		}
		out = Session{AccessToken: access, RefreshToken: refresh, AccessTTL: s.tokens.TTL()}
		return nil
	})
	if refused != nil {
		if aerr := audit.RecordAlone(ctx, s.store, *refused); aerr != nil {
			return Session{}, aerr
		}
	}
	if err != nil {
		return Session{}, err
	}
	if reuse != nil {
		s.log.WarnContext(ctx, "refresh token reused; session revoked",
			"user_id", reuse.UserID, "session", reuse.FamilyID.String())
		return Session{}, ErrInvalidRefreshToken.Wrap(errors.New("refresh token reused; family revoked"))
	}
	return out, nil
}

// nextRefreshToken returns the successor of the refresh token whose bytes are used:
// derived from it when a reuse grace is set, random otherwise. Errors: the random
// source's.
func (s *Service) nextRefreshToken(used []byte) (string, []byte, error) {
	if len(s.successorKey) == 0 {
		return newRefreshToken()
	}
	token, hash := successorToken(s.successorKey, used)
	return token, hash, nil
}

// successorAgain returns a session with the successor of rt, a token used within
// the reuse grace whose bytes are used, and true when that successor is unused, not
// revoked, not expired and its account active; it records the grace refresh through
// q, the refresh's transaction. It returns false, and no error, when the reuse must
// be treated as one. Errors: the database's, the audit log's, the token issuer's.
func (s *Service) successorAgain(ctx context.Context, q db.Querier, rt sqlc.RefreshToken, used []byte, now time.Time) (Session, bool, error) {
	token, hash := successorToken(s.successorKey, used)
	next, err := q.GetRefreshTokenForUpdate(ctx, hash)
	if errors.Is(err, db.ErrNotFound) {
		return Session{}, false, nil
	}
	if err != nil {
		return Session{}, false, err
	}
	if next.FamilyID != rt.FamilyID || next.RotatedAt != nil || next.RevokedAt != nil || !now.Before(next.ExpiresAt) {
		return Session{}, false, nil
	}
	if revoked, err := q.RefreshFamilyRevoked(ctx, rt.FamilyID); err != nil || revoked {
		return Session{}, false, err
	}
	u, err := q.GetUserAuthState(ctx, rt.UserID)
	if err != nil {
		return Session{}, false, err
	}
	if !u.IsActive {
		return Session{}, false, nil
	}
	if err := audit.Record(ctx, q, audit.Entry{
		Action: actionRefresh, ResourceType: resourceUser, ResourceID: audit.ID(rt.UserID), ActorID: rt.UserID,
		After: sessionEvent{Session: rt.FamilyID.String(), Grace: true},
	}); err != nil {
		return Session{}, false, err
	}
	access, err := s.tokens.Issue(rt.UserID, u.Role, rt.FamilyID.String())
	if err != nil {
		return Session{}, false, err
	}
	return Session{AccessToken: access, RefreshToken: token, AccessTTL: s.tokens.TTL()}, true, nil
}

// Logout ends the session (refresh token family) of token and records auth.logout
// with the token's owner as actor. It reports nothing about the token: an unknown,
// malformed or already revoked token is not an error, and, as it changes nothing, is
// not recorded. Errors: only the database's and the audit log's.
func (s *Service) Logout(ctx context.Context, token string) error {
	hash, ok := hashRefreshToken(token)
	if !ok {
		return nil
	}
	return s.store.InTx(ctx, func(q db.Querier) error {
		revoked, err := q.RevokeRefreshFamilyOfToken(ctx, hash)
		if err != nil {
			return err
		}
		if len(revoked) == 0 {
			return nil
		}
		owner := revoked[0].UserID
		return audit.Record(ctx, q, audit.Entry{
			Action: actionLogout, ResourceType: resourceUser, ResourceID: audit.ID(owner), ActorID: owner,
			After: sessionEvent{Session: revoked[0].FamilyID.String(), Revoked: int64(len(revoked))},
		})
	})
}

// Me returns the account of user id. Errors: apperr.ErrUnauthorized when it no
// longer exists.
func (s *Service) Me(ctx context.Context, userID int64) (account.User, error) {
	u, err := s.accounts.Get(ctx, userID)
	if errors.Is(err, account.ErrUserNotFound) {
		return account.User{}, apperr.ErrUnauthorized.Wrap(fmt.Errorf("user %d is gone", userID))
	}
	return u, err
}

// ChangePasswordInput replaces a signed-in user's password.
type ChangePasswordInput struct {
	UserID int64
	// Session is the refresh token family of the caller's access token; it stays
	// signed in, every other session of the user is revoked.
	Session string
	Current string
	New     string
	// ClientAddr is the address the attempt comes from, for throttling.
	ClientAddr string
}

// ChangePassword checks the current password, stores a hash of the new one, revokes
// every other session of the user and records auth.password_change with the account
// before and after (hashes redacted), in one transaction. A wrong current password is
// recorded as a failed auth.password_change. Attempts count against the account's
// login throttles (per account and address, and per account overall), so a stolen
// access token cannot be used to guess the password faster than a login could.
// Errors: *ThrottledError (ratelimit.ErrLimited); account.ErrWrongPassword;
// apperr.ErrUnauthorized when the user no longer exists;
// apperr.ErrUnavailable when password hashing is saturated; the audit log's errors.
func (s *Service) ChangePassword(ctx context.Context, in ChangePasswordInput) error {
	u, err := s.Me(ctx, in.UserID)
	if err != nil {
		return err
	}
	if err := s.throttleAccount(ctx, u.Email, in.ClientAddr); err != nil {
		return err
	}
	err = s.accounts.ChangePassword(ctx, account.PasswordChange{
		UserID: u.ID, Current: in.Current, New: in.New, Action: actionPasswordChange,
		Also: func(ctx context.Context, q db.Querier) error {
			_, err := q.RevokeUserRefreshTokens(ctx, sqlc.RevokeUserRefreshTokensParams{
				UserID: u.ID, KeepFamily: parseFamily(in.Session),
			})
			return err
		},
	})
	if errors.Is(err, account.ErrUserNotFound) {
		return apperr.ErrUnauthorized.Wrap(fmt.Errorf("user %d is gone", u.ID))
	}
	return err
}
