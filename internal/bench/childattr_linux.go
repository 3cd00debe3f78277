package bench

import "syscall"

// childAttr makes a worker process get SIGTERM should the bench die
// without stopping it (killed, say), so that none is left running.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
