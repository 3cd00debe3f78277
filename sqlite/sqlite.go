// Package sqlite is the embedded store: SQLite through modernc.org/sqlite (pure
// Go, no cgo), in WAL mode with synchronous=FULL so that a commit is on disk
// when it returns.
//
// Writes go through one writer goroutine that owns the only write connection:
// it takes every write waiting for it, runs each in a savepoint of one shared
// transaction, and commits them with one fsync (group commit). A write that
// fails rolls back to its savepoint and leaves the others alone. Reads use a
// separate pool of read-only connections, which WAL lets run beside the writer.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/sqlstore"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the embedded schema migrations.
func Migrations() []sqlstore.Migration {
	return sqlstore.EmbeddedMigrations(migrationFiles, "migrations")
}

// dialect: one writer, so no row locks are needed, and statements run in
// process, so outcomes are completed one by one.
var dialect = &sqlstore.Dialect{
	ClaimSQL: `UPDATE deliveries SET claimed = 1, lease = lease + 1,
		first_due_at = CASE WHEN first_due_at = 0 THEN next_attempt_at ELSE first_due_at END, next_attempt_at = ?, updated_at = ?
		WHERE id IN (SELECT d.id FROM deliveries d
		WHERE ` + sqlstore.ClaimWhere + ` ORDER BY d.next_attempt_at LIMIT ?)
		RETURNING ` + sqlstore.ClaimCols,
	SecureDelete: "PRAGMA secure_delete = ON",
	Catalogue: sqlstore.Catalogue{
		Tables:        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
		AccountTables: "SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) c WHERE m.type = 'table' AND c.name = 'account_id'",
		ForeignKeys:   `SELECT m.name, f."table" FROM sqlite_master m, pragma_foreign_key_list(m.name) f WHERE m.type = 'table'`,
	},
}

// Options tune the store. Zero values take the defaults.
type Options struct {
	// Now is the clock (default time.Now); tests inject one.
	Now func() time.Time
	// MaxBatch is the most writes one group commit takes (default 512).
	MaxBatch int
	// Readers is the size of the read pool (default 8).
	Readers int
	// Owner opens the database for the one process that owns it (serve,
	// which runs its delivery workers): no claim of an earlier run can
	// still be alive, so Open releases them all, due now, rather than
	// letting their leases be waited out. Other commands (account, migrate)
	// open it beside a running owner and must leave its claims alone.
	Owner bool
	// Logger receives what Open did of note (default slog.Default()).
	Logger *slog.Logger
	// Keyring seals webhook secrets at rest (nil: stored as they are).
	Keyring *sqlstore.Keyring
}

// Store is the SQLite implementation of agenthooks.Store.
type Store struct {
	path   string
	wdb    *sql.DB   // exactly one connection, wconn, used by the writer goroutine only
	wconn  *sql.Conn // held for the store's life
	wq     *sqlstore.ConnStmts
	synced bool // the writer connection's synchronous is FULL (else NORMAL); writer only
	rdb    *sql.DB
	// readers are the read pool's connections, each with its prepared
	// statements; a Read takes one for its transaction.
	readers chan *reader
	now     func() time.Time
	keys    *sqlstore.Keyring
	writes  chan *writeReq
	wake    chan struct{}
	batch   int

	nCommits, nWrites, nDurable, busyNanos atomic.Int64 // see Stats

	// delta accumulates the current write's changes of deliveries by
	// status (writer only; see counts.go).
	delta statusDelta

	// closeMu orders Write's enqueue against Close: once closed is set no
	// request can enter the queue, so the writer's final drain answers all.
	closeMu   sync.RWMutex
	closed    bool
	closeOnce sync.Once
	done      chan struct{}
	stopped   chan struct{}
}

var _ agenthooks.Store = (*Store)(nil)

type writeReq struct {
	ctx     context.Context
	fn      func(agenthooks.Tx) error
	errc    chan error
	relaxed bool         // see WriteRelaxed
	tx      *sqlstore.Tx // the write's transaction, once it ran
}

// answer ends a write: its OnCommit fns, then its caller.
func (r *writeReq) answer(err error) {
	if r.tx != nil {
		r.tx.End(err == nil)
	}
	r.errc <- err
}

// Pragmas every connection runs with. synchronous=FULL: a commit fsyncs the WAL,
// so an answered API call survives power loss (docs/guarantees.md).
// busy_timeout covers other processes (agenthooks account create) writing.
// temp_store=MEMORY keeps the statement sub-journals of the group commit's
// savepoints in memory: they only matter until the commit, which writes the
// WAL, so writing them to a temporary file (the default) bought nothing but
// a write() syscall per page and per savepoint.
var pragmas = []string{
	"journal_mode(WAL)",
	"synchronous(FULL)",
	"busy_timeout(10000)",
	"foreign_keys(ON)",
	"temp_store(MEMORY)",
	// secure_delete zeroes deleted content on every connection, so a deleted
	// account's values and secrets sealed with a retired key are not left
	// readable in free pages of the file.
	"secure_delete(ON)",
}

func dsn(path string, readOnly bool) string {
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

// Open opens (creating if needed) the database at path, applies migrations
// and starts the writer.
func Open(ctx context.Context, path string, o Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty path")
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: path %q must not contain '?' or '#'", path)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 512
	}
	if o.Readers <= 0 {
		o.Readers = 8
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	wdb, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)
	if err := migrate(ctx, wdb); err != nil {
		wdb.Close()
		return nil, err
	}
	rdb, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	rdb.SetMaxOpenConns(o.Readers)
	rdb.SetMaxIdleConns(o.Readers)
	wconn, err := wdb.Conn(ctx)
	if err != nil {
		rdb.Close()
		wdb.Close()
		return nil, fmt.Errorf("sqlite connect: %w", err)
	}
	s := &Store{
		path: path, wdb: wdb, wconn: wconn, wq: sqlstore.NewConnStmts(wconn), synced: true,
		rdb: rdb, readers: make(chan *reader, o.Readers), now: o.Now, keys: o.Keyring, batch: o.MaxBatch,
		writes:  make(chan *writeReq, 4096),
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	if err := s.watchDeliveries(ctx); err != nil {
		wconn.Close()
		rdb.Close()
		wdb.Close()
		return nil, err
	}
	for range o.Readers {
		conn, err := rdb.Conn(ctx)
		if err != nil {
			s.closeReaders()
			wconn.Close()
			rdb.Close()
			wdb.Close()
			return nil, fmt.Errorf("sqlite connect: %w", err)
		}
		s.readers <- &reader{conn: conn, q: sqlstore.NewConnStmts(conn)}
	}
	go s.writer()
	if o.Owner {
		var n int
		err := s.Write(ctx, func(tx agenthooks.Tx) error {
			var err error
			n, err = tx.ReleaseClaims()
			return err
		})
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("sqlite %s: %w", path, err) // err says "release claims: ..."
		}
		if n > 0 {
			o.Logger.Info("released deliveries claimed by a previous run", slog.Int("count", n))
		}
	}
	return s, nil
}

// reader is one connection of the read pool.
type reader struct {
	conn *sql.Conn
	q    *sqlstore.ConnStmts
}

// closeReaders closes the read connections that are in the pool.
func (s *Store) closeReaders() error {
	var errs []error
	for {
		select {
		case r := <-s.readers:
			errs = append(errs, r.q.Close(), r.conn.Close())
		default:
			return errors.Join(errs...)
		}
	}
}

func migrate(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite connect: %w", err)
	}
	defer conn.Close()
	if _, err := sqlstore.Migrate(ctx, conn, dialect, Migrations()); err != nil {
		return fmt.Errorf("sqlite migrate: %w", err)
	}
	return nil
}

// Engine returns "sqlite".
func (s *Store) Engine() string { return "sqlite" }

// Capabilities: one process owns the file, and every write commits through
// its one writer.
func (s *Store) Capabilities() agenthooks.Capabilities {
	return agenthooks.Capabilities{OneProcess: true, OneWriter: true}
}

// Wake returns the channel that receives after deliveries were stored.
func (s *Store) Wake() <-chan struct{} { return s.wake }

// ErrClosed is returned by writes after Close.
var ErrClosed = agenthooks.Errorf(agenthooks.EUNAVAILABLE, "The store is shutting down.")

// Write queues fn for the writer and waits until it is committed or failed.
func (s *Store) Write(ctx context.Context, fn func(agenthooks.Tx) error) error {
	return classify(s.write(ctx, fn, false))
}

// WriteRelaxed is Write for the delivery workers' own bookkeeping (claims
// and outcomes), whose loss in a power failure costs a repeated attempt,
// never an accepted event: a group commit made only of relaxed writes is
// committed with synchronous=NORMAL, without an fsync of its own. The WAL is
// written in order, so the next durable commit's fsync makes it durable too,
// and a crash of the process alone loses nothing (the operating system has
// the data). Any durable write in the group makes the whole commit durable.
func (s *Store) WriteRelaxed(ctx context.Context, fn func(agenthooks.Tx) error) error {
	return classify(s.write(ctx, fn, true))
}

func (s *Store) write(ctx context.Context, fn func(agenthooks.Tx) error, relaxed bool) error {
	req := &writeReq{ctx: ctx, fn: fn, errc: make(chan error, 1), relaxed: relaxed}
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return ErrClosed
	}
	select {
	case s.writes <- req:
		s.closeMu.RUnlock()
	case <-ctx.Done():
		s.closeMu.RUnlock()
		return ctx.Err()
	}
	// Once queued, wait for the outcome: returning early could report a
	// failure for a write that then commits. closeMu guarantees the writer
	// sees every queued request before it stops, and it answers each one.
	return <-req.errc
}

// Read runs fn in a read-only transaction on the read pool. Each read
// connection keeps its statements prepared, BEGIN and ROLLBACK included: an
// API call authenticates with a read, so this is on every request's path.
func (s *Store) Read(ctx context.Context, fn func(agenthooks.Tx) error) error {
	return classify(s.read(ctx, fn))
}

func (s *Store) read(ctx context.Context, fn func(agenthooks.Tx) error) error {
	r, err := s.getReader(ctx)
	if err != nil {
		return err
	}
	defer s.putReader(r)
	// A deferred BEGIN takes no lock and cannot wait: no need to watch ctx
	// (which costs the driver a goroutine per statement).
	if _, err := r.q.ExecContext(context.Background(), "BEGIN"); err != nil {
		return fmt.Errorf("sqlite begin read: %w", err)
	}
	// Read-only (query_only): nothing to lose. Run even after ctx ended, so
	// the connection goes back to the pool outside any transaction.
	defer r.q.ExecContext(context.Background(), "ROLLBACK") //nolint:errcheck // see above
	t := sqlstore.NewTx(ctx, r.q, dialect, s.now(), false).WithKeyring(s.keys)
	defer t.End(false)
	return fn(t)
}

// ReadOne runs fn, which makes at most one statement, on a read connection
// without BEGIN and ROLLBACK: in autocommit mode one statement is its own
// read transaction (agenthooks.Store.ReadOne).
func (s *Store) ReadOne(ctx context.Context, fn func(agenthooks.Tx) error) error {
	r, err := s.getReader(ctx)
	if err != nil {
		return classify(err)
	}
	defer s.putReader(r)
	t := sqlstore.NewTx(ctx, r.q, dialect, s.now(), false).WithKeyring(s.keys)
	defer t.End(false)
	return classify(fn(t))
}

// getReader takes a read connection from the pool, waiting for one.
func (s *Store) getReader(ctx context.Context) (*reader, error) {
	select {
	case r := <-s.readers:
		return r, nil
	case <-s.done:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// putReader hands a read connection back to the pool, or closes it if the
// store was closed meanwhile (Close did not see it).
func (s *Store) putReader(r *reader) {
	select {
	case <-s.done:
		_ = r.q.Close()
		_ = r.conn.Close()
	default:
		s.readers <- r
	}
}

func (s *Store) writer() {
	defer close(s.stopped)
	ctx := context.Background()
	batch := make([]*writeReq, 0, s.batch)
	for {
		var first *writeReq
		select {
		case first = <-s.writes:
		case <-s.done:
			// Drain what was queued before Close, then stop.
			for {
				select {
				case r := <-s.writes:
					r.answer(ErrClosed)
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
	fill:
		for len(batch) < s.batch {
			select {
			case r := <-s.writes:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		s.commit(ctx, batch)
	}
}

// commit runs a batch of writes in one transaction, one savepoint each.
// The transaction is driven with SQL on the writer's own connection, whose
// statements (savepoints included) are prepared once and reused.
func (s *Store) commit(ctx context.Context, batch []*writeReq) {
	start := time.Now()
	defer func() { s.busyNanos.Add(int64(time.Since(start))) }()
	errs := make([]error, len(batch))
	q := s.wq
	fail := func(err error) {
		for i, r := range batch {
			if errs[i] == nil {
				errs[i] = err
			}
			r.answer(errs[i])
		}
	}
	abort := func(err error) {
		_, _ = q.ExecContext(ctx, "ROLLBACK")
		fail(err)
	}
	// synchronous can only change outside a transaction: set it for this
	// group before it begins.
	durable := false
	for _, r := range batch {
		durable = durable || !r.relaxed
	}
	if durable != s.synced {
		pragma := "PRAGMA synchronous = NORMAL"
		if durable {
			pragma = "PRAGMA synchronous = FULL"
		}
		if _, err := q.ExecContext(ctx, pragma); err != nil {
			fail(fmt.Errorf("sqlite %s: %w", pragma, err))
			return
		}
		s.synced = durable
	}
	if _, err := q.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		fail(fmt.Errorf("sqlite begin: %w", err))
		return
	}
	now := s.now()
	delivered := 0
	var counts statusDelta // of the writes released into the transaction
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if _, err := q.ExecContext(ctx, "SAVEPOINT w"); err != nil {
			abort(fmt.Errorf("sqlite savepoint: %w", err))
			return
		}
		s.delta = statusDelta{}
		// Statements run under the batch's context, not the caller's: a
		// caller whose context ends mid-statement would interrupt SQLite and
		// roll back the whole batch, every other caller's work included.
		t := sqlstore.NewTx(ctx, q, dialect, now, true).WithKeyring(s.keys).WithTraceFrom(r.ctx)
		r.tx = t
		err := runSafely(r.fn, t)
		if err != nil {
			errs[i] = err
			if _, rerr := q.ExecContext(ctx, "ROLLBACK TO w"); rerr != nil {
				abort(fmt.Errorf("sqlite rollback to savepoint: %w", rerr))
				return
			}
		} else {
			delivered += t.Delivered
			counts.plus(s.delta)
		}
		if _, err := q.ExecContext(ctx, "RELEASE w"); err != nil {
			abort(fmt.Errorf("sqlite release savepoint: %w", err))
			return
		}
	}
	if !counts.zero() {
		if _, err := q.ExecContext(ctx, addCounts, counts.pending, counts.succeeded, counts.failed, counts.canceled); err != nil {
			abort(fmt.Errorf("sqlite delivery counts: %w", err))
			return
		}
	}
	if _, err := q.ExecContext(ctx, "COMMIT"); err != nil {
		// A failed COMMIT may leave the transaction open (SQLITE_BUSY):
		// end it, so that the next batch starts clean.
		abort(fmt.Errorf("sqlite commit: %w", err))
		return
	}
	s.nCommits.Add(1)
	s.nWrites.Add(int64(len(batch)))
	if durable {
		s.nDurable.Add(1)
	}
	for i, r := range batch {
		r.answer(errs[i])
	}
	if delivered > 0 {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// Stats are the writer's counters since Open.
type Stats struct {
	Commits int64         // transactions committed
	Writes  int64         // writes (calls of Write and WriteRelaxed) they held
	Synced  int64         // commits made with synchronous=FULL (an fsync each)
	Busy    time.Duration // time spent running and committing them
}

// Stats returns the writer's counters: Writes/Commits is the mean size of a
// group commit.
func (s *Store) Stats() Stats {
	return Stats{Commits: s.nCommits.Load(), Writes: s.nWrites.Load(), Synced: s.nDurable.Load(), Busy: time.Duration(s.busyNanos.Load())}
}

// runSafely turns a panic in fn into an error so that one caller's bug cannot
// take the writer, and every other caller's write, down with it.
func runSafely(fn func(agenthooks.Tx) error, tx agenthooks.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("write panicked: %v", p)
		}
	}()
	return fn(tx)
}

// Close stops the writer (failing writes not yet started) and closes the database.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		// A Write blocked on a full queue holds the read lock until the
		// writer makes room, which it keeps doing until done is closed.
		s.closeMu.Lock()
		s.closed = true
		s.closeMu.Unlock()
		close(s.done)
		<-s.stopped
		err = errors.Join(s.wq.Close(), s.wconn.Close(), s.closeReaders(), s.rdb.Close(), s.wdb.Close())
	})
	return err
}

// Pragma reads one PRAGMA on a write connection and on a read connection, so
// tests can check the durability settings every connection runs with.
func (s *Store) Pragma(ctx context.Context, name string) (write, read string, err error) {
	// The write connection is owned by the writer goroutine; read it through a
	// dedicated write request.
	var w string
	err = s.Write(ctx, func(tx agenthooks.Tx) error {
		return tx.(*sqlstore.Tx).QueryRowForTest("PRAGMA " + name).Scan(&w)
	})
	if err != nil {
		return "", "", err
	}
	var r string
	err = s.Read(ctx, func(tx agenthooks.Tx) error {
		return tx.(*sqlstore.Tx).QueryRowForTest("PRAGMA " + name).Scan(&r)
	})
	if err != nil {
		return "", "", err
	}
	return w, r, nil
}
