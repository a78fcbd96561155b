package migrate

import (
	"errors"
	"net/url"
	"strings"
)

// Redact returns the database URL with its password replaced, for messages and logs.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		if err != nil {
			return "(unparseable database URL)"
		}
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// WithDatabase returns raw with its database name replaced by name.
func WithDatabase(raw, name string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", redactErr(err)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return "", errors.New("database URL must start with postgres:// or postgresql://")
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u.String(), nil
}

// DatabaseName returns the database named by raw ("" when none is given).
func DatabaseName(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Path, "/")
}

// redactErr drops the text of URL parse errors, which quote the URL and its password.
func redactErr(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return errors.New("malformed database URL")
	}
	if strings.Contains(err.Error(), "@") {
		return errors.New("malformed database URL")
	}
	return err
}
