package db

import (
	"context"
	"testing"
)

// BenchmarkRoutingDecision measures what choosing where a read-only query runs costs
// per query: nothing but a nil check without replicas; with two replicas, the
// round-robin pick of one that has replayed the request's session.
func BenchmarkRoutingDecision(b *testing.B) {
	ctx := context.Background()
	b.Run("no replicas", func(b *testing.B) {
		var rs *Replicas
		for b.Loop() {
			if rs.pick(ctx) != nil {
				b.Fatal("picked a replica from none")
			}
		}
	})
	rs := &Replicas{}
	for range 2 {
		r := &replica{set: rs}
		r.usable.Store(true)
		r.replayLSN.Store(1 << 40)
		rs.list = append(rs.list, r)
	}
	b.Run("two replicas", func(b *testing.B) {
		for b.Loop() {
			if rs.pick(ctx) == nil {
				b.Fatal("no replica picked")
			}
		}
	})
	sctx := WithSession(ctx, NewSession(1<<39))
	b.Run("two replicas, session", func(b *testing.B) {
		for b.Loop() {
			if rs.pick(sctx) == nil {
				b.Fatal("no replica picked")
			}
		}
	})
	b.Run("two replicas, session, concurrent", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if rs.pick(sctx) == nil {
					b.Error("no replica picked")
					return
				}
			}
		})
	})
}
