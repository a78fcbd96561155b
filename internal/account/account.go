// Package account owns the rows of the users table: creating an account (hashing its
// password, recording the audit event), deactivating and promoting it, checking and
// changing its password, the roles, the last-admin rule (LockAdmins, KeepAdmin) and
// the password bounds, and the errors of all that. The users and auth modules and the
// command line call it; the only other writer of users rows is the users module's
// generated update of profile, role and activation, which applies the last-admin rule
// through it. The password hash never leaves this package and the users module's own
// code: every User returned is without it.
package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/quarrydev/quarry/internal/core/apperr"
	"github.com/quarrydev/quarry/internal/core/audit"
	"github.com/quarrydev/quarry/internal/core/crud"
	"github.com/quarrydev/quarry/internal/core/password"
	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/db/sqlc"
)

// Roles an account may have.
const (
	RoleUser  = "user"
	RoleAdmin = "admin"
)

// Password length bounds, in characters, for every password set.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 256
)

// Audit actions and resource type of account changes. Callers name their own
// action for creations and password changes (e.g. auth.register).
const (
	ResourceUser         = "user"
	ActionCreate         = "user.create"
	ActionUpdate         = "user.update"
	ActionDeactivate     = "user.deactivate"
	ActionCreateAdmin    = "user.create_admin"
	ActionPromoteAdmin   = "user.promote_admin"
	ActionPasswordRehash = "auth.password_rehash"
)

// Errors of accounts.
var (
	ErrUserNotFound = apperr.New(apperr.KindNotFound, "user_not_found", "user not found")
	ErrEmailTaken   = apperr.New(apperr.KindConflict, "email_taken", "a user with this email already exists")
	// ErrWrongPassword answers a password change whose current password is wrong.
	// It is a 403, not a 401: the caller is authenticated, and a 401 would make
	// clients discard a perfectly valid access token.
	ErrWrongPassword = apperr.New(apperr.KindForbidden, "invalid_credentials", "the current password is incorrect")
	// ErrLastAdmin refuses a change that would leave no active admin.
	ErrLastAdmin = apperr.New(apperr.KindConflict, "last_admin", "the last active admin cannot be deactivated or demoted")
)

// Reasons a sign-in is refused (CredentialsError.Reason).
const (
	ReasonUnknownAccount = "unknown_account"
	ReasonWrongPassword  = "wrong_password"
	ReasonInactive       = "inactive"
)

// CredentialsError is a refused sign-in: Reason is one of the Reason* constants;
// UserID is 0 for an unknown account.
type CredentialsError struct {
	Reason string
	UserID int64
}

func (e *CredentialsError) Error() string {
	if e.UserID == 0 {
		return "credentials refused: " + e.Reason
	}
	return fmt.Sprintf("credentials of user %d refused: %s", e.UserID, e.Reason)
}

// User is an account as everyone outside this package sees it: without its
// password hash.
type User struct {
	ID          int64     `json:"id"`
	Email       string    `json:"email"`
	DisplayName string    `json:"display_name"`
	Role        string    `json:"role" enum:"user,admin"`
	IsActive    bool      `json:"is_active"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// IsAdmin reports whether u has the admin role.
func (u User) IsAdmin() bool { return u.Role == RoleAdmin }

func public(u sqlc.User) User {
	return User{
		ID: u.ID, Email: u.Email, DisplayName: u.DisplayName, Role: u.Role,
		IsActive: u.IsActive, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
}

// Service applies the account rules through the store. Every change is written in
// one transaction with its audit event, whose before and after are the rows with
// the hash redacted.
type Service struct {
	store  *db.Store
	users  *crud.Resource[sqlc.User]
	hasher *password.Hasher
	log    *slog.Logger
}

// New returns a Service. log receives what a caller cannot act on (unreadable
// stored hashes, failed rehashes); nil discards it.
func New(store *db.Store, hasher *password.Hasher, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	invalid := func(field string) *apperr.Error {
		return apperr.Invalid(apperr.FieldError{Field: field, Reason: "check", Message: field + " is not allowed"})
	}
	users := &crud.Resource[sqlc.User]{
		Store: store, Type: ResourceUser, ID: func(u sqlc.User) int64 { return u.ID },
		Get: func(ctx context.Context, q db.Querier, id int64) (sqlc.User, error) { return q.GetUser(ctx, id) },
		Lock: func(ctx context.Context, q db.Querier, id int64) (sqlc.User, error) {
			return q.GetUserForUpdate(ctx, id)
		},
		NotFound: ErrUserNotFound,
		Violations: map[db.Constraint]*apperr.Error{
			db.ConstraintUsersEmailKey:         ErrEmailTaken,
			db.ConstraintUsersEmailCheck:       invalid("email"),
			db.ConstraintUsersDisplayNameCheck: invalid("display_name"),
			db.ConstraintUsersRoleCheck:        invalid("role"),
		},
	}
	return &Service{store: store, users: users, hasher: hasher, log: log}
}

// CreateInput is a new account.
type CreateInput struct {
	// Email is stored as given; it must be unique ignoring case.
	Email       string
	DisplayName string
	// Password is hashed; it is never stored or logged.
	Password string
	// Role is RoleUser when empty.
	Role string
	// Action is the audit action recorded; user.create when empty.
	Action string
}

// Create hashes the password, inserts an active account and records the action
// with the account as after. Errors: ErrEmailTaken when an account has the email in
// any letter case; apperr.ErrUnavailable when password hashing is saturated; a
// validation error naming a field the database rejects; the audit log's errors.
func (s *Service) Create(ctx context.Context, in CreateInput) (User, error) {
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return User{}, s.translate(err)
	}
	u, err := s.users.Create(ctx, in.Action, func(q db.Querier) (sqlc.User, error) {
		return q.CreateUser(ctx, sqlc.CreateUserParams{
			Email: in.Email, DisplayName: in.DisplayName, PasswordHash: hash, Role: or(in.Role, RoleUser), IsActive: true,
		})
	})
	return public(u), err
}

// Get returns account id. Errors: ErrUserNotFound.
func (s *Service) Get(ctx context.Context, id int64) (User, error) {
	u, err := s.store.GetUser(ctx, id)
	return public(u), s.translate(err)
}

// GetByEmail returns the account with email, compared ignoring case. Errors:
// ErrUserNotFound.
func (s *Service) GetByEmail(ctx context.Context, email string) (User, error) {
	u, err := s.store.GetUserByEmail(ctx, email)
	return public(u), s.translate(err)
}

// Deactivate marks account id inactive, records user.deactivate with the account
// before and after, and returns it; an account already inactive is returned
// unchanged and nothing is recorded. Errors: ErrUserNotFound; ErrLastAdmin for the
// last active admin; the audit log's errors.
func (s *Service) Deactivate(ctx context.Context, id int64) (User, error) {
	return s.change(ctx, ActionDeactivate, id, func(before sqlc.User) *sqlc.UpdateUserParams {
		if !before.IsActive {
			return nil
		}
		inactive := false
		return &sqlc.UpdateUserParams{ID: id, IsActive: &inactive}
	})
}

// change locks the active admins (LockAdmins), then account id, asks plan for the
// update to make given its current state (nil: none), applies it, refuses it when it
// leaves no active admin (KeepAdmin) and records action with the account before and
// after, in one transaction. It returns the account as it is at the end. Errors:
// ErrUserNotFound; ErrLastAdmin; a validation error naming a field the database
// rejects; the audit log's errors.
func (s *Service) change(ctx context.Context, action string, id int64, plan func(sqlc.User) *sqlc.UpdateUserParams) (User, error) {
	users := *s.users
	users.Lock = func(ctx context.Context, q db.Querier, id int64) (sqlc.User, error) {
		if err := LockAdmins(ctx, q); err != nil {
			return sqlc.User{}, err
		}
		return s.users.Lock(ctx, q, id)
	}
	u, err := users.Change(ctx, action, id, func(q db.Querier, before sqlc.User) (sqlc.User, bool, error) {
		p := plan(before)
		if p == nil {
			return before, false, nil
		}
		after, err := q.UpdateUser(ctx, *p)
		if err != nil {
			return after, true, err
		}
		return after, true, KeepAdmin(ctx, q, before, after)
	})
	return public(u), err
}

// LockAdmins locks the active admins until the end of q's transaction, in id order
// so that concurrent callers queue rather than deadlock. A change that may take away
// an admin (Deactivate here, a role or activation change in the users module) calls
// it before it locks the account it changes, then KeepAdmin after the change.
// Errors: the database's.
func LockAdmins(ctx context.Context, q db.Querier) error {
	_, err := q.LockActiveAdmins(ctx)
	return err
}

// KeepAdmin checks the change of an account from before to after, made in q's
// transaction after LockAdmins: it returns ErrLastAdmin when the change took away the
// last active admin (the caller then rolls it back). Errors: ErrLastAdmin; the
// database's.
func KeepAdmin(ctx context.Context, q db.Querier, before, after sqlc.User) error {
	if before.Role != RoleAdmin || !before.IsActive || after.Role == RoleAdmin && after.IsActive {
		return nil
	}
	admins, err := q.LockActiveAdmins(ctx)
	if err != nil {
		return err
	}
	if len(admins) == 0 {
		return ErrLastAdmin.Wrap(fmt.Errorf("user %d is the last active admin", before.ID))
	}
	return nil
}

// Authenticate checks email and plain and returns the account. An unknown email, a
// wrong password and an inactive account take the same time and give a
// *CredentialsError naming the reason. When the stored hash was made with other
// parameters it is replaced (best effort, recorded as auth.password_rehash). Errors:
// *CredentialsError; apperr.ErrUnavailable when password hashing is saturated; the
// database's.
func (s *Service) Authenticate(ctx context.Context, email, plain string) (User, error) {
	u, err := s.store.GetUserByEmail(ctx, email)
	if errors.Is(err, db.ErrNotFound) {
		// Spend what a real check spends, then fail like one.
		if err := s.hasher.VerifyDummy(ctx, plain); err != nil {
			return User{}, s.translate(err)
		}
		return User{}, &CredentialsError{Reason: ReasonUnknownAccount}
	}
	if err != nil {
		return User{}, s.translate(err)
	}
	ok, rehash, err := s.verify(ctx, u, plain)
	switch {
	case err != nil:
		return User{}, err
	case !ok:
		return public(u), &CredentialsError{Reason: ReasonWrongPassword, UserID: u.ID}
	case !u.IsActive:
		return public(u), &CredentialsError{Reason: ReasonInactive, UserID: u.ID}
	}
	if rehash {
		s.rehash(ctx, u, plain)
	}
	return public(u), nil
}

// verify checks plain against u's stored hash. A stored hash that cannot be read
// counts as a mismatch (after the same work as a real check) and is logged. Errors:
// apperr.ErrUnavailable when hashing is saturated; the context's.
func (s *Service) verify(ctx context.Context, u sqlc.User, plain string) (ok, rehash bool, err error) {
	ok, rehash, err = s.hasher.Verify(ctx, plain, u.PasswordHash)
	if errors.Is(err, password.ErrMalformedHash) {
		s.log.ErrorContext(ctx, "stored password hash is unreadable", "user_id", u.ID, "error", err)
		if err := s.hasher.VerifyDummy(ctx, plain); err != nil {
			return false, false, s.translate(err)
		}
		return false, false, nil
	}
	if err != nil {
		return false, false, s.translate(err)
	}
	return ok, rehash, nil
}

// rehash replaces u's hash with one made with the current parameters and records
// auth.password_rehash. It is best effort: a failure is logged and the old hash stays
// valid.
func (s *Service) rehash(ctx context.Context, u sqlc.User, plain string) {
	hash, err := s.hasher.Hash(ctx, plain)
	if err == nil {
		err = s.setPassword(ctx, u, hash, ActionPasswordRehash, nil)
	}
	if err != nil {
		s.log.WarnContext(ctx, "password rehash failed; the old hash stays", "user_id", u.ID, "error", err)
	}
}

// PasswordChange replaces a signed-in account's password.
type PasswordChange struct {
	UserID  int64
	Current string
	New     string
	// Action is the audit action recorded, on success and on a wrong current
	// password (as a failure).
	Action string
	// Also runs in the transaction of the change, e.g. to end other sessions.
	Also func(ctx context.Context, q db.Querier) error
}

// ChangePassword checks the current password, stores a hash of the new one, runs
// Also and records the action with the account before and after, in one
// transaction. A wrong current password is recorded as a failed action. Errors:
// ErrWrongPassword (also when the password changed concurrently); ErrUserNotFound;
// apperr.ErrUnavailable when password hashing is saturated; the audit log's errors.
func (s *Service) ChangePassword(ctx context.Context, in PasswordChange) error {
	u, err := s.store.GetUser(ctx, in.UserID)
	if err != nil {
		return s.translate(err)
	}
	ok, _, err := s.verify(ctx, u, in.Current)
	if err != nil {
		return err
	}
	if !ok {
		if err := audit.RecordAlone(ctx, s.store, audit.Entry{
			Action: in.Action, ResourceType: ResourceUser, ResourceID: audit.ID(u.ID),
			ActorID: u.ID, Outcome: audit.Failure, After: struct {
				Reason string `json:"reason"`
			}{ReasonWrongPassword},
		}); err != nil {
			return err
		}
		return ErrWrongPassword.Wrap(fmt.Errorf("wrong current password for user %d", u.ID))
	}
	hash, err := s.hasher.Hash(ctx, in.New)
	if err != nil {
		return s.translate(err)
	}
	return s.setPassword(ctx, u, hash, in.Action, in.Also)
}

// setPassword replaces u's hash by hash unless it changed since u was read, runs
// also and records action with the account before and after, in one transaction.
// Errors: ErrWrongPassword when the hash changed meanwhile, except for a rehash,
// which then leaves the new hash alone; ErrUserNotFound; also's; the audit log's.
func (s *Service) setPassword(ctx context.Context, u sqlc.User, hash, action string, also func(context.Context, db.Querier) error) error {
	return s.store.InTx(ctx, func(q db.Querier) error {
		before, err := q.GetUserForUpdate(ctx, u.ID)
		if err != nil {
			return s.translate(err)
		}
		if before.PasswordHash != u.PasswordHash {
			if action == ActionPasswordRehash {
				return nil // the password changed meanwhile: the new hash stays
			}
			// Changed since the current password was checked: that one is no longer current.
			return ErrWrongPassword.Wrap(fmt.Errorf("password of user %d changed concurrently", u.ID))
		}
		after, err := q.UpdateUser(ctx, sqlc.UpdateUserParams{ID: u.ID, PasswordHash: &hash})
		if err != nil {
			return s.translate(err)
		}
		if also != nil {
			if err := also(ctx, q); err != nil {
				return err
			}
		}
		return audit.Record(ctx, q, audit.Entry{
			Action: action, ResourceType: ResourceUser, ResourceID: audit.ID(u.ID),
			ActorID: u.ID, Before: before, After: after,
		})
	})
}

// AdminResult is what MakeAdmin did.
type AdminResult struct {
	User    User
	Created bool
	// Revoked counts the refresh tokens of an existing account that were revoked.
	Revoked int64
}

// MakeAdmin hashes plain and, in one transaction, creates an active admin with email
// and name (default "Administrator"), recording user.create_admin, or turns the
// existing account with that email into an active admin with the new password (and
// name, when given), signs it out everywhere and records user.promote_admin.
// Errors: apperr.ErrUnavailable when hashing is saturated; a validation error naming
// a field the database rejects; the database's and the audit log's.
func (s *Service) MakeAdmin(ctx context.Context, email, name, plain string) (AdminResult, error) {
	hash, err := s.hasher.Hash(ctx, plain)
	if err != nil {
		return AdminResult{}, s.translate(err)
	}
	var res AdminResult
	err = s.store.InTx(ctx, func(q db.Querier) error {
		res = AdminResult{}
		u, err := q.GetUserByEmail(ctx, email)
		if errors.Is(err, db.ErrNotFound) {
			created, err := q.CreateUser(ctx, sqlc.CreateUserParams{
				Email: email, DisplayName: or(name, "Administrator"), PasswordHash: hash, Role: RoleAdmin, IsActive: true,
			})
			if err != nil {
				return s.translate(err)
			}
			res.User, res.Created = public(created), true
			return audit.Record(ctx, q, audit.Entry{
				Action: ActionCreateAdmin, ResourceType: ResourceUser, ResourceID: audit.ID(created.ID), After: created,
			})
		}
		if err != nil {
			return s.translate(err)
		}
		role, active := RoleAdmin, true
		change := sqlc.UpdateUserParams{ID: u.ID, PasswordHash: &hash, Role: &role, IsActive: &active}
		if name != "" {
			change.DisplayName = &name
		}
		after, err := q.UpdateUser(ctx, change)
		if err != nil {
			return s.translate(err)
		}
		res.User = public(after)
		if res.Revoked, err = q.RevokeUserRefreshTokens(ctx, sqlc.RevokeUserRefreshTokensParams{UserID: u.ID}); err != nil {
			return err
		}
		return audit.Record(ctx, q, audit.Entry{
			Action: ActionPromoteAdmin, ResourceType: ResourceUser, ResourceID: audit.ID(u.ID), Before: u, After: after,
		})
	})
	return res, err
}

// translate maps database and hashing errors to the package's errors.
func (s *Service) translate(err error) error {
	if errors.Is(err, password.ErrBusy) {
		return apperr.ErrUnavailable.Wrap(err)
	}
	return s.users.Translate(err)
}

func or(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
