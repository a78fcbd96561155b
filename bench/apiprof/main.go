// Command apiprof is the api binary with net/http/pprof served on a second address, so
// the full stack can be CPU-profiled under load (the API itself exposes no pprof
// endpoint). It takes the same arguments and configuration as cmd/api; PPROF_ADDR
// (default 127.0.0.1:6060, loopback only) is where the profiles are served.
//
//	PPROF_ADDR=127.0.0.1:6060 apiprof serve &
//	go tool pprof -top 'http://127.0.0.1:6060/debug/pprof/profile?seconds=10'
package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/ on http.DefaultServeMux
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/quarrydev/quarry/internal/cli"
)

func main() {
	addr := os.Getenv("PPROF_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6060"
	}
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		fmt.Fprintf(os.Stderr, "error: PPROF_ADDR %q must be a loopback ip:port\n", addr)
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "error: PPROF_ADDR:", err)
		os.Exit(1)
	}
	go func() {
		srv := &http.Server{Handler: http.DefaultServeMux, ReadHeaderTimeout: 5 * time.Second}
		_ = srv.Serve(ln)
	}()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = cli.NewRoot().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}
