//go:build !linux

package redistest

import "syscall"

// sysProcAttr: outside Linux there is no parent-death signal; the test's
// cleanup is the only stop.
func sysProcAttr() *syscall.SysProcAttr { return nil }
