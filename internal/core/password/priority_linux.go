package password

import "golang.org/x/sys/unix"

// setThreadNice sets the nice value of the calling OS thread (Linux keeps one per
// thread). Errors: the system call's, e.g. EACCES for a value below the current one
// without CAP_SYS_NICE.
func setThreadNice(nice int) error {
	return unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), nice)
}
