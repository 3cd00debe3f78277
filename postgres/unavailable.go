package postgres

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/agenthooks/agenthooks"
)

// classify marks the errors that mean the database cannot take requests for
// now, rather than that a request is wrong, as agenthooks.Unavailable (the
// API answers 503 with Retry-After):
//   - the server cannot be reached or the connection was lost (connection
//     refused or reset, EOF mid-statement, a network timeout);
//   - SQLSTATE class 08 (connection exception), 57P01-57P03 (admin or crash
//     shutdown, cannot connect now: the server is starting or stopping),
//     class 53 (insufficient resources: disk full, out of memory, too many
//     connections) and 25006 (a read-only transaction: a standby after a
//     failover);
//   - the caller's deadline passed while waiting for a connection or an
//     answer.
//
// Any other error is returned as it is.
func classify(err error) error {
	if err == nil || agenthooks.IsUnavailable(err) {
		return err
	}
	if unavailable(err) {
		return agenthooks.Unavailable(err)
	}
	return err
}

func unavailable(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch {
		case strings.HasPrefix(pg.Code, "08"), strings.HasPrefix(pg.Code, "53"),
			pg.Code == "57P01", pg.Code == "57P02", pg.Code == "57P03", pg.Code == "25006":
			return true
		}
		return false
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	var opErr *net.OpError
	switch {
	case errors.As(err, &connectErr), errors.As(err, &opErr), errors.As(err, &netErr):
		return true
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	case errors.Is(err, context.DeadlineExceeded), pgconn.Timeout(err):
		return true
	}
	return false
}
