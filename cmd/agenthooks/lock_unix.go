//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockSQLite takes an exclusive lock on PATH.lock for the life of the
// process: an SQLite database belongs to one serve, which assumes at start
// that no claim of another process can be alive (it releases them all). A
// second serve on the same file is refused here, before it writes anything.
// The lock is flock(2) on a file of its own, so that it is held by the open
// file, is released by the kernel when the process dies however it dies, and
// never touches SQLite's own locks: account create, list and rotate-key open
// the database beside a running serve without taking it.
func lockSQLite(path string) (release func() error, err error) {
	lockPath := path + ".lock"
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock the SQLite database %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("the SQLite database %s is in use by another agenthooks serve (it holds %s): an SQLite database belongs to one serve; stop the other one first, or use PostgreSQL to run several processes", path, lockPath)
		}
		return nil, fmt.Errorf("lock the SQLite database %s (%s): %w", path, lockPath, err)
	}
	// The holder's pid, for whoever wonders who holds it.
	_ = f.Truncate(0)
	_, _ = fmt.Fprintf(f, "%d\n", os.Getpid())
	return f.Close, nil
}
