// Package postgres is the store for many instances: PostgreSQL through pgx,
// every connection with synchronous_commit=on so that a commit is durable when
// it returns. Workers of any number of processes claim due deliveries with
// FOR UPDATE SKIP LOCKED under a lease (a crashed process's claims come back
// when the lease runs out), and LISTEN/NOTIFY wakes them when deliveries are
// stored; a short poll is the fallback.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
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
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err)
	}
	ms, err := sqlstore.LoadMigrations(sub)
	if err != nil {
		panic(err)
	}
	return ms
}

const channel = "agenthooks_deliveries"

var dialect = &sqlstore.Dialect{
	Name:       "postgres",
	Numbered:   true,
	LockSuffix: " FOR UPDATE",
	// On a webhook with ordering "conversation" a delivery waits while an
	// earlier one of the same conversation is pending (in flight or waiting
	// for its retry), so that conversation's events arrive in order.
	ClaimSQL: `SELECT d.id FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id
		WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND w.enabled = 1
		AND (w.ordering <> 'conversation' OR d.conversation_id = '' OR NOT EXISTS (
			SELECT 1 FROM deliveries p WHERE p.webhook_id = d.webhook_id AND p.conversation_id = d.conversation_id
			AND p.status = 'pending' AND p.id < d.id))
		ORDER BY d.next_attempt_at LIMIT ? FOR UPDATE OF d SKIP LOCKED`,
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
	// MaxConns is the pool size (default 32).
	MaxConns int
	// Logger receives listener errors (default slog.Default()).
	Logger *slog.Logger
	// Keyring seals webhook secrets at rest (nil: stored as they are).
	Keyring *sqlstore.Keyring
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

// ParseConfig parses a postgres:// URL and fixes the durability settings.
func ParseConfig(databaseURL string) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	// Durable commits whatever the server's default says (CONTRACT section 5).
	cfg.RuntimeParams["synchronous_commit"] = "on"
	cfg.RuntimeParams["application_name"] = "agenthooks"
	return cfg, nil
}

// Open connects, applies migrations (serialised across processes by an
// advisory lock) and starts listening for wake-ups.
func Open(ctx context.Context, databaseURL string, o Options) (*Store, error) {
	cfg, err := ParseConfig(databaseURL)
	if err != nil {
		return nil, err
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
	var err error
	for try := 0; try < 5; try++ {
		err = s.run(ctx, fn, true)
		if !retryable(err) {
			return err
		}
	}
	return err
}

// Read runs fn in a read-only transaction.
func (s *Store) Read(ctx context.Context, fn func(agenthooks.Tx) error) error {
	return s.run(ctx, fn, false)
}

// ReadOne runs fn, which makes at most one statement, on the pool without
// a transaction (agenthooks.Store.ReadOne).
func (s *Store) ReadOne(ctx context.Context, fn func(agenthooks.Tx) error) error {
	return fn(sqlstore.NewTx(ctx, s.db, dialect, s.now(), false).WithKeyring(s.keys))
}

func (s *Store) run(ctx context.Context, fn func(agenthooks.Tx) error, write bool) (err error) {
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
	t := sqlstore.NewTx(ctx, tx, dialect, s.now(), write).WithKeyring(s.keys)
	if err := fn(t); err != nil {
		return err
	}
	committed = true // Commit ends the transaction whatever it returns
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("postgres commit: %w", err)
	}
	if t.Delivered > 0 {
		s.signal()
	}
	return nil
}

// Close stops the listener and closes the pool.
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
	conn, err := pgx.Connect(ctx, serverURL)
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

// DropDatabase drops database name, ending its sessions first.
func DropDatabase(ctx context.Context, serverURL, name string) error {
	conn, err := pgx.Connect(ctx, serverURL)
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
