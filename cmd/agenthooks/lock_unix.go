//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockSQLite takes an exclusive lock on the SQLite database file itself for
// the life of the process: an SQLite database belongs to one serve, which
// assumes at start that no claim of another process can be alive (it
// releases them all). A second serve on the same file is refused here,
// before it writes anything, by whatever path it names the file: the lock
// belongs to the file (its inode), so a symlink, a relative path or a hard
// link to it finds it taken.
//
// The lock is flock(2), which on Linux and the BSDs is apart from the
// fcntl(2) locks SQLite takes on the same file: it is held by the open file,
// released by the kernel when the process dies however it dies, and never
// touches SQLite's own locks, so account create, list and rotate-key open
// the database beside a running serve. The descriptor stays open until the
// store is closed (closing any descriptor of a file drops the process's
// fcntl locks on it, SQLite's included).
func lockSQLite(path string) (release func() error, err error) {
	name := resolvedPath(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600) // an empty file is an empty database
	if err != nil {
		return nil, fmt.Errorf("lock the SQLite database %s: %w", name, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("the SQLite database %s is in use by another agenthooks serve: an SQLite database belongs to one serve (by any path to it); stop the other one first, or use PostgreSQL to run several processes", name)
		}
		return nil, fmt.Errorf("lock the SQLite database %s: %w", name, err)
	}
	return f.Close, nil
}

// resolvedPath is path made absolute with its symlinks resolved, for
// messages; path itself when that fails (a file not created yet).
func resolvedPath(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real
	}
	return abs
}
