//go:build !linux

package bench

import "syscall"

// childAttr is nothing outside Linux: a worker process outlives a bench
// that is killed without stopping it.
func childAttr() *syscall.SysProcAttr { return nil }
