package monitoring

import "syscall"

// dieWithParent has the kernel kill a started process if the test binary
// dies before its cleanup runs.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
