package reqctx_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/quarrydev/quarry/internal/core/reqctx"
)

func TestWithTimeoutCarriesInfoAndSlots(t *testing.T) {
	type other struct{}
	parent := context.WithValue(context.Background(), other{}, "parent")
	ctx, info, cancel := reqctx.WithTimeout(parent, reqctx.Info{RequestID: "r1"}, nil, time.Hour)
	defer cancel()
	if reqctx.From(ctx) != info || info.RequestID != "r1" || ctx.Value(other{}) != "parent" {
		t.Fatalf("info %+v, parent value %v", reqctx.From(ctx), ctx.Value(other{}))
	}
	if _, ok := ctx.Deadline(); !ok {
		t.Fatal("no deadline")
	}
	info.ActorID = 7
	if got, _ := reqctx.Lookup(ctx); got.ActorID != 7 {
		t.Fatalf("ActorID %d, want 7", got.ActorID)
	}

	// Slots: set, replace, read through a context derived from the request's, and
	// refuse once every place is taken.
	if !reqctx.SetSlot(ctx, "a", 1) || !reqctx.SetSlot(ctx, "a", 2) {
		t.Fatal("SetSlot refused")
	}
	child, stop := context.WithCancel(ctx)
	defer stop()
	if v, ok := reqctx.GetSlot(child, "a"); !ok || v != 2 {
		t.Fatalf("slot a = %v %v, want 2", v, ok)
	}
	if _, ok := reqctx.GetSlot(ctx, "b"); ok {
		t.Fatal("slot b is set")
	}
	n := 1
	for reqctx.SetSlot(ctx, "s"+strconv.Itoa(n), n) {
		n++
		if n > 100 {
			t.Fatal("SetSlot never runs out of places")
		}
	}
	if v, ok := reqctx.GetSlot(ctx, "s1"); !ok || v != 1 {
		t.Fatalf("slot s1 = %v %v after filling", v, ok)
	}

	// Outside a request there is nowhere to keep a value.
	if reqctx.SetSlot(context.Background(), "a", 1) {
		t.Fatal("SetSlot outside a request")
	}
	if _, ok := reqctx.GetSlot(context.Background(), "a"); ok {
		t.Fatal("GetSlot outside a request")
	}
	cancel()
	if ctx.Err() == nil {
		t.Fatal("cancel did not end the context")
	}
}
