package auth

import (
	"fmt"
	"time"

	"github.com/quarrydev/quarry/internal/core/ratelimit"
)

// Config is the auth module's configuration (keys AUTH_*).
type Config struct {
	// RefreshTokenTTL is the lifetime of a refresh token. Every refresh issues a new
	// token with a full lifetime, so a session lasts while it is used at least once
	// per TTL.
	RefreshTokenTTL time.Duration `koanf:"refresh_token_ttl" validate:"min=1m,max=8760h" doc:"lifetime of a refresh token; each refresh starts a new one"`
	// RefreshReuseGrace is how long after a refresh token was used the same token
	// still gets the same successor (racing tabs of one browser keep their session);
	// a use after it revokes the session. 0 turns the grace off.
	RefreshReuseGrace time.Duration `koanf:"refresh_reuse_grace" validate:"min=0,max=1m" doc:"how long a just-used refresh token still returns the same successor; 0 turns it off"`
	// LoginPerAccountAddress limits login and password-change attempts per account
	// (the email, lower-cased) from one client address: the tight limit against
	// guessing, in the format of ratelimit.ParsePolicy. Like every rate limit, it is
	// shared by all instances when REDIS_URL is set.
	LoginPerAccountAddress string `koanf:"login_per_account_address" validate:"required" doc:"login attempts per account from one client address, N/PERIOD[:BURST] (e.g. 5/1m) or off"`
	// LoginPerAccount limits attempts per account from all addresses together: loose,
	// so that nobody who knows an email can lock its owner out with a few wrong
	// passwords; it only stops guessing spread over many addresses.
	LoginPerAccount string `koanf:"login_per_account" validate:"required" doc:"login attempts per account from all addresses together, N/PERIOD[:BURST] (e.g. 100/1m) or off"`
	// LoginPerAddress limits login attempts per client address (see TRUSTED_PROXIES).
	LoginPerAddress string `koanf:"login_per_address" validate:"required" doc:"login attempts per client address, N/PERIOD[:BURST] (e.g. 20/1m) or off"`
}

// Names of the login throttle's rate-limit policies (in Redis keys, logs and metrics).
const (
	PolicyLoginPerAccount        = "auth-login-account"
	PolicyLoginPerAccountAddress = "auth-login-account-address"
	PolicyLoginPerAddress        = "auth-login-address"
)

func defaultConfig() *Config {
	return &Config{
		RefreshTokenTTL:        720 * time.Hour,
		RefreshReuseGrace:      10 * time.Second,
		LoginPerAccountAddress: "5/1m",
		LoginPerAccount:        "100/1m",
		LoginPerAddress:        "20/1m",
	}
}

// pairLimit parses AUTH_LOGIN_PER_ACCOUNT_ADDRESS. Errors name the key.
func (c *Config) pairLimit() (ratelimit.Policy, error) {
	p, err := ratelimit.ParsePolicy(PolicyLoginPerAccountAddress, c.LoginPerAccountAddress)
	if err != nil {
		return p, fmt.Errorf("AUTH_LOGIN_PER_ACCOUNT_ADDRESS: %w", err)
	}
	return p, nil
}

// limits parses the throttle settings into the throttle's policies. Errors name the
// key at fault.
func (c *Config) limits() (perAccount, perAddress ratelimit.Policy, err error) {
	if perAccount, err = ratelimit.ParsePolicy(PolicyLoginPerAccount, c.LoginPerAccount); err != nil {
		return perAccount, perAddress, fmt.Errorf("AUTH_LOGIN_PER_ACCOUNT: %w", err)
	}
	if perAddress, err = ratelimit.ParsePolicy(PolicyLoginPerAddress, c.LoginPerAddress); err != nil {
		return perAccount, perAddress, fmt.Errorf("AUTH_LOGIN_PER_ADDRESS: %w", err)
	}
	return perAccount, perAddress, nil
}

// InsecureInProd lists the settings prod refuses: login throttling switched off.
func (c *Config) InsecureInProd() []string {
	var p []string
	perAccount, perAddress, err := c.limits()
	if err != nil {
		return nil // reported when the module starts
	}
	if perAccount.Off() {
		p = append(p, "LOGIN_PER_ACCOUNT: off is not allowed in prod")
	}
	if perAddress.Off() {
		p = append(p, "LOGIN_PER_ADDRESS: off is not allowed in prod")
	}
	if pair, err := c.pairLimit(); err == nil && pair.Off() {
		p = append(p, "LOGIN_PER_ACCOUNT_ADDRESS: off is not allowed in prod")
	}
	return p
}
