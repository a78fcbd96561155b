package users

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/quarrydev/quarry/internal/core/apperr"
	"github.com/quarrydev/quarry/internal/core/audit"
	"github.com/quarrydev/quarry/internal/core/paging"
	"github.com/quarrydev/quarry/internal/core/password"
	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/db/sqlc"
)

// Service holds the users business rules on top of the generated queries. The rows it
// returns carry the password hash: callers map them to DTOs that leave it out. Every
// change is written in one transaction with its audit event (internal/core/audit),
// whose before and after are the user rows with the hash redacted.
type Service struct {
	store   *db.Store
	cursors *db.CursorCodec
	hasher  *password.Hasher
	cfg     *Config
}

// NewService returns a Service reading and writing through store.
func NewService(store *db.Store, cursors *db.CursorCodec, hasher *password.Hasher, cfg *Config) *Service {
	return &Service{store: store, cursors: cursors, hasher: hasher, cfg: cfg}
}

// Audit actions and resource type of the users module.
const (
	resourceUser     = "user"
	actionCreate     = "user.create"
	actionUpdate     = "user.update"
	actionDeactivate = "user.deactivate"
)

// Roles a user may have.
const (
	RoleUser  = "user"
	RoleAdmin = "admin"
)

// CreateInput is a new user.
type CreateInput struct {
	// Email is stored as given; it must be unique ignoring case.
	Email       string
	DisplayName string
	// Password is hashed; it is never stored or logged.
	Password string
	// Role is RoleUser when empty.
	Role string
}

// Create hashes the password, inserts an active user and records user.create with
// the user as after. Errors: ErrEmailTaken when another user has the email in any
// letter case; apperr.ErrUnavailable when password hashing is saturated; a validation
// error naming a field the database rejects; the audit log's errors.
func (s *Service) Create(ctx context.Context, in CreateInput) (sqlc.User, error) {
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return sqlc.User{}, translate(err)
	}
	role := in.Role
	if role == "" {
		role = RoleUser
	}
	var u sqlc.User
	err = s.store.InTx(ctx, func(q db.Querier) error {
		var err error
		u, err = q.CreateUser(ctx, sqlc.CreateUserParams{
			Email: in.Email, DisplayName: in.DisplayName, PasswordHash: hash, Role: role, IsActive: true,
		})
		if err != nil {
			return translate(err)
		}
		return audit.Record(ctx, q, audit.Entry{
			Action: actionCreate, ResourceType: resourceUser, ResourceID: audit.ID(u.ID), After: u,
		})
	})
	if err != nil {
		return sqlc.User{}, err
	}
	return u, nil
}

// Get returns the user id. Errors: ErrUserNotFound.
func (s *Service) Get(ctx context.Context, id int64) (sqlc.User, error) {
	u, err := s.store.GetUser(ctx, id)
	if err != nil {
		return sqlc.User{}, translate(err)
	}
	return u, nil
}

// GetByEmail returns the user with email, compared ignoring case. Errors:
// ErrUserNotFound.
func (s *Service) GetByEmail(ctx context.Context, email string) (sqlc.User, error) {
	u, err := s.store.GetUserByEmail(ctx, email)
	if err != nil {
		return sqlc.User{}, translate(err)
	}
	return u, nil
}

// UpdateInput holds the fields to change; nil fields stay as they are. Who may change
// what is decided before the service is called.
type UpdateInput struct {
	DisplayName *string
	Role        *string
	IsActive    *bool
}

// Update changes the given fields of user id, records user.update with the user
// before and after, and returns the user. Without any field it returns the user
// unchanged and records nothing. Errors: ErrUserNotFound; a validation error naming a
// field the database rejects; the audit log's errors.
func (s *Service) Update(ctx context.Context, id int64, in UpdateInput) (sqlc.User, error) {
	if in.DisplayName == nil && in.Role == nil && in.IsActive == nil {
		return s.Get(ctx, id)
	}
	return s.change(ctx, actionUpdate, id, func(sqlc.User) *sqlc.UpdateUserParams {
		return &sqlc.UpdateUserParams{ID: id, DisplayName: in.DisplayName, Role: in.Role, IsActive: in.IsActive}
	})
}

// Deactivate marks user id inactive, records user.deactivate with the user before and
// after, and returns the user; a user already inactive is returned unchanged and
// nothing is recorded. Errors: ErrUserNotFound; the audit log's errors.
func (s *Service) Deactivate(ctx context.Context, id int64) (sqlc.User, error) {
	return s.change(ctx, actionDeactivate, id, func(u sqlc.User) *sqlc.UpdateUserParams {
		if !u.IsActive {
			return nil
		}
		inactive := false
		return &sqlc.UpdateUserParams{ID: id, IsActive: &inactive}
	})
}

// change locks user id in a transaction, asks plan for the update to make given its
// current state (nil: none), applies it and records action with the user before and
// after. It returns the user as it is at the end. Errors: ErrUserNotFound; a
// validation error naming a field the database rejects; the audit log's errors.
func (s *Service) change(ctx context.Context, action string, id int64, plan func(sqlc.User) *sqlc.UpdateUserParams) (sqlc.User, error) {
	var u sqlc.User
	err := s.store.InTx(ctx, func(q db.Querier) error {
		before, err := q.GetUserForUpdate(ctx, id)
		if err != nil {
			return translate(err)
		}
		u = before
		p := plan(before)
		if p == nil {
			return nil
		}
		if u, err = q.UpdateUser(ctx, *p); err != nil {
			return translate(err)
		}
		return audit.Record(ctx, q, audit.Entry{
			Action: action, ResourceType: resourceUser, ResourceID: audit.ID(id), Before: before, After: u,
		})
	})
	if err != nil {
		return sqlc.User{}, err
	}
	return u, nil
}

// ListInput selects a page of users.
type ListInput struct {
	Limit    int    // 0 means the configured default
	Cursor   string // from the previous page
	Role     *string
	IsActive *bool
	Sort     string // created_at, -created_at, id or -id; "" means -created_at
	Total    bool   // also count all matches
}

// Page is one page of users.
type Page struct {
	Users []sqlc.User
	// Next is the cursor of the next page; "" on the last page.
	Next string
	// Total is set when asked for.
	Total *int64
}

// List returns a page of users in keyset order. Errors: a validation error naming
// limit when it exceeds the configured maximum, or sort when it is not whitelisted;
// apperr.ErrBadCursor for a tampered cursor or one issued for another sort or filters.
func (s *Service) List(ctx context.Context, in ListInput) (Page, error) {
	sort := in.Sort
	if sort == "" {
		sort = "-created_at"
	}
	req := paging.Request{
		Limit: in.Limit, Default: s.cfg.DefaultPageSize, Max: s.cfg.MaxPageSize,
		Cursor: in.Cursor, Sort: sort, Filter: fingerprint(in.Role, in.IsActive),
	}
	users, next, err := paging.List(ctx, s.cursors, req,
		func(ctx context.Context, after *db.Keyset, n int32) ([]sqlc.User, error) {
			p := sqlc.ListUsersByCreatedAtDescParams{Role: in.Role, IsActive: in.IsActive, PageLimit: n}
			if after != nil {
				p.AfterCreatedAt, p.AfterID = after.At, &after.ID
			}
			rows, err := s.page(ctx, sort, p)
			return rows, translate(err)
		},
		func(u sqlc.User) (time.Time, int64) { return u.CreatedAt, u.ID })
	if err != nil {
		return Page{}, err
	}
	page := Page{Users: users, Next: next}
	if in.Total {
		n, err := s.store.CountUsers(ctx, sqlc.CountUsersParams{Role: in.Role, IsActive: in.IsActive})
		if err != nil {
			return Page{}, translate(err)
		}
		page.Total = &n
	}
	return page, nil
}

// page runs the list query of the whitelisted sort; each has its own index-friendly
// query and all take the same parameters.
func (s *Service) page(ctx context.Context, sort string, p sqlc.ListUsersByCreatedAtDescParams) ([]sqlc.User, error) {
	switch sort {
	case "-created_at":
		return s.store.ListUsersByCreatedAtDesc(ctx, p)
	case "created_at":
		return s.store.ListUsersByCreatedAtAsc(ctx, sqlc.ListUsersByCreatedAtAscParams(p))
	case "-id":
		return s.store.ListUsersByIDDesc(ctx, sqlc.ListUsersByIDDescParams(p))
	case "id":
		return s.store.ListUsersByIDAsc(ctx, sqlc.ListUsersByIDAscParams(p))
	}
	return nil, apperr.Invalid(apperr.FieldError{Field: "sort", Reason: "oneof", Message: "sort must be one of: created_at, -created_at, id, -id"})
}

// fingerprint identifies the filters a cursor was issued for.
func fingerprint(role *string, isActive *bool) string {
	f := ""
	if role != nil {
		f += "r" + *role
	}
	if isActive != nil {
		f += "a" + strconv.FormatBool(*isActive)
	}
	return f
}

// checkFields names the input field each check constraint of users guards.
var checkFields = map[string]string{
	"users_email_check":        "email",
	"users_display_name_check": "display_name",
	"users_role_check":         "role",
}

// translate maps database and hashing errors to the module's errors.
func translate(err error) error {
	var dbErr *db.Error
	switch {
	case errors.Is(err, db.ErrNotFound):
		return ErrUserNotFound.Wrap(err)
	case db.IsUniqueViolation(err, "users_email_key"):
		return ErrEmailTaken.Wrap(err)
	case errors.Is(err, password.ErrBusy):
		return apperr.ErrUnavailable.Wrap(err)
	case errors.Is(err, db.ErrCheck) && errors.As(err, &dbErr) && checkFields[dbErr.Constraint] != "":
		field := checkFields[dbErr.Constraint]
		return apperr.Invalid(apperr.FieldError{Field: field, Reason: "check", Message: field + " is not allowed"}).Wrap(err)
	}
	return err
}
