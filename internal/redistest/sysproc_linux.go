package redistest

import "syscall"

// sysProcAttr makes the kernel kill the server if the test binary dies
// before its cleanups run (a timeout panic, a SIGKILL).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
