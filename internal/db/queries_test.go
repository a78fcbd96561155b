package db_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/quarrydev/quarry/internal/db/sqlc"
	"github.com/quarrydev/quarry/internal/testdb"
)

// SQLSTATE codes asserted below.
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
	codeCheckViolation      = "23514"
)

func ptr[T any](v T) *T { return &v }

// requirePgError fails unless err is a *pgconn.PgError with the given code and
// constraint name.
func requirePgError(t *testing.T, err error, code, constraint string) {
	t.Helper()
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		t.Fatalf("err = %v; want *pgconn.PgError %s on %s", err, code, constraint)
	}
	if pgErr.Code != code || pgErr.ConstraintName != constraint {
		t.Fatalf("PgError code=%s constraint=%q; want code=%s constraint=%q (%s)",
			pgErr.Code, pgErr.ConstraintName, code, constraint, pgErr.Message)
	}
}

func requireNoRows(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, pgx.ErrNoRows) {
		t.Fatalf("err = %v; want pgx.ErrNoRows", err)
	}
}

func mustCreateUser(t *testing.T, q *sqlc.Queries, email string) sqlc.User {
	t.Helper()
	u, err := q.CreateUser(t.Context(), sqlc.CreateUserParams{
		Email:        email,
		DisplayName:  "User " + email,
		PasswordHash: "hash-" + email,
		Role:         "user",
		IsActive:     true,
	})
	if err != nil {
		t.Fatalf("CreateUser(%s): %v", email, err)
	}
	return u
}

// pause makes sure that the next statement's now() is later than the previous one's.
func pause() { time.Sleep(10 * time.Millisecond) }

func TestUserQueries(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	q := sqlc.New(testdb.New(t))

	created, err := q.CreateUser(ctx, sqlc.CreateUserParams{
		Email:        "Alice@Example.com",
		DisplayName:  "Alice",
		PasswordHash: "hash-1",
		Role:         "admin",
		IsActive:     true,
	})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if created.ID <= 0 {
		t.Fatalf("created id = %d; want a generated positive id", created.ID)
	}
	want := sqlc.User{
		ID:           created.ID,
		Email:        "Alice@Example.com",
		DisplayName:  "Alice",
		PasswordHash: "hash-1",
		Role:         "admin",
		IsActive:     true,
		CreatedAt:    created.CreatedAt,
		UpdatedAt:    created.UpdatedAt,
	}
	if created != want {
		t.Fatalf("CreateUser returned %+v; want %+v", created, want)
	}
	if created.CreatedAt.IsZero() || !created.UpdatedAt.Equal(created.CreatedAt) {
		t.Fatalf("timestamps created_at=%v updated_at=%v; want equal and set", created.CreatedAt, created.UpdatedAt)
	}

	t.Run("Get", func(t *testing.T) {
		got, err := q.GetUser(ctx, created.ID)
		if err != nil {
			t.Fatalf("GetUser: %v", err)
		}
		if !equalUsers(got, created) {
			t.Fatalf("GetUser = %+v; want %+v", got, created)
		}
		_, err = q.GetUser(ctx, created.ID+1000)
		requireNoRows(t, err)
	})

	t.Run("GetByEmail", func(t *testing.T) {
		for _, email := range []string{"Alice@Example.com", "alice@example.com", "ALICE@EXAMPLE.COM"} {
			got, err := q.GetUserByEmail(ctx, email)
			if err != nil {
				t.Fatalf("GetUserByEmail(%q): %v", email, err)
			}
			if got.ID != created.ID {
				t.Fatalf("GetUserByEmail(%q).ID = %d; want %d", email, got.ID, created.ID)
			}
		}
		_, err := q.GetUserByEmail(ctx, "bob@example.com")
		requireNoRows(t, err)
	})

	t.Run("Exists", func(t *testing.T) {
		for _, tc := range []struct {
			id   int64
			want bool
		}{{created.ID, true}, {created.ID + 1000, false}} {
			got, err := q.UserExists(ctx, tc.id)
			if err != nil {
				t.Fatalf("UserExists(%d): %v", tc.id, err)
			}
			if got != tc.want {
				t.Fatalf("UserExists(%d) = %v; want %v", tc.id, got, tc.want)
			}
		}
		for _, tc := range []struct {
			email string
			want  bool
		}{{"alice@example.com", true}, {"ALICE@example.COM", true}, {"bob@example.com", false}} {
			got, err := q.UserEmailExists(ctx, tc.email)
			if err != nil {
				t.Fatalf("UserEmailExists(%q): %v", tc.email, err)
			}
			if got != tc.want {
				t.Fatalf("UserEmailExists(%q) = %v; want %v", tc.email, got, tc.want)
			}
		}
	})

	t.Run("UpdatePartial", func(t *testing.T) {
		before, err := q.GetUser(ctx, created.ID)
		if err != nil {
			t.Fatal(err)
		}
		pause()
		got, err := q.UpdateUser(ctx, sqlc.UpdateUserParams{ID: created.ID, DisplayName: ptr("Alice A.")})
		if err != nil {
			t.Fatalf("UpdateUser: %v", err)
		}
		want := before
		want.DisplayName = "Alice A."
		want.UpdatedAt = got.UpdatedAt
		if !equalUsers(got, want) {
			t.Fatalf("UpdateUser(display_name) = %+v; want %+v", got, want)
		}
		if !got.UpdatedAt.After(before.UpdatedAt) {
			t.Fatalf("updated_at %v did not advance past %v", got.UpdatedAt, before.UpdatedAt)
		}

		// Every field at once.
		pause()
		got2, err := q.UpdateUser(ctx, sqlc.UpdateUserParams{
			ID:           created.ID,
			Email:        ptr("alice@new.example.com"),
			PasswordHash: ptr("hash-2"),
			Role:         ptr("user"),
			IsActive:     ptr(false),
		})
		if err != nil {
			t.Fatalf("UpdateUser(all): %v", err)
		}
		want2 := sqlc.User{
			ID:           created.ID,
			Email:        "alice@new.example.com",
			DisplayName:  "Alice A.",
			PasswordHash: "hash-2",
			Role:         "user",
			IsActive:     false,
			CreatedAt:    before.CreatedAt,
			UpdatedAt:    got2.UpdatedAt,
		}
		if !equalUsers(got2, want2) {
			t.Fatalf("UpdateUser(all) = %+v; want %+v", got2, want2)
		}
		if !got2.UpdatedAt.After(got.UpdatedAt) {
			t.Fatalf("updated_at %v did not advance past %v", got2.UpdatedAt, got.UpdatedAt)
		}

		// No field: only updated_at moves.
		pause()
		got3, err := q.UpdateUser(ctx, sqlc.UpdateUserParams{ID: created.ID})
		if err != nil {
			t.Fatalf("UpdateUser(none): %v", err)
		}
		want3 := got2
		want3.UpdatedAt = got3.UpdatedAt
		if !equalUsers(got3, want3) || !got3.UpdatedAt.After(got2.UpdatedAt) {
			t.Fatalf("UpdateUser(none) = %+v; want %+v with a later updated_at", got3, want3)
		}

		_, err = q.UpdateUser(ctx, sqlc.UpdateUserParams{ID: created.ID + 1000, DisplayName: ptr("x")})
		requireNoRows(t, err)
	})

	t.Run("Delete", func(t *testing.T) {
		victim := mustCreateUser(t, q, "victim@example.com")
		n, err := q.DeleteUser(ctx, victim.ID)
		if err != nil || n != 1 {
			t.Fatalf("DeleteUser = %d, %v; want 1, nil", n, err)
		}
		n, err = q.DeleteUser(ctx, victim.ID)
		if err != nil || n != 0 {
			t.Fatalf("second DeleteUser = %d, %v; want 0, nil", n, err)
		}
		_, err = q.GetUser(ctx, victim.ID)
		requireNoRows(t, err)
		exists, err := q.UserExists(ctx, victim.ID)
		if err != nil || exists {
			t.Fatalf("UserExists after delete = %v, %v; want false, nil", exists, err)
		}
	})
}

func TestUserConstraintViolations(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	q := sqlc.New(testdb.New(t))

	alice := mustCreateUser(t, q, "alice@example.com")
	bob := mustCreateUser(t, q, "bob@example.com")

	valid := func() sqlc.CreateUserParams {
		return sqlc.CreateUserParams{
			Email: "carol@example.com", DisplayName: "Carol", PasswordHash: "h", Role: "user", IsActive: true,
		}
	}

	t.Run("EmailUniqueIgnoresCase", func(t *testing.T) {
		p := valid()
		p.Email = "ALICE@Example.COM"
		_, err := q.CreateUser(ctx, p)
		requirePgError(t, err, codeUniqueViolation, "users_email_key")

		_, err = q.UpdateUser(ctx, sqlc.UpdateUserParams{ID: bob.ID, Email: ptr("Alice@example.com")})
		requirePgError(t, err, codeUniqueViolation, "users_email_key")

		_, err = q.CreateUsers(ctx, []sqlc.CreateUsersParams{{
			Email: "aLiCe@example.com", DisplayName: "Dup", PasswordHash: "h", Role: "user", IsActive: true,
		}})
		requirePgError(t, err, codeUniqueViolation, "users_email_key")
	})

	t.Run("Checks", func(t *testing.T) {
		for _, tc := range []struct {
			name       string
			edit       func(*sqlc.CreateUserParams)
			constraint string
		}{
			{"role", func(p *sqlc.CreateUserParams) { p.Role = "root" }, "users_role_check"},
			{"empty display name", func(p *sqlc.CreateUserParams) { p.DisplayName = "" }, "users_display_name_check"},
			{"long display name", func(p *sqlc.CreateUserParams) { p.DisplayName = strings.Repeat("n", 101) }, "users_display_name_check"},
			{"long email", func(p *sqlc.CreateUserParams) { p.Email = strings.Repeat("e", 250) + "@x.io" }, "users_email_check"},
			{"empty password hash", func(p *sqlc.CreateUserParams) { p.PasswordHash = "" }, "users_password_hash_check"},
		} {
			p := valid()
			tc.edit(&p)
			_, err := q.CreateUser(ctx, p)
			requirePgError(t, err, codeCheckViolation, tc.constraint)
		}
		_, err := q.UpdateUser(ctx, sqlc.UpdateUserParams{ID: alice.ID, Role: ptr("superuser")})
		requirePgError(t, err, codeCheckViolation, "users_role_check")

		// Lengths count characters, not bytes.
		p := valid()
		p.DisplayName = strings.Repeat("é", 100)
		if _, err := q.CreateUser(ctx, p); err != nil {
			t.Fatalf("100-character display name: %v", err)
		}
	})

	// The failed statements changed nothing.
	n, err := q.CountUsers(ctx, sqlc.CountUsersParams{MaxCount: 1000})
	if err != nil || n != 3 {
		t.Fatalf("CountUsers = %d, %v; want 3, nil", n, err)
	}
	got, err := q.GetUser(ctx, alice.ID)
	if err != nil || got.Role != "user" {
		t.Fatalf("GetUser(alice) = %+v, %v; want role unchanged", got, err)
	}
}

func TestPostQueries(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	q := sqlc.New(testdb.New(t))
	author := mustCreateUser(t, q, "author@example.com")

	created, err := q.CreatePost(ctx, sqlc.CreatePostParams{
		AuthorID: author.ID, Title: "Hello", Body: "First post", Status: "draft",
	})
	if err != nil {
		t.Fatalf("CreatePost: %v", err)
	}
	if created.ID <= 0 || created.AuthorID != author.ID || created.Title != "Hello" ||
		created.Body != "First post" || created.Status != "draft" ||
		created.CreatedAt.IsZero() || !created.UpdatedAt.Equal(created.CreatedAt) {
		t.Fatalf("CreatePost returned %+v", created)
	}

	t.Run("Get", func(t *testing.T) {
		got, err := q.GetPost(ctx, created.ID)
		if err != nil {
			t.Fatalf("GetPost: %v", err)
		}
		if !equalPosts(got, created) {
			t.Fatalf("GetPost = %+v; want %+v", got, created)
		}
		_, err = q.GetPost(ctx, created.ID+1000)
		requireNoRows(t, err)
	})

	t.Run("Exists", func(t *testing.T) {
		for _, tc := range []struct {
			id   int64
			want bool
		}{{created.ID, true}, {created.ID + 1000, false}} {
			got, err := q.PostExists(ctx, tc.id)
			if err != nil {
				t.Fatalf("PostExists(%d): %v", tc.id, err)
			}
			if got != tc.want {
				t.Fatalf("PostExists(%d) = %v; want %v", tc.id, got, tc.want)
			}
		}
	})

	t.Run("UpdatePartial", func(t *testing.T) {
		before, err := q.GetPost(ctx, created.ID)
		if err != nil {
			t.Fatal(err)
		}
		pause()
		got, err := q.UpdatePost(ctx, sqlc.UpdatePostParams{ID: created.ID, Status: ptr("published")})
		if err != nil {
			t.Fatalf("UpdatePost(status): %v", err)
		}
		want := before
		want.Status = "published"
		want.UpdatedAt = got.UpdatedAt
		if !equalPosts(got, want) || !got.UpdatedAt.After(before.UpdatedAt) {
			t.Fatalf("UpdatePost(status) = %+v; want %+v with a later updated_at", got, want)
		}

		pause()
		got2, err := q.UpdatePost(ctx, sqlc.UpdatePostParams{ID: created.ID, Title: ptr("Hello again"), Body: ptr("")})
		if err != nil {
			t.Fatalf("UpdatePost(title, body): %v", err)
		}
		want2 := got
		want2.Title = "Hello again"
		want2.Body = ""
		want2.UpdatedAt = got2.UpdatedAt
		if !equalPosts(got2, want2) || !got2.UpdatedAt.After(got.UpdatedAt) {
			t.Fatalf("UpdatePost(title, body) = %+v; want %+v with a later updated_at", got2, want2)
		}

		_, err = q.UpdatePost(ctx, sqlc.UpdatePostParams{ID: created.ID + 1000, Title: ptr("x")})
		requireNoRows(t, err)
	})

	t.Run("Delete", func(t *testing.T) {
		p, err := q.CreatePost(ctx, sqlc.CreatePostParams{AuthorID: author.ID, Title: "Bye", Status: "draft"})
		if err != nil {
			t.Fatal(err)
		}
		n, err := q.DeletePost(ctx, p.ID)
		if err != nil || n != 1 {
			t.Fatalf("DeletePost = %d, %v; want 1, nil", n, err)
		}
		n, err = q.DeletePost(ctx, p.ID)
		if err != nil || n != 0 {
			t.Fatalf("second DeletePost = %d, %v; want 0, nil", n, err)
		}
		_, err = q.GetPost(ctx, p.ID)
		requireNoRows(t, err)
	})

	t.Run("DeleteAuthorCascades", func(t *testing.T) {
		other := mustCreateUser(t, q, "other@example.com")
		p, err := q.CreatePost(ctx, sqlc.CreatePostParams{AuthorID: other.ID, Title: "Orphan?", Status: "draft"})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := q.DeleteUser(ctx, other.ID); err != nil || n != 1 {
			t.Fatalf("DeleteUser = %d, %v; want 1, nil", n, err)
		}
		exists, err := q.PostExists(ctx, p.ID)
		if err != nil || exists {
			t.Fatalf("PostExists after deleting its author = %v, %v; want false, nil", exists, err)
		}
	})
}

func TestPostConstraintViolations(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	q := sqlc.New(testdb.New(t))
	author := mustCreateUser(t, q, "author@example.com")

	valid := func() sqlc.CreatePostParams {
		return sqlc.CreatePostParams{AuthorID: author.ID, Title: "Title", Body: "Body", Status: "draft"}
	}

	p := valid()
	p.AuthorID = author.ID + 1000
	_, err := q.CreatePost(ctx, p)
	requirePgError(t, err, codeForeignKeyViolation, "posts_author_id_fkey")

	_, err = q.CreatePosts(ctx, []sqlc.CreatePostsParams{{AuthorID: author.ID + 1000, Title: "T", Status: "draft"}})
	requirePgError(t, err, codeForeignKeyViolation, "posts_author_id_fkey")

	for _, tc := range []struct {
		name       string
		edit       func(*sqlc.CreatePostParams)
		constraint string
	}{
		{"empty title", func(p *sqlc.CreatePostParams) { p.Title = "" }, "posts_title_check"},
		{"long title", func(p *sqlc.CreatePostParams) { p.Title = strings.Repeat("t", 201) }, "posts_title_check"},
		{"status", func(p *sqlc.CreatePostParams) { p.Status = "archived" }, "posts_status_check"},
	} {
		p := valid()
		tc.edit(&p)
		_, err := q.CreatePost(ctx, p)
		requirePgError(t, err, codeCheckViolation, tc.constraint)
	}

	ok, err := q.CreatePost(ctx, sqlc.CreatePostParams{
		AuthorID: author.ID, Title: strings.Repeat("ü", 200), Status: "published",
	})
	if err != nil {
		t.Fatalf("200-character title: %v", err)
	}
	_, err = q.UpdatePost(ctx, sqlc.UpdatePostParams{ID: ok.ID, Status: ptr("deleted")})
	requirePgError(t, err, codeCheckViolation, "posts_status_check")
	_, err = q.UpdatePost(ctx, sqlc.UpdatePostParams{ID: ok.ID, Title: ptr("")})
	requirePgError(t, err, codeCheckViolation, "posts_title_check")

	n, err := q.CountPosts(ctx, sqlc.CountPostsParams{MaxCount: 1000})
	if err != nil || n != 1 {
		t.Fatalf("CountPosts = %d, %v; want 1, nil", n, err)
	}
}

func TestCreateUsersCopyFrom(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := testdb.New(t)
	q := sqlc.New(pool)

	n, err := q.CreateUsers(ctx, []sqlc.CreateUsersParams{})
	if err != nil || n != 0 {
		t.Fatalf("CreateUsers(empty) = %d, %v; want 0, nil", n, err)
	}

	in := make([]sqlc.CreateUsersParams, 7)
	for i := range in {
		in[i] = sqlc.CreateUsersParams{
			Email:        fmt.Sprintf("bulk%d@example.com", i),
			DisplayName:  fmt.Sprintf("Bulk %d", i),
			PasswordHash: "h",
			Role:         []string{"user", "admin"}[i%2],
			IsActive:     i%3 != 0,
		}
	}
	n, err = q.CreateUsers(ctx, in)
	if err != nil || n != int64(len(in)) {
		t.Fatalf("CreateUsers = %d, %v; want %d, nil", n, err, len(in))
	}
	for _, p := range in {
		u, err := q.GetUserByEmail(ctx, p.Email)
		if err != nil {
			t.Fatalf("GetUserByEmail(%s): %v", p.Email, err)
		}
		if u.DisplayName != p.DisplayName || u.PasswordHash != p.PasswordHash || u.Role != p.Role ||
			u.IsActive != p.IsActive || u.ID <= 0 || u.CreatedAt.IsZero() {
			t.Fatalf("copied user %+v does not match %+v", u, p)
		}
	}
}

func TestCreatePostsCopyFrom(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	q := sqlc.New(testdb.New(t))
	author := mustCreateUser(t, q, "author@example.com")

	n, err := q.CreatePosts(ctx, nil)
	if err != nil || n != 0 {
		t.Fatalf("CreatePosts(nil) = %d, %v; want 0, nil", n, err)
	}
	in := []sqlc.CreatePostsParams{
		{AuthorID: author.ID, Title: "One", Body: "1", Status: "draft"},
		{AuthorID: author.ID, Title: "Two", Body: "", Status: "published"},
		{AuthorID: author.ID, Title: "Three", Body: "3", Status: "draft"},
	}
	n, err = q.CreatePosts(ctx, in)
	if err != nil || n != 3 {
		t.Fatalf("CreatePosts = %d, %v; want 3, nil", n, err)
	}
	got := allPosts(t, q, sqlc.ListPostsByIDAscParams{})
	if len(got) != 3 {
		t.Fatalf("listed %d posts; want 3", len(got))
	}
	for i, p := range got {
		if p.AuthorID != in[i].AuthorID || p.Title != in[i].Title || p.Body != in[i].Body || p.Status != in[i].Status {
			t.Fatalf("post %d = %+v; want %+v", i, p, in[i])
		}
	}
}

// Keyset listing.
//
// The four list queries of a table take structurally identical parameter structs,
// so one function type can front all of them; the conversions below only compile
// while that holds.

type (
	postLister func(context.Context, sqlc.ListPostsByIDAscParams) ([]sqlc.Post, error)
	userLister func(context.Context, sqlc.ListUsersByIDAscParams) ([]sqlc.User, error)
)

type sortCase[T any] struct {
	name string
	less func(a, b T) int // the expected order
}

func postListers(q *sqlc.Queries) map[string]postLister {
	return map[string]postLister{
		"id_asc": q.ListPostsByIDAsc,
		"id_desc": func(ctx context.Context, p sqlc.ListPostsByIDAscParams) ([]sqlc.Post, error) {
			return q.ListPostsByIDDesc(ctx, sqlc.ListPostsByIDDescParams(p))
		},
		"created_at_asc": func(ctx context.Context, p sqlc.ListPostsByIDAscParams) ([]sqlc.Post, error) {
			return q.ListPostsByCreatedAtAsc(ctx, sqlc.ListPostsByCreatedAtAscParams(p))
		},
		"created_at_desc": func(ctx context.Context, p sqlc.ListPostsByIDAscParams) ([]sqlc.Post, error) {
			return q.ListPostsByCreatedAtDesc(ctx, sqlc.ListPostsByCreatedAtDescParams(p))
		},
	}
}

// convertRows converts rows of one list query to the row type of another with the
// same columns.
func convertRows[R, T any](rows []R, conv func(R) T) []T {
	out := make([]T, len(rows))
	for i, r := range rows {
		out[i] = conv(r)
	}
	return out
}

// userOf is the user of a list row, which has no password hash.
func userOf(r sqlc.ListUsersByIDAscRow) sqlc.User {
	return sqlc.User{ID: r.ID, Email: r.Email, DisplayName: r.DisplayName, Role: r.Role, IsActive: r.IsActive, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func userListers(q *sqlc.Queries) map[string]userLister {
	return map[string]userLister{
		"id_asc": func(ctx context.Context, p sqlc.ListUsersByIDAscParams) ([]sqlc.User, error) {
			rows, err := q.ListUsersByIDAsc(ctx, p)
			return convertRows(rows, userOf), err
		},
		"id_desc": func(ctx context.Context, p sqlc.ListUsersByIDAscParams) ([]sqlc.User, error) {
			rows, err := q.ListUsersByIDDesc(ctx, sqlc.ListUsersByIDDescParams(p))
			return convertRows(rows, func(r sqlc.ListUsersByIDDescRow) sqlc.User { return userOf(sqlc.ListUsersByIDAscRow(r)) }), err
		},
		"created_at_asc": func(ctx context.Context, p sqlc.ListUsersByIDAscParams) ([]sqlc.User, error) {
			rows, err := q.ListUsersByCreatedAtAsc(ctx, sqlc.ListUsersByCreatedAtAscParams(p))
			return convertRows(rows, func(r sqlc.ListUsersByCreatedAtAscRow) sqlc.User { return userOf(sqlc.ListUsersByIDAscRow(r)) }), err
		},
		"created_at_desc": func(ctx context.Context, p sqlc.ListUsersByIDAscParams) ([]sqlc.User, error) {
			rows, err := q.ListUsersByCreatedAtDesc(ctx, sqlc.ListUsersByCreatedAtDescParams(p))
			return convertRows(rows, func(r sqlc.ListUsersByCreatedAtDescRow) sqlc.User { return userOf(sqlc.ListUsersByIDAscRow(r)) }), err
		},
	}
}

// keyOrder returns the expected order for a sort key and direction, given how to
// read a row's id and created_at.
func keyOrder[T any](name string, id func(T) int64, createdAt func(T) time.Time) func(a, b T) int {
	byID := func(a, b T) int { return cmp.Compare(id(a), id(b)) }
	byCreatedAt := func(a, b T) int {
		if c := createdAt(a).Compare(createdAt(b)); c != 0 {
			return c
		}
		return byID(a, b)
	}
	switch name {
	case "id_asc":
		return byID
	case "id_desc":
		return func(a, b T) int { return byID(b, a) }
	case "created_at_asc":
		return byCreatedAt
	case "created_at_desc":
		return func(a, b T) int { return byCreatedAt(b, a) }
	}
	panic("unknown sort " + name)
}

// pageThrough lists every page of list, feeding the last row of each page back as the
// cursor, and returns the rows in order and the number of non-empty pages.
func pageThrough[T any](t *testing.T, list func(context.Context, int64, time.Time, bool) ([]T, error),
	limit int, id func(T) int64, createdAt func(T) time.Time,
) ([]T, int) {
	t.Helper()
	var (
		all       []T
		pages     int
		afterID   int64
		afterAt   time.Time
		hasCursor bool
	)
	for range 1000 {
		page, err := list(t.Context(), afterID, afterAt, hasCursor)
		if err != nil {
			t.Fatalf("page %d: %v", pages+1, err)
		}
		if page == nil {
			t.Fatalf("page %d is a nil slice; want an empty slice", pages+1)
		}
		if len(page) > limit {
			t.Fatalf("page %d has %d rows; limit is %d", pages+1, len(page), limit)
		}
		if len(page) > 0 {
			pages++
		}
		all = append(all, page...)
		if len(page) < limit {
			return all, pages
		}
		last := page[len(page)-1]
		afterID, afterAt, hasCursor = id(last), createdAt(last), true
	}
	t.Fatal("pagination does not end")
	return nil, 0
}

func ids[T any](rows []T, id func(T) int64) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = id(r)
	}
	return out
}

func postID(p sqlc.Post) int64            { return p.ID }
func postCreatedAt(p sqlc.Post) time.Time { return p.CreatedAt }
func userID(u sqlc.User) int64            { return u.ID }
func userCreatedAt(u sqlc.User) time.Time { return u.CreatedAt }

// allPosts returns every post matching the filters of p, ordered by id, through the
// list query itself with a large page.
func allPosts(t *testing.T, q *sqlc.Queries, p sqlc.ListPostsByIDAscParams) []sqlc.Post {
	t.Helper()
	p.PageLimit = 10_000
	rows, err := q.ListPostsByIDAsc(t.Context(), p)
	if err != nil {
		t.Fatalf("ListPostsByIDAsc: %v", err)
	}
	return rows
}

// spreadCreatedAt rewrites created_at so that it is neither unique nor in id order:
// rows fall into a few groups that share one timestamp, which exercises the id
// tie-breaker of the (created_at, id) cursor.
func spreadCreatedAt(t *testing.T, pool *pgxpool.Pool, table string) {
	t.Helper()
	_, err := pool.Exec(t.Context(), fmt.Sprintf(
		`UPDATE %s SET created_at = timestamptz '2024-01-01 00:00:00+00' - ((id * 7) %% 5) * interval '1 minute'`, table))
	if err != nil {
		t.Fatalf("spread created_at: %v", err)
	}
}

func TestListPostsKeyset(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := testdb.New(t)
	q := sqlc.New(pool)

	a1 := mustCreateUser(t, q, "a1@example.com")
	a2 := mustCreateUser(t, q, "a2@example.com")
	loner := mustCreateUser(t, q, "loner@example.com") // no posts

	var in []sqlc.CreatePostsParams
	for i := range 40 {
		author := a1.ID
		if i%3 == 2 {
			author = a2.ID
		}
		in = append(in, sqlc.CreatePostsParams{
			AuthorID: author,
			Title:    fmt.Sprintf("Post %d", i),
			Status:   []string{"draft", "published"}[i%2],
		})
	}
	if n, err := q.CreatePosts(ctx, in); err != nil || n != int64(len(in)) {
		t.Fatalf("CreatePosts = %d, %v", n, err)
	}
	spreadCreatedAt(t, pool, "posts")
	// One more row, created after the others.
	if _, err := q.CreatePost(ctx, sqlc.CreatePostParams{AuthorID: a2.ID, Title: "Latest", Status: "published"}); err != nil {
		t.Fatal(err)
	}
	every := allPosts(t, q, sqlc.ListPostsByIDAscParams{})
	if len(every) != 41 {
		t.Fatalf("%d posts; want 41", len(every))
	}

	filters := []struct {
		name string
		p    sqlc.ListPostsByIDAscParams
		keep func(sqlc.Post) bool
	}{
		{"none", sqlc.ListPostsByIDAscParams{}, func(sqlc.Post) bool { return true }},
		{"author", sqlc.ListPostsByIDAscParams{AuthorID: ptr(a1.ID)},
			func(p sqlc.Post) bool { return p.AuthorID == a1.ID }},
		{"status", sqlc.ListPostsByIDAscParams{Status: ptr("published")},
			func(p sqlc.Post) bool { return p.Status == "published" }},
		{"author and status", sqlc.ListPostsByIDAscParams{AuthorID: ptr(a2.ID), Status: ptr("draft")},
			func(p sqlc.Post) bool { return p.AuthorID == a2.ID && p.Status == "draft" }},
		{"author without posts", sqlc.ListPostsByIDAscParams{AuthorID: ptr(loner.ID)},
			func(sqlc.Post) bool { return false }},
	}

	const limit = 4
	for sortName, list := range postListers(q) {
		for _, f := range filters {
			t.Run(sortName+"/"+f.name, func(t *testing.T) {
				want := slices.Clone(every)
				want = slices.DeleteFunc(want, func(p sqlc.Post) bool { return !f.keep(p) })
				slices.SortFunc(want, keyOrder(sortName, postID, postCreatedAt))

				got, pages := pageThrough(t, func(ctx context.Context, afterID int64, afterAt time.Time, has bool) ([]sqlc.Post, error) {
					p := f.p
					p.PageLimit = limit
					if has {
						p.AfterID, p.AfterCreatedAt = ptr(afterID), ptr(afterAt)
					}
					return list(ctx, p)
				}, limit, postID, postCreatedAt)

				if !slices.Equal(ids(got, postID), ids(want, postID)) {
					t.Fatalf("paged ids\n got %v\nwant %v", ids(got, postID), ids(want, postID))
				}
				if wantPages := (len(want) + limit - 1) / limit; pages != wantPages {
					t.Fatalf("%d pages; want %d", pages, wantPages)
				}
				if f.name != "author without posts" && pages < 2 {
					t.Fatalf("only %d page(s); the data should span several", pages)
				}
				for i := range got {
					if !equalPosts(got[i], want[i]) {
						t.Fatalf("row %d = %+v; want %+v", i, got[i], want[i])
					}
				}

				n, err := q.CountPosts(ctx, sqlc.CountPostsParams{AuthorID: f.p.AuthorID, Status: f.p.Status, MaxCount: 1000})
				if err != nil || n != int64(len(want)) {
					t.Fatalf("CountPosts = %d, %v; want %d", n, err, len(want))
				}
			})
		}
	}

	t.Run("id sorts ignore after_created_at", func(t *testing.T) {
		future := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
		past := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
		for _, sortName := range []string{"id_asc", "id_desc"} {
			for _, at := range []time.Time{future, past} {
				got, err := postListers(q)[sortName](ctx, sqlc.ListPostsByIDAscParams{AfterCreatedAt: ptr(at), PageLimit: limit})
				if err != nil {
					t.Fatal(err)
				}
				want := slices.Clone(every)
				slices.SortFunc(want, keyOrder(sortName, postID, postCreatedAt))
				if !slices.Equal(ids(got, postID), ids(want[:limit], postID)) {
					t.Fatalf("%s with after_created_at=%v: %v; want %v", sortName, at, ids(got, postID), ids(want[:limit], postID))
				}
			}
		}
	})
}

func TestListUsersKeyset(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := testdb.New(t)
	q := sqlc.New(pool)

	var in []sqlc.CreateUsersParams
	for i := range 30 {
		in = append(in, sqlc.CreateUsersParams{
			Email:        fmt.Sprintf("user%02d@example.com", i),
			DisplayName:  fmt.Sprintf("User %d", i),
			PasswordHash: "h",
			Role:         []string{"user", "user", "admin"}[i%3],
			IsActive:     i%4 != 0,
		})
	}
	if n, err := q.CreateUsers(ctx, in); err != nil || n != int64(len(in)) {
		t.Fatalf("CreateUsers = %d, %v", n, err)
	}
	spreadCreatedAt(t, pool, "users")
	mustCreateUser(t, q, "latest@example.com")

	every, err := userListers(q)["id_asc"](ctx, sqlc.ListUsersByIDAscParams{PageLimit: 10_000})
	if err != nil || len(every) != 31 {
		t.Fatalf("ListUsersByIDAsc = %d rows, %v; want 31", len(every), err)
	}

	filters := []struct {
		name string
		p    sqlc.ListUsersByIDAscParams
		keep func(sqlc.User) bool
	}{
		{"none", sqlc.ListUsersByIDAscParams{}, func(sqlc.User) bool { return true }},
		{"role", sqlc.ListUsersByIDAscParams{Role: ptr("admin")},
			func(u sqlc.User) bool { return u.Role == "admin" }},
		{"inactive", sqlc.ListUsersByIDAscParams{IsActive: ptr(false)},
			func(u sqlc.User) bool { return !u.IsActive }},
		{"role and active", sqlc.ListUsersByIDAscParams{Role: ptr("user"), IsActive: ptr(true)},
			func(u sqlc.User) bool { return u.Role == "user" && u.IsActive }},
	}

	const limit = 3
	for sortName, list := range userListers(q) {
		for _, f := range filters {
			t.Run(sortName+"/"+f.name, func(t *testing.T) {
				want := slices.Clone(every)
				want = slices.DeleteFunc(want, func(u sqlc.User) bool { return !f.keep(u) })
				slices.SortFunc(want, keyOrder(sortName, userID, userCreatedAt))

				got, pages := pageThrough(t, func(ctx context.Context, afterID int64, afterAt time.Time, has bool) ([]sqlc.User, error) {
					p := f.p
					p.PageLimit = limit
					if has {
						p.AfterID, p.AfterCreatedAt = ptr(afterID), ptr(afterAt)
					}
					return list(ctx, p)
				}, limit, userID, userCreatedAt)

				if !slices.Equal(ids(got, userID), ids(want, userID)) {
					t.Fatalf("paged ids\n got %v\nwant %v", ids(got, userID), ids(want, userID))
				}
				if wantPages := (len(want) + limit - 1) / limit; pages != wantPages || pages < 2 {
					t.Fatalf("%d pages; want %d (at least 2)", pages, wantPages)
				}
				for i := range got {
					if !equalUsers(got[i], want[i]) {
						t.Fatalf("row %d = %+v; want %+v", i, got[i], want[i])
					}
				}

				n, err := q.CountUsers(ctx, sqlc.CountUsersParams{Role: f.p.Role, IsActive: f.p.IsActive, MaxCount: 1000})
				if err != nil || n != int64(len(want)) {
					t.Fatalf("CountUsers = %d, %v; want %d", n, err, len(want))
				}
			})
		}
	}
}

// equalUsers and equalPosts compare rows field by field, timestamps by instant.
func equalUsers(a, b sqlc.User) bool {
	return a.ID == b.ID && a.Email == b.Email && a.DisplayName == b.DisplayName &&
		a.PasswordHash == b.PasswordHash && a.Role == b.Role && a.IsActive == b.IsActive &&
		a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt)
}

func equalPosts(a, b sqlc.Post) bool {
	return a.ID == b.ID && a.AuthorID == b.AuthorID && a.Title == b.Title && a.Body == b.Body &&
		a.Status == b.Status && a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt)
}
