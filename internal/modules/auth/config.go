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
	// LoginPerAccount limits login and password-change attempts per account (the
	// email, lower-cased), in the format of ratelimit.ParsePolicy. Like every rate
	// limit, it is shared by all instances when REDIS_URL is set.
	LoginPerAccount string `koanf:"login_per_account" validate:"required" doc:"login attempts per account, N/PERIOD[:BURST] (e.g. 5/1m) or off"`
	// LoginPerAddress limits login attempts per client address (see TRUSTED_PROXIES).
	LoginPerAddress string `koanf:"login_per_address" validate:"required" doc:"login attempts per client address, N/PERIOD[:BURST] (e.g. 20/1m) or off"`
}

// Names of the login throttle's rate-limit policies (in Redis keys, logs and metrics).
const (
	PolicyLoginPerAccount = "auth-login-account"
	PolicyLoginPerAddress = "auth-login-address"
)

func defaultConfig() *Config {
	return &Config{
		RefreshTokenTTL: 720 * time.Hour,
		LoginPerAccount: "5/1m",
		LoginPerAddress: "20/1m",
	}
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
	return p
}
