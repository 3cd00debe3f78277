package webhook

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// DefaultSQLTTL is how long a SQLDeduper remembers processed ids by default:
// 30 days, agenthooks' default retention, after which an event can no longer
// be redelivered.
const DefaultSQLTTL = 30 * 24 * time.Hour

// DefaultClaimTimeout is how long, by default, a SQLDeduper claim that was
// neither completed nor released (the receiver crashed in the middle of the
// handler) holds back other deliveries of the same id. It is longer than any
// sensible handler, and shorter than the platform's third retry delay, so a
// crashed delivery is processed again by a later attempt.
const DefaultClaimTimeout = time.Minute

// SQLDeduper is a Deduper that keeps ids in a table of a database you open,
// so that every replica of a receiver, and its restarts, share them. Its SQL
// runs on SQLite (3.24 or later) and PostgreSQL. Set its fields, if at all,
// before first use.
//
// The table is webhook_deliveries_seen(id TEXT PRIMARY KEY, done INTEGER,
// seen_at BIGINT), with seen_at in Unix milliseconds: when the id was claimed,
// then when it was completed. Rows past their time are deleted now and then
// by Claim, or by Prune.
type SQLDeduper struct {
	// TTL is how long a completed id is remembered. Zero means DefaultSQLTTL.
	TTL time.Duration
	// ClaimTimeout is how long a claim that was neither completed nor released
	// blocks other deliveries of the id. Zero means DefaultClaimTimeout.
	ClaimTimeout time.Duration
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time

	db        *sql.DB
	lastPrune atomic.Int64 // Unix milliseconds of the last prune
}

const sqlSchema = `CREATE TABLE IF NOT EXISTS webhook_deliveries_seen (
	id      TEXT PRIMARY KEY,
	done    INTEGER NOT NULL DEFAULT 0,
	seen_at BIGINT NOT NULL
)`

// The index serves Prune, which would otherwise scan the table.
const sqlIndex = `CREATE INDEX IF NOT EXISTS webhook_deliveries_seen_seen_at ON webhook_deliveries_seen (seen_at)`

// NewSQLDeduper returns a SQLDeduper on db, creating its table if it does not
// exist. With SQLite, open db with a busy timeout (for modernc.org/sqlite:
// "file:app.db?_pragma=busy_timeout(5000)") so that concurrent deliveries wait
// for the write lock instead of failing.
func NewSQLDeduper(ctx context.Context, db *sql.DB) (*SQLDeduper, error) {
	for _, stmt := range []string{sqlSchema, sqlIndex} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return nil, fmt.Errorf("webhook: create dedup table: %w", err)
		}
	}
	return &SQLDeduper{db: db}, nil
}

func (d *SQLDeduper) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *SQLDeduper) ttl() time.Duration {
	if d.TTL > 0 {
		return d.TTL
	}
	return DefaultSQLTTL
}

func (d *SQLDeduper) claimTimeout() time.Duration {
	if d.ClaimTimeout > 0 {
		return d.ClaimTimeout
	}
	return DefaultClaimTimeout
}

// pruneEvery bounds how often Claim prunes the table.
const pruneEvery = time.Minute

// Claim implements Deduper. Each step is one atomic statement, so concurrent
// claims of one id, from any number of processes, give Claimed to one of them.
func (d *SQLDeduper) Claim(ctx context.Context, id string) (ClaimStatus, error) {
	now := d.now()
	if last := d.lastPrune.Load(); now.UnixMilli()-last >= pruneEvery.Milliseconds() && d.lastPrune.CompareAndSwap(last, now.UnixMilli()) {
		if _, err := d.prune(ctx, now); err != nil {
			return 0, err
		}
	}
	ms := now.UnixMilli()
	claimCutoff := now.Add(-d.claimTimeout()).UnixMilli()
	doneCutoff := now.Add(-d.ttl()).UnixMilli()
	// A row may vanish between the statements (released or pruned); try again then.
	for range 3 {
		res, err := d.db.ExecContext(ctx,
			`INSERT INTO webhook_deliveries_seen (id, done, seen_at) VALUES ($1, 0, $2) ON CONFLICT (id) DO NOTHING`,
			id, ms)
		if claimed, err := affectedOne(res, err); err != nil {
			return 0, err
		} else if claimed {
			return Claimed, nil
		}
		// Take over an abandoned claim or an expired completion.
		res, err = d.db.ExecContext(ctx,
			`UPDATE webhook_deliveries_seen SET done = 0, seen_at = $2
			WHERE id = $1 AND ((done = 0 AND seen_at <= $3) OR (done = 1 AND seen_at <= $4))`,
			id, ms, claimCutoff, doneCutoff)
		if claimed, err := affectedOne(res, err); err != nil {
			return 0, err
		} else if claimed {
			return Claimed, nil
		}
		var done int
		err = d.db.QueryRowContext(ctx, `SELECT done FROM webhook_deliveries_seen WHERE id = $1`, id).Scan(&done)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			continue
		case err != nil:
			return 0, fmt.Errorf("webhook: dedup claim: %w", err)
		case done != 0:
			return Duplicate, nil
		default:
			return InProgress, nil
		}
	}
	return 0, errors.New("webhook: dedup claim: row keeps changing")
}

// affectedOne reports whether an Exec changed exactly one row.
func affectedOne(res sql.Result, err error) (bool, error) {
	if err != nil {
		return false, fmt.Errorf("webhook: dedup claim: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("webhook: dedup claim: %w", err)
	}
	return n == 1, nil
}

// Complete implements Deduper. It records id as processed even if its claim
// timed out or was pruned meanwhile.
func (d *SQLDeduper) Complete(ctx context.Context, id string) error {
	_, err := d.db.ExecContext(ctx,
		`INSERT INTO webhook_deliveries_seen (id, done, seen_at) VALUES ($1, 1, $2)
		ON CONFLICT (id) DO UPDATE SET done = 1, seen_at = excluded.seen_at`,
		id, d.now().UnixMilli())
	if err != nil {
		return fmt.Errorf("webhook: dedup complete: %w", err)
	}
	return nil
}

// Release implements Deduper.
func (d *SQLDeduper) Release(ctx context.Context, id string) error {
	_, err := d.db.ExecContext(ctx, `DELETE FROM webhook_deliveries_seen WHERE id = $1 AND done = 0`, id)
	if err != nil {
		return fmt.Errorf("webhook: dedup release: %w", err)
	}
	return nil
}

// Prune deletes completed ids older than TTL and claims older than
// ClaimTimeout, and returns how many rows it deleted. Claim calls it at most
// once a minute, so calling it yourself is optional.
func (d *SQLDeduper) Prune(ctx context.Context) (int64, error) {
	return d.prune(ctx, d.now())
}

func (d *SQLDeduper) prune(ctx context.Context, now time.Time) (int64, error) {
	res, err := d.db.ExecContext(ctx,
		`DELETE FROM webhook_deliveries_seen WHERE (done = 1 AND seen_at <= $1) OR (done = 0 AND seen_at <= $2)`,
		now.Add(-d.ttl()).UnixMilli(), now.Add(-d.claimTimeout()).UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("webhook: dedup prune: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("webhook: dedup prune: %w", err)
	}
	return n, nil
}
