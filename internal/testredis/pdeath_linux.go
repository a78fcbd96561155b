package testredis

import "syscall"

// setParentDeathSignal makes the kernel kill the server when the thread that started
// it exits, so that a killed test process does not leave redis-server running.
func setParentDeathSignal(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGKILL }
