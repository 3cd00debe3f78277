package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// The deliveries by status, for the metrics (agenthooks.Tx.QueueStats),
// without counting the deliveries and without a row that concurrent writers
// wait on. Statement-level triggers on deliveries append one row per
// statement that changed the numbers to delivery_count_deltas (migrations
// 007, 008 and canceled_count); each store folds the rows into the totals of delivery_counts
// every FoldCountsEvery; a reading sums both.
//
// Before, the triggers added to one of 16 counter rows: a row stays locked
// until its transaction's commit is on disk, so concurrent closes queued
// behind one another's fsync (docs/operations.md, "Metrics"). An append
// waits on nobody; the fold is the only writer of the totals, once a second
// per process, and it waits on nobody but another fold.

// defaultFoldEvery is Options.FoldCountsEvery's default: the deltas table
// holds about a second of statements, which a reading sums at no cost.
const defaultFoldEvery = time.Second

// deliveryCountsSQL is the dialect's DeliveryCountsSQL: the totals plus the
// deltas not folded yet, in one statement, so in one snapshot: a fold
// commits its DELETE of the deltas and its UPDATE of the totals together,
// and a reading sees either the deltas or the totals they went into.
const deliveryCountsSQL = `SELECT COALESCE(SUM(pending), 0), COALESCE(SUM(succeeded), 0), COALESCE(SUM(failed), 0), COALESCE(SUM(canceled), 0) FROM (
	SELECT pending, succeeded, failed, canceled FROM delivery_counts
	UNION ALL SELECT pending, succeeded, failed, canceled FROM delivery_count_deltas) c`

// foldCountsSQL moves the deltas into the totals (slot 0) in one statement
// and returns how many rows it moved (no row if none: then it writes
// nothing). Folds of several processes at once stay exact: DELETE ...
// RETURNING returns only the rows this statement deleted (a row that another
// fold deleted first is skipped once that fold commits), and the UPDATE of
// the totals waits for the other fold's and then adds to its result (READ
// COMMITTED re-reads the updated row). Deltas committed after the
// statement's snapshot stay for the next fold.
const foldCountsSQL = `WITH folded AS (
		DELETE FROM delivery_count_deltas RETURNING pending, succeeded, failed, canceled
	), total AS (
		SELECT count(*) AS n, COALESCE(SUM(pending), 0)::BIGINT AS pending,
			COALESCE(SUM(succeeded), 0)::BIGINT AS succeeded, COALESCE(SUM(failed), 0)::BIGINT AS failed,
			COALESCE(SUM(canceled), 0)::BIGINT AS canceled
		FROM folded
	)
	UPDATE delivery_counts c SET pending = c.pending + t.pending, succeeded = c.succeeded + t.succeeded, failed = c.failed + t.failed,
		canceled = c.canceled + t.canceled
	FROM total t WHERE c.slot = 0 AND t.n > 0
	RETURNING t.n`

// eventsFilteredSQL is the dialect's EventsFilteredSQL: a filter's drops
// are appended, like the delivery counts, so that the events of a busy
// webhook do not queue on its row (migration filter).
const eventsFilteredSQL = "INSERT INTO webhook_filtered_deltas (n, webhook_id) VALUES (?, ?)"

// foldFilteredSQL moves the filtered-event deltas into their webhooks'
// counts, exact under concurrent folds for the reasons foldCountsSQL gives;
// the deltas of a deleted webhook are deleted with no row to add to.
const foldFilteredSQL = `WITH folded AS (
		DELETE FROM webhook_filtered_deltas RETURNING webhook_id, n
	), total AS (
		SELECT webhook_id, SUM(n)::BIGINT AS n FROM folded GROUP BY webhook_id
	)
	UPDATE webhooks w SET events_filtered = w.events_filtered + t.n FROM total t WHERE w.id = t.webhook_id`

// FoldDeliveryCounts moves the delivery count deltas into the totals now and
// returns how many delta rows it moved. The store does it every
// Options.FoldCountsEvery by itself; readings are exact whether or not a
// fold ran. The fold commits with synchronous_commit off: a crash that loses
// it loses the DELETE with the UPDATE, and the deltas are folded again.
func (s *Store) FoldDeliveryCounts(ctx context.Context) (int64, error) {
	n, err := s.fold(ctx)
	return n, classify(err)
}

func (s *Store) fold(ctx context.Context) (n int64, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("postgres fold counts: begin: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			_ = tx.Rollback()
		}
	}()
	if _, err := tx.ExecContext(ctx, "SET LOCAL synchronous_commit TO OFF"); err != nil {
		return 0, fmt.Errorf("postgres fold counts: relax durability: %w", err)
	}
	err = tx.QueryRowContext(ctx, foldCountsSQL).Scan(&n)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("postgres fold counts: %w", err)
	}
	if _, err := tx.ExecContext(ctx, foldFilteredSQL); err != nil {
		return 0, fmt.Errorf("postgres fold filtered counts: %w", err)
	}
	committed = true
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("postgres fold counts: commit: %w", err)
	}
	return n, nil
}

// foldLoop folds the deltas every every until ctx ends. A failure is logged
// once until a fold succeeds again (the database may be down for a while);
// meanwhile readings stay exact, only slower as the deltas pile up.
func (s *Store) foldLoop(ctx context.Context, every time.Duration) {
	defer s.wg.Done()
	tick := time.NewTicker(every)
	defer tick.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		_, err := s.fold(ctx)
		switch {
		case err == nil:
			failing = false
		case ctx.Err() != nil:
			return
		case !failing:
			failing = true
			s.log.Warn("postgres: cannot fold the delivery counts; retrying every interval", slog.Any("error", err), slog.Duration("interval", every))
		}
	}
}
