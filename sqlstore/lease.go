package sqlstore

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/agenthooks/agenthooks"
)

// renewChunk bounds the claims one renewal statement names (two parameters
// each, well under either engine's limit).
const renewChunk = 256

// RenewLeases moves the leases of the claims that still hold to leaseUntil:
// one statement per chunk joined to the claims' VALUES where the dialect
// says BatchByValues, else one per claim.
// A claim holds while the delivery is claimed under the same lease number:
// a claim superseded by a retry, a failure or another worker's claim after
// expiry is left alone. The batched statement passes over deliveries that
// another transaction is changing (Tx.skipLocked): those are having
// their outcome written, which ends the claim, and should that transaction
// roll back, the next renewal (a third of a lease later) takes them. It
// never waits for a completion writer: waiting for one while holding other
// claims' rows, which that writer's batch may name too, deadlocked them on
// PostgreSQL (docs/benchmarks.md, "Deadlocks between lease renewals and
// completion writers").
func (tx *Tx) RenewLeases(claims []agenthooks.Claim, leaseUntil time.Time) (int, error) {
	total := 0
	if !tx.d.BatchByValues {
		for _, c := range claims {
			res, err := tx.exec("UPDATE deliveries SET next_attempt_at = ?, updated_at = ? WHERE id = ? AND lease = ? AND claimed = 1 AND status = 'pending'",
				Micros(leaseUntil), Micros(tx.now), c.DeliveryID, c.Lease)
			if err != nil {
				return total, fmt.Errorf("renew lease: %w", err)
			}
			k, err := res.RowsAffected()
			if err != nil {
				return total, fmt.Errorf("rows affected: %w", err)
			}
			total += int(k)
		}
		return total, nil
	}
	for len(claims) > 0 {
		n := min(len(claims), renewChunk)
		args := make([]any, 0, 2+2*n)
		args = append(args, Micros(leaseUntil), Micros(tx.now))
		for _, c := range claims[:n] {
			args = append(args, c.DeliveryID, c.Lease)
		}
		res, err := tx.exec("UPDATE deliveries SET next_attempt_at = ?, updated_at = ? WHERE id IN (SELECT id FROM deliveries WHERE claimed = 1 AND status = 'pending' AND (id, lease) IN (VALUES "+
			strings.TrimSuffix(strings.Repeat("(CAST(? AS TEXT), CAST(? AS BIGINT)),", n), ",")+")"+tx.skipLocked()+")", args...)
		if err != nil {
			return total, fmt.Errorf("renew leases: %w", err)
		}
		k, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("rows affected: %w", err)
		}
		total += int(k)
		claims = claims[n:]
	}
	return total, nil
}

// FindWebhooksNamingEvent returns the account's enabled webhooks whose
// events list names eventType. Lists are stored as JSON text, so a LIKE on
// the quoted name finds the candidates and the decoded list decides.
func (tx *Tx) FindWebhooksNamingEvent(accountID, eventType string) ([]*agenthooks.Webhook, error) {
	rows, err := tx.query("SELECT "+webhookCols+" FROM webhooks WHERE account_id = ? AND enabled = 1 AND events LIKE ? ORDER BY id",
		accountID, "%\""+eventType+"\"%")
	if err != nil {
		return nil, fmt.Errorf("find webhooks naming %s: %w", eventType, err)
	}
	ws, err := collect(rows, tx.scanWebhook)
	if err != nil {
		return nil, fmt.Errorf("find webhooks naming %s: %w", eventType, err)
	}
	return slices.DeleteFunc(ws, func(w *agenthooks.Webhook) bool { return !slices.Contains(w.Events, eventType) }), nil
}
