package main

import "testing"

func TestReadOnlyStatement(t *testing.T) {
	for _, c := range []struct {
		sql  string
		want bool
	}{
		{"-- name: GetPost :one\nSELECT id FROM posts WHERE id = $1\n", true},
		{"(SELECT 1 FROM posts) UNION ALL (SELECT 2 FROM posts)", true},
		{"WITH t AS (SELECT 1) SELECT * FROM t", true},
		{"SELECT 'insert into x' AS s, \"update\" FROM t -- delete\n/* update /* nested */ */", true},
		{"SELECT $tag$ for update $tag$, $1", true},
		{"SELECT id FROM posts WHERE id = $1 FOR UPDATE", false},
		{"SELECT id FROM posts FOR NO KEY UPDATE", false},
		{"SELECT id FROM posts FOR KEY SHARE", false},
		{"WITH d AS (DELETE FROM posts RETURNING id) SELECT * FROM d", false},
		{"INSERT INTO posts (title) VALUES ($1) RETURNING id", false},
		{"UPDATE posts SET title = $1 RETURNING id", false},
		{"SELECT * INTO copy_of_posts FROM posts", false},
		{"SELECT nextval('posts_id_seq')", false},
		{"SELECT pg_advisory_lock(1)", false},
		{"SELECT 1; DELETE FROM posts", false},
		{"SELECT E'it\\'s; update'", true},
		{"", false},
	} {
		if got := readOnlyStatement(c.sql); got != c.want {
			t.Errorf("readOnlyStatement(%q) = %v, want %v", c.sql, got, c.want)
		}
	}
}

func TestReadQueriesClassifiesTheGeneratedQueries(t *testing.T) {
	infos, err := readQueries("../sqlc")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{
		"GetPost": true, "ListPostsByIDDesc": true, "CountPosts": true,
		"GetPostForUpdate": false, "CreatePost": false, "UpdatePost": false, "DeletePost": false,
	} {
		info, ok := infos[name]
		if !ok {
			t.Errorf("%s: not found in the sqlc package", name)
			continue
		}
		if info.readOnly != want {
			t.Errorf("%s (:%s): read-only = %v, want %v", name, info.kind, info.readOnly, want)
		}
	}
	if info, ok := infos["CreatePosts"]; ok && info.readOnly { // :copyfrom has no SQL constant
		t.Errorf("CreatePosts is classified read-only")
	}
}
