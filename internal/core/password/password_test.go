package password

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// fast are cheap parameters that keep tests quick.
func fast() Params {
	return Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}
}

func TestDefaultParamsRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := NewHasher(DefaultParams(), 0, 0)
	encoded, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	const prefix = "$argon2id$v=19$m=19456,t=2,p=1$"
	if !strings.HasPrefix(encoded, prefix) {
		t.Fatalf("hash %q does not start with %q", encoded, prefix)
	}
	parts := strings.Split(strings.TrimPrefix(encoded, prefix), "$")
	if len(parts) != 2 || strings.ContainsRune(parts[0]+parts[1], '=') {
		t.Fatalf("hash %q: want <salt>$<key> after the parameters, without padding", encoded)
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[0])
	if err != nil || len(salt) != 16 {
		t.Errorf("salt %q: %d bytes, %v; want 16 bytes of unpadded base64", parts[0], len(salt), err)
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[1])
	if err != nil || len(key) != 32 {
		t.Errorf("key %q: %d bytes, %v; want 32 bytes of unpadded base64", parts[1], len(key), err)
	}

	ok, rehash, err := h.Verify(ctx, "correct horse battery staple", encoded)
	if err != nil || !ok || rehash {
		t.Errorf("Verify(right password) = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
	ok, rehash, err = h.Verify(ctx, "correct horse battery stapl", encoded)
	if err != nil || ok || rehash {
		t.Errorf("Verify(wrong password) = %v, %v, %v; want false, false, nil", ok, rehash, err)
	}
	if h.Capacity() < 1 {
		t.Errorf("default capacity %d, want at least 1", h.Capacity())
	}
}

func TestHashIsSaltedAndVerifies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := NewHasher(fast(), 2, time.Second)
	a, err := h.Hash(ctx, "s3cret password")
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.Hash(ctx, "s3cret password")
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Error("two hashes of the same password are equal: the salt is not random")
	}
	for _, enc := range []string{a, b} {
		if ok, _, err := h.Verify(ctx, "s3cret password", enc); !ok || err != nil {
			t.Errorf("Verify(%q) = %v, %v; want true", enc, ok, err)
		}
		for _, wrong := range []string{"", "s3cret passwor", "S3cret password", "s3cret password "} {
			if ok, _, err := h.Verify(ctx, wrong, enc); ok || err != nil {
				t.Errorf("Verify(%q) = %v, %v; want false, nil", wrong, ok, err)
			}
		}
	}
	if h.InFlight() != 0 {
		t.Errorf("InFlight = %d after every call returned", h.InFlight())
	}
}

// TestReferenceVectors checks interoperability with the argon2 reference
// implementation (phc-winner-argon2, src/test.c): password "password", salt "somesalt".
func TestReferenceVectors(t *testing.T) {
	t.Parallel()
	h := NewHasher(fast(), 1, time.Second)
	for _, tc := range []struct {
		encoded string
		params  Params
	}{
		{"$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
			Params{Memory: 256, Iterations: 2, Parallelism: 1, SaltLen: 8, KeyLen: 32}},
		{"$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc",
			Params{Memory: 256, Iterations: 2, Parallelism: 2, SaltLen: 8, KeyLen: 32}},
	} {
		d, err := decode(tc.encoded)
		if err != nil {
			t.Fatal(err)
		}
		if d.params != tc.params || string(d.salt) != "somesalt" {
			t.Fatalf("decode(%s) = %+v, salt %q; want %+v, somesalt", tc.encoded, d.params, d.salt, tc.params)
		}
		if got := encode(d.params, d.salt, d.key); got != tc.encoded {
			t.Errorf("encode(decode(s)) = %q, want %q", got, tc.encoded)
		}
		ok, rehash, err := h.Verify(context.Background(), "password", tc.encoded)
		if err != nil || !ok || !rehash {
			t.Errorf("Verify(%s) = %v, %v, %v; want true, true (other params), nil", tc.encoded, ok, rehash, err)
		}
		if ok, _, err := h.Verify(context.Background(), "Password", tc.encoded); ok || err != nil {
			t.Errorf("Verify(wrong password, %s) = %v, %v; want false, nil", tc.encoded, ok, err)
		}
	}
}

func TestNeedsRehashWhenParamsChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	old := NewHasher(fast(), 1, time.Second)
	encoded, err := old.Hash(ctx, "a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	changes := map[string]func(*Params){
		"memory":      func(p *Params) { p.Memory = 2048 },
		"iterations":  func(p *Params) { p.Iterations = 2 },
		"parallelism": func(p *Params) { p.Parallelism = 2 },
		"salt length": func(p *Params) { p.SaltLen = 32 },
		"key length":  func(p *Params) { p.KeyLen = 64 },
	}
	for name, change := range changes {
		p := fast()
		change(&p)
		ok, rehash, err := NewHasher(p, 1, time.Second).Verify(ctx, "a long enough password", encoded)
		if err != nil || !ok || !rehash {
			t.Errorf("%s changed: Verify = %v, %v, %v; want true, true, nil", name, ok, rehash, err)
		}
	}
	if ok, rehash, err := old.Verify(ctx, "a long enough password", encoded); err != nil || !ok || rehash {
		t.Errorf("same params: Verify = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
	p := fast()
	p.Memory = 2048
	if ok, rehash, err := NewHasher(p, 1, time.Second).Verify(ctx, "wrong password", encoded); ok || rehash || err != nil {
		t.Errorf("wrong password: Verify = %v, %v, %v; want false, false, nil", ok, rehash, err)
	}
}

func TestMalformedHashes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := NewHasher(fast(), 1, time.Second)
	good, err := h.Hash(ctx, "password1234")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$") // "", argon2id, v=19, m=..., salt, key
	salt, key := parts[4], parts[5]
	with := func(params, s, k string) string {
		return fmt.Sprintf("$argon2id$v=19$%s$%s$%s", params, s, k)
	}
	bad := map[string]string{
		"empty":              "",
		"plain text":         "password1234",
		"too long":           good + strings.Repeat("A", maxEncodedLen),
		"no leading dollar":  strings.TrimPrefix(good, "$"),
		"too few parts":      "$argon2id$v=19$m=1024,t=1,p=1$" + salt,
		"too many parts":     good + "$extra",
		"argon2i":            strings.Replace(good, "argon2id", "argon2i", 1),
		"bcrypt":             "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"old version":        strings.Replace(good, "v=19", "v=16", 1),
		"no version":         fmt.Sprintf("$argon2id$m=1024,t=1,p=1$%s$%s", salt, key),
		"params out of turn": with("t=1,m=1024,p=1", salt, key),
		"missing param":      with("m=1024,t=1", salt, key),
		"extra param":        with("m=1024,t=1,p=1,k=2", salt, key),
		"negative memory":    with("m=-1024,t=1,p=1", salt, key),
		"non-numeric":        with("m=x,t=1,p=1", salt, key),
		"parallelism 256":    with("m=4096,t=1,p=256", salt, key),
		"zero iterations":    with("m=1024,t=0,p=1", salt, key),
		"zero parallelism":   with("m=1024,t=1,p=0", salt, key),
		"huge memory":        with("m=4294967295,t=1,p=1", salt, key),
		"huge iterations":    with("m=1024,t=1000000,p=1", salt, key),
		"memory below lanes": with("m=8,t=1,p=2", salt, key),
		"padded salt":        with("m=1024,t=1,p=1", salt+"==", key),
		"salt not base64":    with("m=1024,t=1,p=1", "!!!!", key),
		"key not base64":     with("m=1024,t=1,p=1", salt, "%%%%"),
		"empty salt":         with("m=1024,t=1,p=1", "", key),
		"empty key":          with("m=1024,t=1,p=1", salt, ""),
		"short key":          with("m=1024,t=1,p=1", salt, "AAAA"),
	}
	for name, enc := range bad {
		ok, rehash, err := h.Verify(ctx, "password1234", enc)
		if !errors.Is(err, ErrMalformedHash) || ok || rehash {
			t.Errorf("%s: Verify = %v, %v, %v; want ErrMalformedHash", name, ok, rehash, err)
		}
		if err != nil && len(enc) > 8 && strings.Contains(err.Error(), enc) {
			t.Errorf("%s: the error repeats the stored hash: %v", name, err)
		}
	}
}

func TestParamsValidate(t *testing.T) {
	t.Parallel()
	if err := DefaultParams().Validate(); err != nil {
		t.Errorf("DefaultParams: %v", err)
	}
	for name, p := range map[string]Params{
		"zero":            {},
		"no parallelism":  {Memory: 1024, Iterations: 1, SaltLen: 16, KeyLen: 32},
		"short salt":      {Memory: 1024, Iterations: 1, Parallelism: 1, SaltLen: 4, KeyLen: 32},
		"short key":       {Memory: 1024, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 8},
		"too much memory": {Memory: MaxMemory + 1, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32},
	} {
		if err := p.Validate(); err == nil {
			t.Errorf("%s: Validate accepted %+v", name, p)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("NewHasher accepted invalid params")
		}
	}()
	NewHasher(Params{}, 1, time.Second)
}

func TestVerifyDummy(t *testing.T) {
	t.Parallel()
	h := NewHasher(fast(), 1, time.Second)
	if err := h.VerifyDummy(context.Background(), "whatever"); err != nil {
		t.Fatal(err)
	}
	if h.PeakInFlight() != 1 || h.InFlight() != 0 {
		t.Errorf("peak %d, in flight %d; want the dummy verification to take a slot", h.PeakInFlight(), h.InFlight())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.VerifyDummy(ctx, "whatever"); !errors.Is(err, context.Canceled) {
		t.Errorf("VerifyDummy(canceled ctx) = %v, want context.Canceled", err)
	}
}

// blockingHasher returns a Hasher whose derivations wait until release is closed,
// and a channel that receives once per derivation as it starts.
func blockingHasher(capacity int, maxWait time.Duration) (h *Hasher, started <-chan struct{}, release chan struct{}) {
	h = NewHasher(fast(), capacity, maxWait)
	release = make(chan struct{})
	s := make(chan struct{}, 64)
	h.derive = func(_, _ []byte, _, _ uint32, _ uint8, keyLen uint32) []byte {
		s <- struct{}{}
		<-release
		return make([]byte, keyLen)
	}
	return h, s, release
}

func TestConcurrencyIsBoundedAndWaitersGetBusy(t *testing.T) {
	t.Parallel()
	const callers, capacity = 32, 2
	h, started, release := blockingHasher(capacity, 20*time.Millisecond)

	errs := make(chan error, callers)
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			_, err := h.Hash(context.Background(), "password1234")
			errs <- err
		})
	}
	// Two callers hold the slots until released; every other one gives up.
	for range capacity {
		<-started
	}
	for range callers - capacity {
		if err := <-errs; !errors.Is(err, ErrBusy) {
			t.Errorf("waiting caller got %v, want ErrBusy", err)
		}
	}
	if h.InFlight() != capacity {
		t.Errorf("InFlight = %d while both slots are held, want %d", h.InFlight(), capacity)
	}
	close(release)
	wg.Wait()
	for range capacity {
		if err := <-errs; err != nil {
			t.Errorf("caller holding a slot got %v", err)
		}
	}
	if h.PeakInFlight() != capacity || h.InFlight() != 0 {
		t.Errorf("peak %d, in flight %d; want %d, 0", h.PeakInFlight(), h.InFlight(), capacity)
	}
}

func TestConcurrencyBoundWithRealHashing(t *testing.T) {
	t.Parallel()
	const callers, capacity = 32, 2
	h := NewHasher(fast(), capacity, time.Minute)
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for i := range callers {
		wg.Go(func() {
			plain := fmt.Sprintf("password %d", i)
			enc, err := h.Hash(context.Background(), plain)
			if err == nil {
				var ok bool
				if ok, _, err = h.Verify(context.Background(), plain, enc); err == nil && !ok {
					err = errors.New("hash does not verify")
				}
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if p := h.PeakInFlight(); p < 1 || p > capacity {
		t.Errorf("peak in flight %d, want between 1 and %d", p, capacity)
	}
	if h.InFlight() != 0 {
		t.Errorf("InFlight = %d after every call returned", h.InFlight())
	}
}

func TestContextEndsWhileWaiting(t *testing.T) {
	t.Parallel()
	h, started, release := blockingHasher(1, time.Minute)
	defer close(release)
	go func() { _, _ = h.Hash(context.Background(), "holds the only slot") }()
	<-started

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, _, err := h.Verify(ctx, "password1234", "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4")
		errc <- err
	}()
	time.Sleep(10 * time.Millisecond) // usually lets Verify start waiting; either way it must fail
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Verify with ctx canceled while waiting = %v, want context.Canceled", err)
	}

	dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer dcancel()
	if _, err := h.Hash(dctx, "password1234"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Hash with a deadline shorter than the wait = %v, want context.DeadlineExceeded", err)
	}
	if _, err := h.Hash(dctx, "password1234"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Hash with an expired ctx = %v, want context.DeadlineExceeded", err)
	}
}
