// Package sqlstore implements agenthooks.Tx once over database/sql for both
// engines. The queries are written in the subset of SQL that SQLite and
// PostgreSQL share (times as Unix microseconds, JSON as TEXT, booleans as 0/1),
// with '?' placeholders that the PostgreSQL dialect rebinds to $n. What truly
// differs per engine (the claim query, row locks, wake-ups, transactions and
// group commit) lives in the sqlite and postgres packages, which hand a
// Dialect to this one. docs/decisions/0001-store-and-queue.md says why.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/agenthooks/agenthooks"
)

// Querier is what a Tx runs its statements on: a *sql.Tx or a *sql.Conn.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Dialect holds what differs between engines.
type Dialect struct {
	// Numbered rebinds '?' placeholders to $1, $2, ... (PostgreSQL).
	Numbered bool
	// LockSuffix is appended to finders used to modify a row in a write
	// transaction (" FOR UPDATE" on PostgreSQL; SQLite has one writer).
	LockSuffix string
	// ClaimSQL is the one statement that claims due deliveries: an UPDATE
	// of the chosen rows RETURNING claimCols. Args: (leaseUntil, now, now,
	// limit). PostgreSQL chooses them FOR UPDATE SKIP LOCKED, so that
	// workers of several processes never take the same delivery.
	ClaimSQL string
	// ClaimPlan, if set, runs in the claim's transaction before ClaimSQL
	// (PostgreSQL: sorts off for the rest of the transaction, so that the
	// only plan left reads the due index in order and stops at the limit,
	// whatever the table's statistics say; postgres/claim_test.go).
	ClaimPlan string
	// BatchByValues writes a batch of rows (outcomes, lease renewals) with
	// statements joined to a VALUES list of the batch (for outcomes: an
	// UPDATE, then one INSERT of the attempts) instead of one statement per
	// row. Worth it where every statement is a round trip to a server
	// (PostgreSQL); where statements run in process they are as cheap one by
	// one, and SQLite's planner does not join an UPDATE to VALUES by primary
	// key (it scans the pending deliveries instead).
	BatchByValues bool
	// Catalogue reads the engine's schema (sqlstore/accounts.go).
	Catalogue Catalogue
	// SecureDelete, if set, is run before secrets are rewritten, so that
	// the engine overwrites the space the old values free (SQLite: PRAGMA
	// secure_delete; PostgreSQL leaves old tuples to VACUUM).
	SecureDelete string
	// DeliveryCountsSQL is the one statement that reads the deliveries by
	// status (pending, succeeded, failed, canceled) for QueueStats, without counting
	// the deliveries. Empty: the sums of delivery_counts (SQLite, whose
	// writer adds to the row as it commits). PostgreSQL adds the deltas not
	// yet folded into delivery_counts (postgres/counts.go).
	DeliveryCountsSQL string
	// DeliveryCreated runs after a delivery insert in a write transaction
	// (PostgreSQL: pg_notify, sent at commit). May be nil.
	DeliveryCreated func(ctx context.Context, q Querier) error
	// EventsFilteredSQL counts events a webhook's filter dropped; args (n,
	// webhookID). Empty: an UPDATE of webhooks.events_filtered (SQLite, one
	// writer). PostgreSQL appends to webhook_filtered_deltas, which its fold
	// moves into the column (postgres/counts.go).
	EventsFilteredSQL string

	rebound sync.Map // query → rebound query
}

func (d *Dialect) bind(query string) string {
	if !d.Numbered {
		return query
	}
	if q, ok := d.rebound.Load(query); ok {
		return q.(string)
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	q := b.String()
	d.rebound.Store(query, q)
	return q
}

// Tx implements agenthooks.Tx on a Querier.
type Tx struct {
	ctx   context.Context
	q     Querier
	d     *Dialect
	now   time.Time
	write bool
	// keys seal and open webhook secrets (WithKeyring); nil: stored plain.
	keys *Keyring
	// Delivered counts deliveries created in this transaction; engines use it
	// to wake their workers after the commit.
	Delivered int
	// onCommit are the fns of OnCommit, which the engine runs with End.
	onCommit []func(bool)
	// traceparent is stored with the transaction's events (sqlstore/trace.go).
	traceparent string
}

var _ agenthooks.Tx = (*Tx)(nil)

// NewTx returns a Tx running on q. now is the transaction's clock reading;
// write says whether the transaction may write (it selects row locks).
func NewTx(ctx context.Context, q Querier, d *Dialect, now time.Time, write bool) *Tx {
	// Stored times have microsecond precision: take now at that precision so
	// that what a call returns equals what a later read returns.
	return &Tx{ctx: ctx, q: q, d: d, now: now.UTC().Truncate(time.Microsecond), write: write, traceparent: traceparentOf(ctx)}
}

// Now returns the transaction's clock reading.
func (tx *Tx) Now() time.Time { return tx.now }

// OnCommit registers fn for End (agenthooks.Tx.OnCommit).
func (tx *Tx) OnCommit(fn func(committed bool)) { tx.onCommit = append(tx.onCommit, fn) }

// End runs the fns registered with OnCommit, once: the engine calls it when
// the transaction has ended, committed (and, for a durable write, synced)
// or not. A panic in one fn is recovered, so that it cannot take the
// engine's writer down, and the others still run.
func (tx *Tx) End(committed bool) {
	fns := tx.onCommit
	tx.onCommit = nil
	for _, fn := range fns {
		func() {
			defer func() { _ = recover() }()
			fn(committed)
		}()
	}
}

// Pending reports whether fns wait for End.
func (tx *Tx) Pending() bool { return len(tx.onCommit) > 0 }

func (tx *Tx) exec(query string, args ...any) (sql.Result, error) {
	return tx.q.ExecContext(tx.ctx, tx.d.bind(query), args...)
}

func (tx *Tx) query(query string, args ...any) (*sql.Rows, error) {
	return tx.q.QueryContext(tx.ctx, tx.d.bind(query), args...)
}

func (tx *Tx) queryRow(query string, args ...any) *sql.Row {
	return tx.q.QueryRowContext(tx.ctx, tx.d.bind(query), args...)
}

func (tx *Tx) lock() string {
	if tx.write {
		return tx.d.LockSuffix
	}
	return ""
}

// skipLocked is appended to a subquery that chooses rows to change where
// rows another transaction is changing may be passed over: the lock
// suffix with SKIP LOCKED (PostgreSQL), "" where there are no row locks
// (SQLite has one writer). A statement that takes its rows this way never
// waits for another transaction, so it can never be one side of a
// deadlock.
func (tx *Tx) skipLocked() string {
	if l := tx.lock(); l != "" {
		return l + " SKIP LOCKED"
	}
	return ""
}

// Micros converts a time to the stored form (Unix microseconds, 0 for zero).
func Micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// FromMicros converts the stored form back (0 is the zero time).
func FromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// notFound turns sql.ErrNoRows into an ENOTFOUND error for kind and wraps others.
func notFound(err error, kind string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return agenthooks.NotFound(kind)
	}
	return fmt.Errorf("find %s: %w", kind, err)
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

func checkAffected(res sql.Result, kind string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("rows affected: %w", err)
	}
	if n == 0 {
		return agenthooks.NotFound(kind)
	}
	return nil
}

func placeholders(n int) string {
	if n == 0 {
		return "NULL"
	}
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// listPage runs a count and a page query sharing one WHERE clause.
func listPage[T any](tx *Tx, kind, cols, table, where string, args []any, order string, p agenthooks.Page, scan func(scanner) (T, error)) ([]T, int, error) {
	var total int
	if err := tx.queryRow("SELECT COUNT(*) FROM "+table+" WHERE "+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count %s: %w", kind, err)
	}
	rows, err := tx.query("SELECT "+cols+" FROM "+table+" WHERE "+where+" ORDER BY "+order+" LIMIT ? OFFSET ?", append(args, p.Size, p.Offset())...)
	if err != nil {
		return nil, 0, fmt.Errorf("list %s: %w", kind, err)
	}
	items, err := collect(rows, scan)
	if err != nil {
		return nil, 0, fmt.Errorf("list %s: %w", kind, err)
	}
	return items, total, nil
}

// payloadContains is the condition of a search by text: one LIKE pattern
// (likePattern) against the lower-cased payload, the same on both engines
// (SQLite's LIKE ignores ASCII case, PostgreSQL's does not).
const payloadContains = `LOWER(payload) LIKE ? ESCAPE '\'`

// likePattern is text as a LIKE pattern that matches it anywhere, its
// wildcards escaped, lower-cased as payloadContains compares.
func likePattern(text string) string {
	r := strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)
	return "%" + r.Replace(strings.ToLower(text)) + "%"
}

// searchPage is listPage for searches by text: it counts at most
// agenthooks.SearchCap matches, so that a search reads a bounded number of
// rows whatever the account holds.
func searchPage[T any](tx *Tx, kind, cols, table, where string, args []any, order string, p agenthooks.Page, scan func(scanner) (T, error)) ([]T, int, error) {
	var total int
	if err := tx.queryRow("SELECT COUNT(*) FROM (SELECT 1 FROM "+table+" WHERE "+where+" LIMIT ?) AS m", append(args, agenthooks.SearchCap)...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count %s: %w", kind, err)
	}
	if p.Offset() >= total {
		return nil, total, nil
	}
	rows, err := tx.query("SELECT "+cols+" FROM "+table+" WHERE "+where+" ORDER BY "+order+" LIMIT ? OFFSET ?", append(args, p.Size, p.Offset())...)
	if err != nil {
		return nil, 0, fmt.Errorf("list %s: %w", kind, err)
	}
	items, err := collect(rows, scan)
	if err != nil {
		return nil, 0, fmt.Errorf("list %s: %w", kind, err)
	}
	return items, total, nil
}

func collect[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var items []T
	for rows.Next() {
		it, err := scan(rows)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, rows.Err()
}

// QueryRowForTest runs a raw query in the transaction; tests use it to read
// settings (PRAGMA, SHOW) on the very connection a transaction runs on.
func (tx *Tx) QueryRowForTest(query string) *sql.Row {
	return tx.q.QueryRowContext(tx.ctx, query)
}
