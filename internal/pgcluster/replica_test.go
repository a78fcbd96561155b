package pgcluster

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestStartReplicaStreamsAndStops(t *testing.T) {
	t.Parallel()
	bins := binariesOrSkip(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	primary, err := Ensure(ctx, Options{Binaries: &bins, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = primary.Stop(context.Background()) })
	start := time.Now()
	replica, err := primary.StartReplica(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("replica up in %v", time.Since(start))
	if replica.Primary != primary || !replica.Temporary || replica.Port == primary.Port {
		t.Fatalf("replica = %+v, want a temporary cluster of its own streaming from the primary", replica)
	}

	var recovering bool
	if err := queryOne(ctx, replica.URL("postgres"), "SELECT pg_is_in_recovery()", &recovering); err != nil || !recovering {
		t.Fatalf("pg_is_in_recovery() on the replica = %v, %v; want true", recovering, err)
	}
	if err := queryOne(ctx, primary.URL("postgres"), "CREATE TABLE streamed AS SELECT 42 AS answer", new(any)); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		t.Fatal(err)
	}
	var answer int
	for {
		err := queryOne(ctx, replica.URL("postgres"), "SELECT answer FROM streamed", &answer)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the primary's table never reached the replica: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if answer != 42 {
		t.Errorf("answer on the replica = %d, want 42", answer)
	}

	if err := replica.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(replica.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("replica directory after Stop: %v, want it gone", err)
	}
	if !Reachable(ctx, primary.URL("postgres")) {
		t.Error("stopping the replica stopped the primary")
	}
}
