package testdb

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/db/sqlc"
)

// seq numbers the rows fixtures make, so their unique values never collide.
var seq atomic.Int64

// User inserts a user with the generated CreateUser and returns it. Zero fields of p
// get defaults: a unique email and display name, a placeholder password hash (the
// user cannot sign in), role user. Users are created active. Failures end the test.
func User(t testing.TB, q db.Querier, p sqlc.CreateUserParams) sqlc.User {
	t.Helper()
	n := seq.Add(1)
	p.Email = or(p.Email, fmt.Sprintf("user%d@example.com", n))
	p.DisplayName = or(p.DisplayName, fmt.Sprintf("User %d", n))
	p.PasswordHash = or(p.PasswordHash, "seeded")
	p.Role = or(p.Role, "user")
	p.IsActive = true
	u, err := q.CreateUser(context.Background(), p)
	if err != nil {
		t.Fatalf("testdb.User(%s): %v", p.Email, err)
	}
	return u
}

// Post inserts a post with the generated CreatePost and returns it. Zero fields of p
// get defaults: a new author (see User), a unique title, status draft. Failures end
// the test.
func Post(t testing.TB, q db.Querier, p sqlc.CreatePostParams) sqlc.Post {
	t.Helper()
	if p.AuthorID == 0 {
		p.AuthorID = User(t, q, sqlc.CreateUserParams{}).ID
	}
	p.Title = or(p.Title, fmt.Sprintf("Post %d", seq.Add(1)))
	p.Status = or(p.Status, "draft")
	post, err := q.CreatePost(context.Background(), p)
	if err != nil {
		t.Fatalf("testdb.Post(%s): %v", p.Title, err)
	}
	return post
}

func or(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
