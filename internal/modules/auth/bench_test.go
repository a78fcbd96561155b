package auth_test

import (
	"net/http"
	"testing"
)

// BenchmarkLogin measures successful logins through the full router with the
// default argon2id parameters (m=19456 KiB, t=2, p=1), hashing bounded to the number
// of CPUs, throttling and rate limiting off. It reports logins/s.
//
//	go test -run '^$' -bench Login -benchtime 200x ./internal/modules/auth/
func BenchmarkLogin(b *testing.B) {
	c := newClient(b, "PASSWORD_MEMORY_KIB", "19456", "PASSWORD_ITERATIONS", "2", "PASSWORD_MAX_CONCURRENT", "0", "PASSWORD_MAX_WAIT", "1m",
		"RATE_LIMIT_DEFAULT", "off")
	c.register("bench@example.com", "Bench")
	b.SetParallelism(2) // more callers than hashing slots
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r := c.login("bench@example.com", pw); r.Status != http.StatusOK {
				b.Errorf("login: %d %s", r.Status, r.Body)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
	b.ReportMetric(float64(c.mod.Hasher().PeakInFlight()), "peak-hashes")
}

// BenchmarkLoginFailures measures each kind of refused login with the default
// argon2id parameters: an unknown email, a wrong password and a deactivated account
// should cost alike (they do the same hashing work), so that timing does not tell
// them apart. Compare the ns/op of the three.
//
//	go test -run '^$' -bench LoginFailures -benchtime 20x ./internal/modules/auth/
func BenchmarkLoginFailures(b *testing.B) {
	c := newClient(b, "PASSWORD_MEMORY_KIB", "19456", "PASSWORD_ITERATIONS", "2", "RATE_LIMIT_DEFAULT", "off",
		"AUTH_LOGIN_PER_ACCOUNT", "100000/1s", "AUTH_LOGIN_PER_ADDRESS", "100000/1s")
	c.register("known@example.com", "Known")
	gone := c.register("gone@example.com", "Gone")
	c.exec("UPDATE users SET is_active = false WHERE id = $1", gone.ID)
	for _, tc := range []struct{ name, email, password string }{
		{"unknown_email", "nobody@example.com", pw},
		{"wrong_password", "known@example.com", pw + "!"},
		{"deactivated", "gone@example.com", pw},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if r := c.login(tc.email, tc.password); r.Status != http.StatusUnauthorized {
					b.Fatalf("login: %d %s", r.Status, r.Body)
				}
			}
		})
	}
}
