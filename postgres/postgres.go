// Package postgres is the store for many instances: PostgreSQL through pgx,
// every connection with synchronous_commit=on so that a commit is durable when
// it returns. Workers of any number of processes claim due deliveries with
// FOR UPDATE SKIP LOCKED under a lease (a crashed process's claims come back
// when the lease runs out), and LISTEN/NOTIFY wakes them when deliveries are
// stored; a short poll is the fallback. The deliveries by status, for the
// metrics, are totals plus deltas that triggers append and each store folds
// every second (counts.go).
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the embedded schema migrations.
func Migrations() []sqlstore.Migration {
	return sqlstore.EmbeddedMigrations(migrationFiles, "migrations")
}

const channel = "agenthooks_deliveries"

// dialect: row locks for finders that modify, the claim's rows chosen FOR
// UPDATE SKIP LOCKED (workers of several processes never wait for each
// other nor take the same delivery), batched completions (each statement
// is a round trip), and a notification at commit for every delivery stored.
var dialect = &sqlstore.Dialect{
	Numbered:   true,
	LockSuffix: " FOR UPDATE",
	// The chosen ids are gathered with ARRAY(...), which PostgreSQL runs
	// once (an InitPlan) and then looks up by primary key: with
	// "id IN (SELECT ...)" it planned a hash semi-join over a sequential
	// scan of the whole table (measured: 40,000 rows read for 256 claimed).
	ClaimSQL: `UPDATE deliveries SET claimed = 1, lease = lease + 1,
		first_due_at = CASE WHEN first_due_at = 0 THEN next_attempt_at ELSE first_due_at END, next_attempt_at = ?, updated_at = ?
		WHERE id = ANY(ARRAY(SELECT d.id FROM deliveries d
		WHERE ` + sqlstore.ClaimWhere + ` ORDER BY d.next_attempt_at LIMIT ? FOR UPDATE OF d SKIP LOCKED))
		RETURNING ` + sqlstore.ClaimCols,
	// Without sorts the claim reads the due index in order and stops at
	// its limit. With them, on statistics that do not know how many
	// deliveries are pending (a table never analysed, a burst after an
	// outage on a large table), PostgreSQL read every due delivery with a
	// bitmap scan and sorted them, for every claim: the drain ran at a
	// third of its speed (docs/benchmarks.md, "The claim's plan").
	ClaimPlan: "SELECT set_config('enable_sort', 'off', true)",

	Catalogue: sqlstore.Catalogue{
		Tables: "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
		AccountTables: `SELECT c.table_name FROM information_schema.columns c JOIN information_schema.tables t
			ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
			WHERE c.table_schema = current_schema() AND c.column_name = 'account_id'`,
		ForeignKeys: `SELECT c.relname, p.relname FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
			JOIN pg_class p ON p.oid = k.confrelid JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE k.contype = 'f' AND n.nspname = current_schema()`,
	},
	BatchByValues:     true,
	DeliveryCountsSQL: deliveryCountsSQL,
	EventsFilteredSQL: eventsFilteredSQL,
	DeliveryCreated: func(ctx context.Context, q sqlstore.Querier) error {
		// Sent at commit, to every listening process.
		_, err := q.ExecContext(ctx, "SELECT pg_notify('"+channel+"', '')")
		return err
	},
}

// Options tune the store.
type Options struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// MaxConns is the pool size (default: the URL's pool_max_conns, else
	// 32).
	MaxConns int
	// Logger receives listener errors (default slog.Default()).
	Logger *slog.Logger
	// Keyring seals webhook secrets at rest (nil: stored as they are).
	Keyring *sqlstore.Keyring
	// FoldCountsEvery is how often the store folds the delivery count
	// deltas into their totals (postgres/counts.go; default 1s). Negative:
	// never by itself, only when FoldDeliveryCounts is called (tests).
	FoldCountsEvery time.Duration
}

// Store is the PostgreSQL implementation of agenthooks.Store.
type Store struct {
	db     *sql.DB
	cfg    *pgx.ConnConfig
	now    func() time.Time
	keys   *sqlstore.Keyring
	wake   chan struct{}
	log    *slog.Logger
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

var _ agenthooks.Store = (*Store)(nil)

// poolMaxConnsParam is the URL parameter that sizes a process's pool of
// connections (pgxpool's name for it). It is ours, not a setting of the
// server's: it is taken out of the URL before connecting.
const poolMaxConnsParam = "pool_max_conns"

// ParseConfig parses a postgres:// URL and fixes the durability settings.
// A pool_max_conns parameter is checked and left out of the connection's
// settings.
func ParseConfig(databaseURL string) (*pgx.ConnConfig, error) {
	cfg, _, err := parseURL(databaseURL)
	return cfg, err
}

// parseURL is ParseConfig that also returns the URL's pool_max_conns (0
// when it has none).
func parseURL(databaseURL string) (*pgx.ConnConfig, int, error) {
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		return nil, 0, fmt.Errorf("parse database url: %w", err)
	}
	maxConns := 0
	if v, ok := cfg.RuntimeParams[poolMaxConnsParam]; ok {
		delete(cfg.RuntimeParams, poolMaxConnsParam)
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPoolSize {
			return nil, 0, fmt.Errorf("parse database url: %s=%q: want a whole number from 1 to %d", poolMaxConnsParam, v, maxPoolSize)
		}
		maxConns = n
	}
	// Durable commits whatever the server's default says (docs/guarantees.md).
	cfg.RuntimeParams["synchronous_commit"] = "on"
	cfg.RuntimeParams["application_name"] = "agenthooks"
	return cfg, maxConns, nil
}

// maxPoolSize bounds pool_max_conns (PostgreSQL's max_connections is
// 100 by default).
const maxPoolSize = 10_000

// Open connects, applies migrations (serialised across processes by an
// advisory lock), starts listening for wake-ups and folding the delivery
// count deltas.
func Open(ctx context.Context, databaseURL string, o Options) (*Store, error) {
	cfg, urlMaxConns, err := parseURL(databaseURL)
	if err != nil {
		return nil, err
	}
	if o.MaxConns <= 0 {
		o.MaxConns = urlMaxConns
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 32
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.FoldCountsEvery == 0 {
		o.FoldCountsEvery = defaultFoldEvery
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(o.MaxConns)
	db.SetMaxIdleConns(o.MaxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	lctx, cancel := context.WithCancel(context.Background())
	s := &Store{db: db, cfg: cfg, now: o.Now, keys: o.Keyring, wake: make(chan struct{}, 1), log: o.Logger, cancel: cancel}
	s.wg.Add(1)
	go s.listen(lctx)
	if o.FoldCountsEvery > 0 {
		s.wg.Add(1)
		go s.foldLoop(lctx, o.FoldCountsEvery)
	}
	return s, nil
}

func migrate(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("postgres connect: %w", err)
	}
	defer conn.Close()
	// Two instances starting together must not both apply a migration.
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(7283001)"); err != nil {
		return fmt.Errorf("postgres migration lock: %w", err)
	}
	defer conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock(7283001)") //nolint:errcheck // the session ends anyway
	if _, err := sqlstore.Migrate(ctx, conn, dialect, Migrations()); err != nil {
		return fmt.Errorf("postgres migrate: %w", err)
	}
	return nil
}

// Engine returns "postgres".
func (s *Store) Engine() string { return "postgres" }

// Capabilities: any number of processes, each with concurrent writers.
func (s *Store) Capabilities() agenthooks.Capabilities { return agenthooks.Capabilities{} }

// Wake returns the channel that receives when any process stored deliveries.
func (s *Store) Wake() <-chan struct{} { return s.wake }

func (s *Store) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// listen holds one connection LISTENing on the wake-up channel, reconnecting
// after errors. Missing a notification costs at most one poll interval.
func (s *Store) listen(ctx context.Context) {
	defer s.wg.Done()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("postgres listener lost; reconnecting", slog.Any("error", err), slog.Duration("backoff", backoff))
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (s *Store) listenOnce(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, s.cfg)
	if err != nil {
		return fmt.Errorf("connect listener: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	s.signal() // anything stored while we were not listening
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return fmt.Errorf("wait for notification: %w", err)
		}
		s.signal()
	}
}

// retryable reports whether a transaction failed only because of concurrency
// (serialization failure, deadlock) and may simply be run again.
func retryable(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == "40001" || pg.Code == "40P01")
}

// Write runs fn in its own transaction; PostgreSQL groups concurrent commits
// into shared WAL flushes by itself.
func (s *Store) Write(ctx context.Context, fn func(agenthooks.Tx) error) error {
	return s.write(ctx, fn, false)
}

// WriteRelaxed is Write with synchronous_commit off for this transaction
// (agenthooks.Store.WriteRelaxed): the commit returns before its WAL is on
// disk. PostgreSQL keeps such commits in order and consistent, and flushes
// them within a few hundred milliseconds; a crash of the server may lose
// the last of them, which costs a repeated attempt, never an accepted event.
func (s *Store) WriteRelaxed(ctx context.Context, fn func(agenthooks.Tx) error) error {
	return s.write(ctx, fn, true)
}

func (s *Store) write(ctx context.Context, fn func(agenthooks.Tx) error, relaxed bool) error {
	mode := modeWrite
	if relaxed {
		mode = modeRelaxed
	}
	var err error
	for try := 0; try < 5; try++ {
		err = s.run(ctx, fn, mode)
		if !retryable(err) {
			return classify(err)
		}
	}
	return classify(err)
}

// Read runs fn in a read-only transaction.
func (s *Store) Read(ctx context.Context, fn func(agenthooks.Tx) error) error {
	return classify(s.run(ctx, fn, modeRead))
}

// Transaction modes of run.
const (
	modeRead = iota
	modeWrite
	modeRelaxed // a write that commits without waiting for the disk
)

// ReadOne runs fn, which makes at most one statement, on the pool without
// a transaction (agenthooks.Store.ReadOne).
func (s *Store) ReadOne(ctx context.Context, fn func(agenthooks.Tx) error) error {
	t := sqlstore.NewTx(ctx, s.db, dialect, s.now(), false).WithKeyring(s.keys)
	defer t.End(false)
	return classify(fn(t))
}

func (s *Store) run(ctx context.Context, fn func(agenthooks.Tx) error, mode int) (err error) {
	write := mode != modeRead
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: !write})
	if err != nil {
		return fmt.Errorf("postgres begin: %w", err)
	}
	// Roll back on every way out but a commit, a panic in fn included: a
	// transaction left open would keep its row locks and its connection.
	committed := false
	defer func() {
		if !committed {
			_ = tx.Rollback()
		}
	}()
	if mode == modeRelaxed {
		if _, err := tx.ExecContext(ctx, "SET LOCAL synchronous_commit TO OFF"); err != nil {
			return fmt.Errorf("postgres relax durability: %w", err)
		}
	}
	t := sqlstore.NewTx(ctx, tx, dialect, s.now(), write).WithKeyring(s.keys)
	ok := false
	defer func() { t.End(ok) }()
	if err := fn(t); err != nil {
		return err
	}
	committed = true // Commit ends the transaction whatever it returns
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("postgres commit: %w", err)
	}
	ok = write // a read commits nothing (agenthooks.Tx.OnCommit)
	if t.Delivered > 0 {
		s.signal()
	}
	return nil
}

// Close stops the listener and the folds and closes the pool.
func (s *Store) Close() error {
	s.cancel()
	s.wg.Wait()
	return s.db.Close()
}

// Setting reads one server setting (SHOW) on a pooled connection, so tests
// can check the durability settings connections run with.
func (s *Store) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := s.Read(ctx, func(tx agenthooks.Tx) error {
		return tx.(*sqlstore.Tx).QueryRowForTest("SHOW " + pgx.Identifier{name}.Sanitize()).Scan(&v)
	})
	return v, err
}

// CreateDatabase creates database name on the server of serverURL and returns
// the URL of the new database. Tests and the benchmark use it.
func CreateDatabase(ctx context.Context, serverURL, name string) (string, error) {
	conn, err := connect(ctx, serverURL)
	if err != nil {
		return "", fmt.Errorf("connect to postgres: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", fmt.Errorf("parse database url: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

// connect opens one connection on a URL as Open reads it.
func connect(ctx context.Context, databaseURL string) (*pgx.Conn, error) {
	cfg, err := ParseConfig(databaseURL)
	if err != nil {
		return nil, err
	}
	return pgx.ConnectConfig(ctx, cfg)
}

// DropDatabase drops database name, ending its sessions first.
func DropDatabase(ctx context.Context, serverURL, name string) error {
	conn, err := connect(ctx, serverURL)
	if err != nil {
		return fmt.Errorf("connect to postgres: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// IsURL reports whether s names a PostgreSQL database.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}
