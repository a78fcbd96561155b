package pgcluster

import "syscall"

// setParentDeathSignal makes the kernel send SIGQUIT to the child when the thread that
// started it exits, so that a killed test process does not leave postgres running.
func setParentDeathSignal(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGQUIT }
