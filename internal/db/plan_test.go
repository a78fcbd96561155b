package db_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/db/sqlc"
	"github.com/quarrydev/quarry/internal/testdb"
)

// recorder keeps the SQL and arguments of the last query the pool sent.
type recorder struct {
	mu   sync.Mutex
	sql  string
	args []any
}

func (r *recorder) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sql, r.args = d.SQL, d.Args
	return ctx
}

func (r *recorder) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (r *recorder) last() (string, []any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sql, r.args
}

// planPage is the page size the gate runs the lists with (limit+1 rows are read).
const planPage = 21

// TestListAndCountPlansUnderGenericPlans is the query-plan gate. pgx's statement
// cache makes PostgreSQL plan each list and count query once, generically, without
// looking at the values: the plan must then serve every filter combination. On
// seeded data, every list and count query of posts and users runs, for every
// filter shape, as a generic plan (plan_cache_mode = force_generic_plan), and the
// test fails on a sequential scan of posts or users, or on any scan that throws
// away more rows than a page holds (Rows Removed by Filter): the signs that a
// filter is not served by its index, as with "(@x IS NULL OR col = @x)".
func TestListAndCountPlansUnderGenericPlans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testdb.NewURL(t)
	rec := &recorder{}
	pool, err := db.NewPool(ctx, db.PoolConfig{URL: url, MaxConns: 2, Tracer: rec})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	seed(t, pool)
	store := db.NewStore(pool)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.Exec(ctx, "SET plan_cache_mode = force_generic_plan"); err != nil {
		t.Fatal(err)
	}

	author, admin := int64(0), "admin"
	if err := pool.QueryRow(ctx, "SELECT author_id FROM posts ORDER BY id LIMIT 1").Scan(&author); err != nil {
		t.Fatal(err)
	}
	draft, inactive, active, user := "draft", false, true, "user"
	postShapes := map[string]sqlc.ListPostsByIDAscParams{
		"none": {}, "author": {AuthorID: &author}, "status": {Status: &draft}, "author+status": {AuthorID: &author, Status: &draft},
	}
	userShapes := map[string]sqlc.ListUsersByIDAscParams{
		"none": {}, "role": {Role: &admin}, "is_active": {IsActive: &inactive}, "role+is_active": {Role: &user, IsActive: &active},
	}
	queries := map[string]struct {
		users bool
		run   func(p sqlc.ListPostsByIDAscParams, u sqlc.ListUsersByIDAscParams) error
	}{
		"ListPostsByIDAsc": {false, func(p sqlc.ListPostsByIDAscParams, _ sqlc.ListUsersByIDAscParams) error {
			_, err := store.ListPostsByIDAsc(ctx, p)
			return err
		}},
		"ListPostsByIDDesc": {false, func(p sqlc.ListPostsByIDAscParams, _ sqlc.ListUsersByIDAscParams) error {
			_, err := store.ListPostsByIDDesc(ctx, sqlc.ListPostsByIDDescParams(p))
			return err
		}},
		"ListPostsByCreatedAtAsc": {false, func(p sqlc.ListPostsByIDAscParams, _ sqlc.ListUsersByIDAscParams) error {
			_, err := store.ListPostsByCreatedAtAsc(ctx, sqlc.ListPostsByCreatedAtAscParams(p))
			return err
		}},
		"ListPostsByCreatedAtDesc": {false, func(p sqlc.ListPostsByIDAscParams, _ sqlc.ListUsersByIDAscParams) error {
			_, err := store.ListPostsByCreatedAtDesc(ctx, sqlc.ListPostsByCreatedAtDescParams(p))
			return err
		}},
		"CountPosts": {false, func(p sqlc.ListPostsByIDAscParams, _ sqlc.ListUsersByIDAscParams) error {
			_, err := store.CountPosts(ctx, sqlc.CountPostsParams{AuthorID: p.AuthorID, Status: p.Status, MaxCount: 10000})
			return err
		}},
		"ListUsersByIDAsc": {true, func(_ sqlc.ListPostsByIDAscParams, u sqlc.ListUsersByIDAscParams) error {
			_, err := store.ListUsersByIDAsc(ctx, u)
			return err
		}},
		"ListUsersByIDDesc": {true, func(_ sqlc.ListPostsByIDAscParams, u sqlc.ListUsersByIDAscParams) error {
			_, err := store.ListUsersByIDDesc(ctx, sqlc.ListUsersByIDDescParams(u))
			return err
		}},
		"ListUsersByCreatedAtAsc": {true, func(_ sqlc.ListPostsByIDAscParams, u sqlc.ListUsersByIDAscParams) error {
			_, err := store.ListUsersByCreatedAtAsc(ctx, sqlc.ListUsersByCreatedAtAscParams(u))
			return err
		}},
		"ListUsersByCreatedAtDesc": {true, func(_ sqlc.ListPostsByIDAscParams, u sqlc.ListUsersByIDAscParams) error {
			_, err := store.ListUsersByCreatedAtDesc(ctx, sqlc.ListUsersByCreatedAtDescParams(u))
			return err
		}},
		"CountUsers": {true, func(_ sqlc.ListPostsByIDAscParams, u sqlc.ListUsersByIDAscParams) error {
			_, err := store.CountUsers(ctx, sqlc.CountUsersParams{Role: u.Role, IsActive: u.IsActive, MaxCount: 10000})
			return err
		}},
	}
	for _, name := range sortedKeys(queries) {
		q := queries[name]
		shapes := sortedKeys(postShapes)
		if q.users {
			shapes = sortedKeys(userShapes)
		}
		for _, shape := range shapes {
			p, u := postShapes[shape], userShapes[shape]
			p.PageLimit, u.PageLimit = planPage, planPage
			if err := q.run(p, u); err != nil {
				t.Fatalf("%s/%s: %v", name, shape, err)
			}
			sql, args := rec.last()
			plan := explainGeneric(t, conn, sql, args)
			scans, problems := inspect(plan)
			t.Logf("%s/%s: %s", name, shape, strings.Join(scans, "; "))
			for _, p := range problems {
				t.Errorf("%s/%s: %s", name, shape, p)
			}
		}
	}
}

// seed fills posts and users with enough rows, in proportions that make a filter
// without its index visible: 2,000 users (1 in 50 an admin, 1 in 10 inactive) and
// 60,000 posts by 200 authors (1 in 3 a draft), then refreshes the statistics.
func seed(t *testing.T, pool *db.Pool) {
	t.Helper()
	for _, stmt := range []string{
		`INSERT INTO users (email, display_name, password_hash, role, is_active, created_at)
		 SELECT 'u' || g || '@example.com', 'User ' || g, 'x',
		        CASE WHEN g % 50 = 0 THEN 'admin' ELSE 'user' END, g % 10 <> 0, now() - g * interval '1 minute'
		 FROM generate_series(1, 2000) AS g`,
		`INSERT INTO posts (author_id, title, status, created_at)
		 SELECT (SELECT min(id) FROM users) + g % 200, 'Post ' || g,
		        CASE WHEN g % 3 = 0 THEN 'draft' ELSE 'published' END, now() - g * interval '1 second'
		 FROM generate_series(1, 60000) AS g`,
		`ANALYZE users, posts`,
	} {
		if _, err := pool.Exec(context.Background(), stmt); err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
}

// explainGeneric prepares sql on conn (whose plan_cache_mode forces generic plans),
// runs it with args under EXPLAIN ANALYZE and returns the plan's root node.
func explainGeneric(t *testing.T, conn *pgx.Conn, sql string, args []any) map[string]any {
	t.Helper()
	ctx := context.Background()
	if _, err := conn.Exec(ctx, "PREPARE gate AS "+sql); err != nil {
		t.Fatalf("prepare: %v\n%s", err, sql)
	}
	defer func() {
		if _, err := conn.Exec(ctx, "DEALLOCATE gate"); err != nil {
			t.Fatal(err)
		}
	}()
	lits := make([]string, len(args))
	for i, a := range args {
		lits[i] = literal(a)
	}
	var out []byte
	if err := conn.QueryRow(ctx, "EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE gate("+strings.Join(lits, ", ")+")").Scan(&out); err != nil {
		t.Fatalf("explain: %v", err)
	}
	var doc []struct {
		Plan map[string]any `json:"Plan"`
	}
	if err := json.Unmarshal(out, &doc); err != nil || len(doc) != 1 {
		t.Fatalf("explain output %s: %v", out, err)
	}
	return doc[0].Plan
}

// literal writes a query argument as an SQL literal for EXECUTE: NULL for a nil
// pointer, otherwise a quoted string the parameter's type reads.
func literal(a any) string {
	v := reflect.ValueOf(a)
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "NULL"
		}
		v = v.Elem()
	}
	s := fmt.Sprint(v.Interface())
	if tm, ok := v.Interface().(time.Time); ok {
		s = tm.Format(time.RFC3339Nano)
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// inspect walks plan and returns the scans that ran (node, index, rows removed) and
// the problems: sequential scans of posts or users, and scans that removed more rows
// by filter than a page holds.
func inspect(plan map[string]any) (scans, problems []string) {
	var walk func(n map[string]any)
	walk = func(n map[string]any) {
		node, _ := n["Node Type"].(string)
		rel, _ := n["Relation Name"].(string)
		removed, _ := n["Rows Removed by Filter"].(float64)
		loops, _ := n["Actual Loops"].(float64)
		if strings.HasSuffix(node, "Scan") && rel != "" && loops > 0 {
			desc := node + " on " + rel
			if idx, ok := n["Index Name"].(string); ok {
				desc = node + " using " + idx
			}
			scans = append(scans, fmt.Sprintf("%s (rows removed by filter: %.0f)", desc, removed))
		}
		if node == "Seq Scan" && (rel == "posts" || rel == "users") {
			problems = append(problems, "sequential scan of "+rel)
		}
		if removed > planPage {
			problems = append(problems, fmt.Sprintf("%s on %s removed %.0f rows by filter, more than a page (%d)", node, rel, removed, planPage))
		}
		children, _ := n["Plans"].([]any)
		for _, c := range children {
			if m, ok := c.(map[string]any); ok {
				walk(m)
			}
		}
	}
	walk(plan)
	return scans, problems
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
