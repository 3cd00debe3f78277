package sqlite

import (
	"context"
	"fmt"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/agenthooks/agenthooks"
)

// statusDelta is how a write changed the number of deliveries by status.
type statusDelta struct {
	pending, succeeded, failed, canceled int64
}

func (d *statusDelta) add(status string, n int64) {
	switch status {
	case agenthooks.DeliveryPending:
		d.pending += n
	case agenthooks.DeliverySucceeded:
		d.succeeded += n
	case agenthooks.DeliveryFailed:
		d.failed += n
	case agenthooks.DeliveryCanceled:
		d.canceled += n
	}
}

func (d *statusDelta) plus(o statusDelta) {
	d.pending += o.pending
	d.succeeded += o.succeeded
	d.failed += o.failed
	d.canceled += o.canceled
}

func (d statusDelta) zero() bool { return d == statusDelta{} }

// preUpdater is the modernc driver connection's pre-update hook.
type preUpdater interface {
	RegisterPreUpdateHook(sqlite.PreUpdateHookFn)
}

// watchDeliveries keeps the deliveries-by-status counters (the
// delivery_counts row that agenthooks.Tx.QueueStats reads): the writer
// connection's pre-update hook adds every insert, delete and status change of
// a delivery to s.delta, commit keeps the deltas of the writes that were
// released and drops those rolled back, and adds their sum to the row in the
// transaction it commits. Only the writer connection writes deliveries (the
// read pool is query_only, and the account commands of other processes touch
// no delivery), so the row stays equal to a count.
func (s *Store) watchDeliveries(ctx context.Context) error {
	col := -1
	rows, err := s.wconn.QueryContext(ctx, "SELECT cid, name FROM pragma_table_info('deliveries')")
	if err != nil {
		return fmt.Errorf("sqlite: read the deliveries columns: %w", err)
	}
	for rows.Next() {
		var cid int
		var name string
		if err := rows.Scan(&cid, &name); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: read the deliveries columns: %w", err)
		}
		if name == "status" {
			col = cid
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: read the deliveries columns: %w", err)
	}
	if col < 0 {
		return fmt.Errorf("sqlite: deliveries has no status column")
	}
	return s.wconn.Raw(func(dc any) error {
		h, ok := dc.(preUpdater)
		if !ok {
			return fmt.Errorf("sqlite: the driver has no pre-update hook")
		}
		h.RegisterPreUpdateHook(func(d sqlite.SQLitePreUpdateData) {
			if d.TableName != "deliveries" {
				return
			}
			row := make([]any, col+1)
			status := func(get func(...any) error) string {
				if get(row...) != nil {
					return ""
				}
				v, _ := row[col].(string)
				return v
			}
			switch d.Op {
			case sqlite3.SQLITE_INSERT:
				s.delta.add(status(d.New), 1)
			case sqlite3.SQLITE_DELETE:
				s.delta.add(status(d.Old), -1)
			case sqlite3.SQLITE_UPDATE:
				if o, n := status(d.Old), status(d.New); o != n {
					s.delta.add(o, -1)
					s.delta.add(n, 1)
				}
			}
		})
		return nil
	})
}

const addCounts = "UPDATE delivery_counts SET pending = pending + ?, succeeded = succeeded + ?, failed = failed + ?, canceled = canceled + ? WHERE slot = 0"
