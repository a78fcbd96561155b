package cli

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/testdb"
)

func TestUnknownSubcommandFails(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"migrate", "lnt"}, `unknown command "lnt" for "api migrate"`},
		{[]string{"migrate", "statu"}, `did you mean "status"?`},
		{[]string{"migrat"}, `did you mean "migrate"?`},
		{[]string{"openapi", "dif"}, `did you mean "diff"?`},
		{[]string{"tokens", "prnue"}, `unknown command "prnue" for "api tokens"`},
	}
	for _, tt := range tests {
		root := NewRoot()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&out)
		root.SetArgs(tt.args)
		err := root.Execute()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("api %s: err %v, want one containing %q", strings.Join(tt.args, " "), err, tt.want)
		}
	}
	// A group without arguments still prints its help and succeeds.
	root := NewRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"migrate"})
	if err := root.Execute(); err != nil || !strings.Contains(out.String(), "apply") {
		t.Errorf("api migrate: %v\n%s", err, out.String())
	}
}

func TestCreateDatabaseRace(t *testing.T) {
	adminURL, err := db.WithDatabase(testdb.ServerURL(), "postgres")
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("quarry_devrace_%d", time.Now().UnixNano())
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()); err != nil {
			t.Error(err)
		}
	})
	var wg sync.WaitGroup
	errs := make([]error, 6)
	start := make(chan struct{})
	for i := range errs {
		wg.Go(func() {
			<-start
			errs[i] = createDatabase(context.Background(), adminURL, name, func(string, ...any) {})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("creator %d: %v", i, err)
		}
	}
}
