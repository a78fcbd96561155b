package cli

import (
	"reflect"
	"testing"

	"ariga.io/atlas/sql/schema"
)

func TestDestructiveNamesDroppedTablesAndColumns(t *testing.T) {
	posts := schema.NewTable("posts")
	changes := []schema.Change{
		&schema.AddTable{T: schema.NewTable("comments")},
		&schema.DropTable{T: schema.NewTable("old")},
		&schema.ModifyTable{T: posts, Changes: []schema.Change{
			&schema.AddColumn{C: schema.NewColumn("pinned")},
			&schema.DropColumn{C: schema.NewColumn("legacy")},
		}},
	}
	got := destructive(changes)
	if want := []string{"drop table old", "drop column posts.legacy"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("destructive = %v, want %v", got, want)
	}
	if got := destructive(changes[:1]); len(got) != 0 {
		t.Fatalf("adding a table is not destructive: %v", got)
	}
}
