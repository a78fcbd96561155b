//go:build !linux

package testredis

import "syscall"

// setParentDeathSignal does nothing: only Linux can tie a child's life to its parent.
func setParentDeathSignal(*syscall.SysProcAttr) {}
