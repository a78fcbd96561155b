//go:build unix

package pgcluster

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// ServerUser is the operating-system account that runs initdb and postgres when the
// calling process is root (both refuse to run as root).
const ServerUser = "postgres"

// ErrNoServerUser is returned (wrapped) by Ensure when it runs as root and the ServerUser
// account does not exist.
var ErrNoServerUser = errors.New("no operating-system user to run PostgreSQL as")

// account is the operating-system identity that PostgreSQL processes run as.
type account struct {
	name     string
	uid, gid int
	switched bool // true when children run as name instead of the current user
}

// serverAccount returns the current user, or ServerUser when running as root. It returns
// an error wrapping ErrNoServerUser when root has no ServerUser account to switch to.
func serverAccount() (account, error) {
	if os.Geteuid() != 0 {
		return account{uid: os.Geteuid(), gid: os.Getegid()}, nil
	}
	u, err := user.Lookup(ServerUser)
	if err != nil {
		return account{}, fmt.Errorf("%w: initdb and postgres refuse to run as root and user %q cannot be used (%v); "+
			"create it (e.g. `useradd --system %s`, or install PostgreSQL's package, which does) or run as a non-root user",
			ErrNoServerUser, ServerUser, err, ServerUser)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return account{}, fmt.Errorf("%w: user %q has a non-numeric uid %q", ErrNoServerUser, ServerUser, u.Uid)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return account{}, fmt.Errorf("%w: user %q has a non-numeric gid %q", ErrNoServerUser, ServerUser, u.Gid)
	}
	return account{name: u.Username, uid: uid, gid: gid, switched: true}, nil
}

// sysProcAttr returns the process attributes that run a child as a. When dieWithParent is
// set and the platform supports it, the child is sent SIGQUIT (PostgreSQL's immediate
// shutdown) if the calling thread dies.
func (a account) sysProcAttr(dieWithParent bool) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{}
	if a.switched {
		attr.Credential = &syscall.Credential{Uid: uint32(a.uid), Gid: uint32(a.gid)}
	}
	if dieWithParent {
		setParentDeathSignal(attr)
	}
	return attr
}

// own gives path to a when children run as another user. It returns the chown error.
func (a account) own(path string) error {
	if !a.switched {
		return nil
	}
	if err := os.Chown(path, a.uid, a.gid); err != nil {
		return fmt.Errorf("give %s to user %s: %w", path, a.name, err)
	}
	return nil
}

// checkReachable returns an error naming the first ancestor of path that a cannot
// search, so that a switched user fails with a clear message instead of an obscure one
// from initdb. It checks permission bits only.
func (a account) checkReachable(path string) error {
	if !a.switched {
		return nil
	}
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		st, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("stat %s: %w", dir, err)
		}
		if !a.canSearch(st) {
			return fmt.Errorf("user %s cannot reach %s: directory %s is not searchable by it "+
				"(chmod o+x %s, or choose a data directory elsewhere)", a.name, path, dir, dir)
		}
		if parent := filepath.Dir(dir); parent == dir {
			return nil
		}
	}
}

// canSearch reports whether a may traverse the directory described by st.
func (a account) canSearch(st fs.FileInfo) bool {
	perm := st.Mode().Perm()
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	switch {
	case int(sys.Uid) == a.uid:
		return perm&0o100 != 0
	case int(sys.Gid) == a.gid:
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}
