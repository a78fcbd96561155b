//go:build !unix

package pgcluster

import (
	"errors"
	"syscall"
)

// ServerUser is the operating-system account that runs initdb and postgres when the
// calling process is root.
const ServerUser = "postgres"

// ErrNoServerUser is returned (wrapped) by Ensure when no account can run PostgreSQL.
var ErrNoServerUser = errors.New("no operating-system user to run PostgreSQL as")

// account is the operating-system identity that PostgreSQL processes run as.
type account struct{ name string }

// serverAccount returns an error: starting clusters is supported on Unix only.
func serverAccount() (account, error) {
	return account{}, errors.New("pgcluster starts PostgreSQL on Unix systems only; " +
		"point TEST_DATABASE_URL / DATABASE_URL at a running server instead")
}

func (account) sysProcAttr(bool) *syscall.SysProcAttr { return nil }
func (account) own(string) error                      { return nil }
func (account) checkReachable(string) error           { return nil }
