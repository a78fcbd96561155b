package password

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/quarrydev/quarry/internal/core/password/argon2"
)

// threadNice returns the nice value of the calling thread, read from
// /proc/thread-self/stat (field 19).
func threadNice(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/thread-self/stat")
	if err != nil {
		t.Fatal(err)
	}
	return niceOf(t, string(b))
}

// niceOf returns the nice value in the text of a /proc/…/stat file.
func niceOf(t *testing.T, stat string) int {
	t.Helper()
	// Fields after the command, which is in parentheses: state is field 3, nice 19.
	fields := strings.Fields(stat[strings.LastIndexByte(stat, ')')+1:])
	n, err := strconv.Atoi(fields[19-3])
	if err != nil {
		t.Fatalf("nice in %q: %v", stat, err)
	}
	return n
}

// threadsAtNice returns how many of the process's threads run at nice value nice.
func threadsAtNice(t *testing.T, nice int) int {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, task := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + task.Name() + "/stat")
		if err != nil {
			continue // the thread has ended meanwhile
		}
		if niceOf(t, string(b)) == nice {
			n++
		}
	}
	return n
}

// cpuTime returns the CPU time (user and system) of the calling thread
// (unix.RUSAGE_THREAD) or of the whole process (unix.RUSAGE_SELF).
func cpuTime(t *testing.T, who int) time.Duration {
	t.Helper()
	var ru unix.Rusage
	if err := unix.Getrusage(who, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestHashingRunsAtTheConfiguredNice hashes and verifies with the default parameters
// and a nice value set on the Hasher, and checks from inside each derivation that it
// runs on a thread at that nice value, that the thread did (nearly) all of the
// derivation's CPU work rather than goroutines on other threads, and that the
// Hasher's threads are the only ones at that nice value. Not parallel: it compares
// its thread's CPU time with the whole process's.
func TestHashingRunsAtTheConfiguredNice(t *testing.T) {
	const nice = 7 // not the default, so the setting is what is seen
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := threadNice(t)
	if before == nice {
		t.Fatalf("the test runs at nice %d already", nice)
	}
	h := NewHasher(DefaultParams(), 1, time.Minute)
	if err := h.SetNice(nice); err != nil {
		t.Fatal(err)
	}
	type seen struct {
		nice              int
		thread, process   time.Duration
		callerThreadNiced bool
	}
	var derivations []seen
	h.derive = func(password, salt []byte, iterations, memory uint32, threads uint8, keyLen uint32) []byte {
		s := seen{nice: threadNice(t)}
		t0, p0 := cpuTime(t, unix.RUSAGE_THREAD), cpuTime(t, unix.RUSAGE_SELF)
		key := argon2.IDKey(password, salt, iterations, memory, threads, keyLen)
		s.thread, s.process = cpuTime(t, unix.RUSAGE_THREAD)-t0, cpuTime(t, unix.RUSAGE_SELF)-p0
		derivations = append(derivations, s)
		return key
	}

	ctx := context.Background()
	encoded, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	ok, rehash, err := h.Verify(ctx, "correct horse battery staple", encoded)
	if err != nil || !ok || rehash {
		t.Fatalf("Verify(right password) = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
	if ok, _, err := h.Verify(ctx, "wrong password", encoded); err != nil || ok {
		t.Fatalf("Verify(wrong password) = %v, %v; want false, nil", ok, err)
	}
	if len(derivations) != 3 {
		t.Fatalf("%d derivations, want 3", len(derivations))
	}
	for i, s := range derivations {
		if s.nice != nice {
			t.Errorf("derivation %d ran at nice %d, want %d", i, s.nice, nice)
		}
		// All of argon2's work with one lane is on the niced thread; the rest of the
		// process (runtime, garbage collector) does little meanwhile.
		if s.thread*2 < s.process {
			t.Errorf("derivation %d: its thread used %v of the process's %v CPU time; want most of it on the niced thread", i, s.thread, s.process)
		}
	}
	if got := threadNice(t); got != before {
		t.Errorf("the caller's thread is at nice %d after hashing, want %d", got, before)
	}
	if n := threadsAtNice(t, nice); n != h.Capacity() {
		t.Errorf("%d threads at nice %d, want the Hasher's %d", n, nice, h.Capacity())
	}
}

// TestHashingKeepsChildrenStartedBefore starts a child process with a parent-death
// signal from a thread that then goes back to the runtime, and hashes: the hashing
// threads may be that thread, and they never end, so the child lives on.
func TestHashingKeepsChildrenStartedBefore(t *testing.T) {
	runtime.LockOSThread()
	cmd := exec.Command("sleep", "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	err := cmd.Start()
	runtime.UnlockOSThread()
	if err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })

	h := NewHasher(fast(), 4, time.Minute)
	if err := h.SetNice(MaxNice); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if _, err := h.Hash(context.Background(), fmt.Sprintf("password %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-exited:
		t.Fatalf("the child started before hashing exited: %v", err)
	case <-time.After(200 * time.Millisecond): // a killed child is reaped at once
	}
}

func TestSetNiceRefusesOutOfRange(t *testing.T) {
	t.Parallel()
	h := NewHasher(fast(), 1, time.Second)
	for _, n := range []int{-1, MaxNice + 1} {
		if err := h.SetNice(n); err == nil {
			t.Errorf("SetNice(%d) accepted", n)
		}
	}
	if h.Nice() != 0 {
		t.Errorf("Nice() = %d after refused values, want 0", h.Nice())
	}
}
