package paging_test

import (
	"strings"
	"testing"

	"github.com/quarrydev/quarry/internal/core/paging"
)

func TestCheckSortTag(t *testing.T) {
	t.Parallel()
	type req struct {
		Sort string `form:"sort" binding:"omitempty,oneof=-created_at created_at"`
	}
	type noList struct {
		Sort string `form:"sort"`
	}
	if err := paging.CheckSortTag(&req{}, []string{"created_at", "-created_at"}); err != nil {
		t.Errorf("same keys in another order: %v", err)
	}
	for name, tc := range map[string]struct {
		req  any
		keys []string
		want string
	}{
		"a key the tag lacks": {req{}, []string{"-created_at", "created_at", "id"}, "but the list declares"},
		"no whitelist":        {noList{}, []string{"id"}, "no oneof whitelist"},
		"no sort field":       {struct{ Limit int }{}, []string{"id"}, "no sort field"},
	} {
		if err := paging.CheckSortTag(tc.req, tc.keys); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error saying %q", name, err, tc.want)
		}
	}
}
