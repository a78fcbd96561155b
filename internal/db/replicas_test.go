package db

import (
	"context"
	"slices"
	"testing"
)

func TestLSNRoundTrip(t *testing.T) {
	for _, s := range []string{"0/0", "0/16b3748", "16/b374d848", "ffffffff/ffffffff"} {
		l, err := ParseLSN(s)
		if err != nil {
			t.Fatalf("ParseLSN(%q): %v", s, err)
		}
		if l.String() != s {
			t.Errorf("ParseLSN(%q).String() = %q", s, l.String())
		}
	}
	if a, b := mustLSN(t, "1/0"), mustLSN(t, "0/FFFFFFFF"); a <= b {
		t.Errorf("1/0 (%d) is not after 0/FFFFFFFF (%d)", a, b)
	}
	for _, bad := range []string{"", "16", "16/", "/1", "g/1", "1/2/3", "123456789/0", "-1/0"} {
		if _, err := ParseLSN(bad); err == nil {
			t.Errorf("ParseLSN(%q) accepted", bad)
		}
	}
}

func mustLSN(t *testing.T, s string) LSN {
	t.Helper()
	l, err := ParseLSN(s)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestSessionOnlyMovesForward(t *testing.T) {
	var seen []LSN
	s := NewSession(100)
	s.OnAdvance = func(l LSN) { seen = append(seen, l) }
	s.advance(50)
	if s.After() != 100 || s.Advanced() {
		t.Fatalf("after advancing to an earlier position: After %d, Advanced %v; want 100, false", s.After(), s.Advanced())
	}
	s.advance(200)
	if s.After() != 200 || !s.Advanced() || !slices.Equal(seen, []LSN{200}) {
		t.Fatalf("After %d, Advanced %v, OnAdvance saw %v; want 200, true, [200]", s.After(), s.Advanced(), seen)
	}
	ctx := WithSession(context.Background(), s)
	if sessionFrom(ctx) != s || sessionFrom(context.Background()) != nil {
		t.Error("WithSession does not carry the session")
	}
}

func TestWithoutReplicasEveryQueryUsesThePrimary(t *testing.T) {
	var rs *Replicas
	if r := rs.pick(context.Background()); r != nil {
		t.Fatalf("pick on no replicas = %v, want nil", r)
	}
	q := queries{}
	if err := q.wrote(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
}

func TestReplicaReadsAreDerivedFromTheSQL(t *testing.T) {
	for _, name := range []string{"GetPost", "GetUserByEmail", "ListPostsByIDDesc", "CountPosts", "PostExists"} {
		if !slices.Contains(replicaReads, name) {
			t.Errorf("%s is read-only but not routed to replicas", name)
		}
	}
	for _, name := range []string{"GetPostForUpdate", "GetUserForUpdate", "GetRefreshTokenForUpdate", "CreatePost", "UpdatePost", "DeletePost", "CreatePosts", "CreateAuditEvent"} {
		if slices.Contains(replicaReads, name) {
			t.Errorf("%s writes or locks but is routed to replicas", name)
		}
	}
}
