package sqlite

import (
	"context"
	"errors"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/agenthooks/agenthooks"
)

// classify marks the errors that mean the database cannot take requests for
// now, rather than that a request is wrong, as agenthooks.Unavailable (the
// API answers 503 with Retry-After): the disk is full (SQLITE_FULL), the file
// or its directory became read-only (SQLITE_READONLY), the disk fails
// (SQLITE_IOERR), the file cannot be opened (SQLITE_CANTOPEN), another
// process held the write lock past busy_timeout (SQLITE_BUSY), or the store
// did not answer before the caller's deadline. Any other error is returned
// as it is.
func classify(err error) error {
	if err == nil || agenthooks.IsUnavailable(err) {
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		// Extended result codes (SQLITE_IOERR_WRITE, ...) keep the primary
		// code in their low byte.
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_BUSY:
			return agenthooks.Unavailable(err)
		}
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return agenthooks.Unavailable(err)
	}
	return err
}
