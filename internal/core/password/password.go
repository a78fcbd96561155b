// Package password hashes and verifies passwords with argon2id, storing hashes as PHC
// strings ($argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>).
//
// Hashing is deliberately expensive in CPU and memory, so a Hasher runs a bounded
// number of operations at once; callers beyond that wait a bounded time and then get
// ErrBusy, which the HTTP layer should answer with 503 and Retry-After.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/quarrydev/quarry/internal/core/password/argon2"
)

// ErrBusy means every hashing slot stayed taken for the Hasher's maximum wait.
var ErrBusy = errors.New("password: too many hash operations in progress")

// ErrPriorityUnsupported means the operating system cannot lower the priority of one
// thread; only Linux can.
var ErrPriorityUnsupported = errors.New("password: a lower priority for hashing threads needs Linux")

// MaxNice is the largest nice value (the lowest priority) there is.
const MaxNice = 19

// DefaultNice is the nice value hashing runs at by default, the lowest priority: in a
// flood of sign-ins the kernel runs the threads serving other requests (and the
// database on the same machine) first, and hashing gets the CPU time they leave.
// On idle CPUs a hash takes as long as at any priority. (At 10, GET p99 during the
// login flood of bench/targets.sh did not fall measurably; at 19 it fell by a quarter
// to two fifths, see README.md.)
const DefaultNice = MaxNice

// DefaultMaxWait is how long a caller waits for a hashing slot when NewHasher is
// given no positive wait.
const DefaultMaxWait = 2 * time.Second

// kdf derives a key; it is argon2.IDKey except in tests that need to hold a slot.
type kdf func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte

// Hasher hashes and verifies passwords with fixed parameters, running at most a fixed
// number of operations at once. It is safe for concurrent use.
type Hasher struct {
	params  Params
	slots   chan struct{}
	maxWait time.Duration
	derive  kdf
	nice    int
	// jobs feeds the hashing threads of SetNice; nil: hashing runs on the caller's.
	jobs chan func()

	inFlight atomic.Int64
	peak     atomic.Int64
}

// DefaultConcurrency returns how many hashes run at once by default: one per CPU but
// one, so that a flood of sign-ins always leaves a core to the rest of the API (on
// 2 CPUs, GET p99 under a login flood stays near 9 ms instead of 45 ms; see
// bench/loginflood.sh), and at least one.
func DefaultConcurrency() int { return max(1, runtime.NumCPU()-1) }

// NewHasher returns a Hasher hashing with p that runs at most maxConcurrent hash or
// verify operations at once (DefaultConcurrency() when maxConcurrent <= 0); a caller waits
// at most maxWait for a slot (DefaultMaxWait when maxWait <= 0). It panics when p is
// invalid: check configuration with p.Validate first.
func NewHasher(p Params, maxConcurrent int, maxWait time.Duration) *Hasher {
	if err := p.Validate(); err != nil {
		panic(err)
	}
	if maxConcurrent <= 0 {
		maxConcurrent = DefaultConcurrency()
	}
	if maxWait <= 0 {
		maxWait = DefaultMaxWait
	}
	return &Hasher{params: p, slots: make(chan struct{}, maxConcurrent), maxWait: maxWait, derive: argon2.IDKey}
}

// SetNice makes every later hash and verification run on one of Capacity() OS
// threads at nice value nice (1 to MaxNice), so that the kernel prefers the threads
// serving other requests. With parallelism above 1, argon2 runs the lanes in
// goroutines of their own, at the process's priority. Call it once, before the Hasher
// is used; 0 changes nothing (hashing runs on the caller's thread at the process's
// priority).
//
// The threads are started here and live as long as the process: a thread cannot get
// its priority back without privilege, and ending it would also send the
// parent-death signal (Pdeathsig) to any child process started from it before.
//
// Errors: ErrPriorityUnsupported (wrapped) on systems other than Linux, the system
// call's error when a thread's priority cannot be set, an error for nice out of
// range; after an error hashing stays on the caller's thread.
func (h *Hasher) SetNice(nice int) error {
	if nice < 0 || nice > MaxNice {
		return fmt.Errorf("password: nice %d is not between 0 and %d", nice, MaxNice)
	}
	if nice == 0 {
		return nil
	}
	jobs := make(chan func())
	for range h.Capacity() {
		if err := startThreadAtNice(nice, jobs); err != nil {
			close(jobs) // the threads already started end
			return err
		}
	}
	h.nice, h.jobs = nice, jobs
	return nil
}

// Nice returns the nice value hashing runs at (0: the caller's thread).
func (h *Hasher) Nice() int { return h.nice }

// Params returns the parameters new hashes are made with.
func (h *Hasher) Params() Params { return h.params }

// Capacity returns the most operations the Hasher runs at once.
func (h *Hasher) Capacity() int { return cap(h.slots) }

// InFlight returns the number of operations running now.
func (h *Hasher) InFlight() int { return int(h.inFlight.Load()) }

// PeakInFlight returns the most operations that ever ran at once; it never exceeds
// Capacity.
func (h *Hasher) PeakInFlight() int { return int(h.peak.Load()) }

// Hash returns the PHC string of plain, hashed with the Hasher's parameters and a
// fresh random salt. Errors: ErrBusy when no slot frees up within the maximum wait;
// ctx's error (wrapped) when ctx ends first; an error from the random source.
func (h *Hasher) Hash(ctx context.Context, plain string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: read salt: %w", err)
	}
	key, err := h.run(ctx, []byte(plain), salt, h.params)
	if err != nil {
		return "", err
	}
	return encode(h.params, salt, key), nil
}

// Verify reports whether plain matches encoded, a PHC string made by Hash, comparing in
// constant time. It is verified with the parameters stored in encoded; needsRehash is
// true when the password matches but those parameters (or sizes) differ from the
// Hasher's, so the caller should store a fresh Hash. Errors: ErrMalformedHash (wrapped)
// for an encoded hash it cannot read; ErrBusy; ctx's error (wrapped).
func (h *Hasher) Verify(ctx context.Context, plain, encoded string) (ok, needsRehash bool, err error) {
	d, err := decode(encoded)
	if err != nil {
		return false, false, err
	}
	key, err := h.run(ctx, []byte(plain), d.salt, d.params)
	if err != nil {
		return false, false, err
	}
	if subtle.ConstantTimeCompare(key, d.key) != 1 {
		return false, false, nil
	}
	return true, d.params != h.params, nil
}

// VerifyDummy does the work of a Verify with the Hasher's parameters and throws the
// result away, so that a login for an unknown account takes as long as one with a
// wrong password. Errors: ErrBusy; ctx's error (wrapped).
func (h *Hasher) VerifyDummy(ctx context.Context, plain string) error {
	// Any fixed salt does: the key is thrown away.
	_, err := h.run(ctx, []byte(plain), make([]byte, h.params.SaltLen), h.params)
	return err
}

// run derives a key in a slot, waiting for one at most maxWait, on a thread at the
// Hasher's nice value when it has one. Errors: those of acquire and onThreadAtNice.
func (h *Hasher) run(ctx context.Context, plain, salt []byte, p Params) ([]byte, error) {
	if err := h.acquire(ctx); err != nil {
		return nil, err
	}
	defer h.release()
	derive := func() []byte { return h.derive(plain, salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLen) }
	if h.jobs == nil {
		return derive(), nil
	}
	// A slot is held, so one of the Capacity() threads is free (or about to be).
	key := make(chan []byte, 1)
	h.jobs <- func() { key <- derive() }
	return <-key, nil
}

// startThreadAtNice starts a goroutine locked to its OS thread at nice value nice
// that runs every function received from jobs, for as long as the process lives (see
// SetNice). With parallelism 1, argon2 derives in the calling goroutine (see
// internal/core/password/argon2), so all of a hash's work runs on that thread.
// Errors: ErrPriorityUnsupported (wrapped) off Linux; the system call's error,
// wrapped; the thread then goes back to the runtime unchanged.
func startThreadAtNice(nice int, jobs <-chan func()) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := setThreadNice(nice); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("password: set a hashing thread's nice value to %d: %w", nice, err)
			return
		}
		errc <- nil
		for f := range jobs {
			f()
		}
	}()
	return <-errc
}

// acquire takes a slot. Errors: ErrBusy after maxWait; ctx's error when ctx ends
// first (or has already ended).
func (h *Hasher) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("password: %w", err)
	}
	select {
	case h.slots <- struct{}{}:
	default:
		timer := time.NewTimer(h.maxWait)
		defer timer.Stop()
		select {
		case h.slots <- struct{}{}:
		case <-ctx.Done():
			return fmt.Errorf("password: waiting for a hashing slot: %w", ctx.Err())
		case <-timer.C:
			return ErrBusy
		}
	}
	n := h.inFlight.Add(1)
	for {
		peak := h.peak.Load()
		if n <= peak || h.peak.CompareAndSwap(peak, n) {
			break
		}
	}
	return nil
}

func (h *Hasher) release() {
	h.inFlight.Add(-1)
	<-h.slots
}
