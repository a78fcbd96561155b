package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"testing"
	"time"

	"github.com/quarrydev/quarry/internal/core/reqctx"
)

// TestAccessLogWritesWhatTheJSONLoggerWrites: the hand-encoded line decodes to the same
// fields as the JSON logger's record of the same request, awkward paths included.
func TestAccessLogWritesWhatTheJSONLoggerWrites(t *testing.T) {
	for _, path := range []string{
		"/api/v1/posts/42",
		"/a \"quoted\" \\ path\n\twith\x01control",
		"/<html>&amp;/é/\u2028/\xff\xfe",
	} {
		e := AccessEntry{
			Time: time.Date(2026, 11, 30, 3, 4, 5, 678_900_000, time.UTC), Level: slog.LevelError,
			Method: "GET", Route: "/api/v1/posts/:id", Path: path, Status: 503,
			Latency: 1234567 * time.Nanosecond, Bytes: 321, ClientIP: "192.0.2.1", RequestID: "abc-123",
		}
		var got, want bytes.Buffer
		if err := NewAccessLog(&got).Write(&e); err != nil {
			t.Fatal(err)
		}
		log := slog.New(RequestHandler(slog.NewJSONHandler(&want, nil)))
		ctx := reqctx.With(context.Background(), &reqctx.Info{RequestID: e.RequestID}, log)
		log.LogAttrs(ctx, e.Level, "request",
			slog.String("method", e.Method), slog.String("route", e.Route), slog.String("path", e.Path),
			slog.Int("status", e.Status), slog.Float64("latency_ms", float64(e.Latency.Microseconds())/1000),
			slog.Int("bytes", e.Bytes), slog.String("client_ip", e.ClientIP))
		var g, w map[string]any
		if err := json.Unmarshal(got.Bytes(), &g); err != nil {
			t.Fatalf("%q: %v", got.String(), err)
		}
		if err := json.Unmarshal(want.Bytes(), &w); err != nil {
			t.Fatal(err)
		}
		if g["time"] != "2026-11-30T03:04:05.678Z" {
			t.Errorf("time %v", g["time"])
		}
		delete(g, "time")
		delete(w, "time")
		if !maps.Equal(g, w) {
			t.Errorf("path %q:\n got %s\nwant %s", path, got.String(), want.String())
		}
		if bytes.Count(got.Bytes(), []byte("\n")) != 1 {
			t.Errorf("not one line: %q", got.String())
		}
	}
}

// BenchmarkAccessLog compares the access log's encoder with the JSON logger writing
// the same line.
//
//	go test -run '^$' -bench AccessLog -benchmem ./internal/core/logging/
func BenchmarkAccessLog(b *testing.B) {
	e := AccessEntry{Time: time.Now(), Method: "GET", Route: "/api/v1/posts/:id", Path: "/api/v1/posts/42",
		Status: 200, Latency: 1234567, Bytes: 321, ClientIP: "192.0.2.1", RequestID: "0123456789ab0123456789ab"}
	b.Run("encoder", func(b *testing.B) {
		l := NewAccessLog(discard{})
		b.ReportAllocs()
		for b.Loop() {
			_ = l.Write(&e)
		}
	})
	b.Run("slog", func(b *testing.B) {
		log := slog.New(RequestHandler(slog.NewJSONHandler(discard{}, nil)))
		ctx := reqctx.With(context.Background(), &reqctx.Info{RequestID: e.RequestID}, log)
		b.ReportAllocs()
		for b.Loop() {
			log.LogAttrs(ctx, e.Level, "request",
				slog.String("method", e.Method), slog.String("route", e.Route), slog.String("path", e.Path),
				slog.Int("status", e.Status), slog.Float64("latency_ms", float64(e.Latency.Microseconds())/1000),
				slog.Int("bytes", e.Bytes), slog.String("client_ip", e.ClientIP))
		}
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// TestAppendTimeMillis: the digit-by-digit time is the layout's, zones and odd years
// included.
func TestAppendTimeMillis(t *testing.T) {
	zones := []*time.Location{time.UTC, time.FixedZone("", 5*3600+45*60), time.FixedZone("", -(9*3600 + 30*60)), time.FixedZone("", 30), time.FixedZone("", -1)}
	times := []time.Time{
		{}, time.Now(), time.Unix(0, 0), time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC), time.Date(2026, 11, 30, 23, 0, 0, 999_000, time.UTC),
	}
	for _, tm := range times {
		for _, z := range zones {
			in := tm.In(z)
			if got, want := string(appendTimeMillis([]byte("x"), in)), "x"+in.Format(timeLayout); got != want {
				t.Errorf("appendTimeMillis(%v) = %s, want %s", in, got, want)
			}
		}
	}
}
