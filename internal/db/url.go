package db

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// WithDatabase returns the postgres:// URL raw with its database replaced by name. It
// fails, without quoting the URL, when raw is not a postgres:// or postgresql:// URL.
func WithDatabase(raw, name string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("parse database URL: %s", parseErrorText(err))
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return "", fmt.Errorf("database URL %s: want a postgres:// URL", RedactURL(raw))
	}
	u.Path, u.RawPath = "/"+name, ""
	return u.String(), nil
}

// DatabaseName returns the database named by the URL raw ("" when none is given).
func DatabaseName(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Path, "/")
}

// parseErrorText returns url.Parse's error without the URL, which may hold a password.
func parseErrorText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return "invalid URL"
}
