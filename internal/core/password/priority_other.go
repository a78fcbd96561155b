//go:build !linux

package password

// setThreadNice returns ErrPriorityUnsupported: elsewhere the nice value belongs to
// the whole process, which would lower the priority of request serving too.
func setThreadNice(int) error { return ErrPriorityUnsupported }
