package pgcluster

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// childModeEnv makes the test binary act as a process that starts a temporary cluster,
// prints its port and data directory, and waits to be killed.
const childModeEnv = "PGCLUSTER_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childModeEnv) == "1" {
		os.Exit(runChild())
	}
	os.Exit(m.Run())
}

func runChild() int {
	c, err := Ensure(context.Background(), Options{})
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	fmt.Println("ready", c.Port, c.Dir)
	select {}
}

// TestKilledParentStopsServer checks that a temporary cluster does not outlive a process
// killed with SIGKILL.
func TestKilledParentStopsServer(t *testing.T) {
	t.Parallel()
	binariesOrSkip(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childModeEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		t.Fatalf("child: %v", err)
	}
	fields := strings.Fields(line)
	if len(fields) != 3 || fields[0] != "ready" {
		_ = cmd.Process.Kill()
		t.Fatalf("child said %q", line)
	}
	port, _ := strconv.Atoi(fields[1])
	dataDir := fields[2]
	t.Cleanup(func() { _ = os.RemoveAll(filepath.Dir(dataDir)) })
	url := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	if !Reachable(context.Background(), url) {
		t.Fatal("server of the child does not answer")
	}

	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for Reachable(context.Background(), url) {
		if time.Now().After(deadline) {
			t.Fatal("server still answers 10s after its parent was killed")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
