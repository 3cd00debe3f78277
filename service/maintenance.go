package service

import (
	"context"
	"log/slog"
	"time"

	"github.com/agenthooks/agenthooks"
)

// TestWebhook stores a webhook.test event with one delivery to the webhook,
// whatever its subscription says, and returns the delivery. A disabled
// webhook is ECONFLICT.
func (s *Service) TestWebhook(ctx context.Context, accountID, id string) (*agenthooks.Delivery, error) {
	return s.TestWebhookWith(ctx, accountID, id, "")
}

// TestWebhookWith is TestWebhook sending an example of eventType instead
// ("" for webhook.test): a built-in type's example (payload.Example), or
// for one of the account's own the first of its schema's examples, else
// {} (service/eventtype.go). An unknown type is 422 on event_type.
func (s *Service) TestWebhookWith(ctx context.Context, accountID, id, eventType string) (*agenthooks.Delivery, error) {
	return write(ctx, s, func(tx agenthooks.Tx) (*agenthooks.Delivery, error) {
		w, err := tx.FindWebhook(accountID, id)
		if err != nil {
			return nil, err
		}
		typ, data, err := testExample(tx, w, eventType)
		if err != nil {
			return nil, err
		}
		if !w.Enabled {
			return nil, agenthooks.Errorf(agenthooks.ECONFLICT, "The webhook is disabled; enable it to send a test event.")
		}
		if err := s.emit(tx, accountID, "", typ, data, []*agenthooks.Webhook{w}, true); err != nil {
			return nil, err
		}
		ds, _, err := tx.ListDeliveries(accountID, agenthooks.DeliveryFilter{WebhookID: w.ID}, agenthooks.Page{Page: 1, Size: 1})
		if err != nil {
			return nil, err
		}
		if len(ds) == 0 {
			return nil, agenthooks.Errorf(agenthooks.EINTERNAL, "test delivery not stored")
		}
		return ds[0], nil
	})
}

// WaitForAttempt polls a delivery until it has more than after attempts or
// ctx ends, and returns it with its attempts.
func (s *Service) WaitForAttempt(ctx context.Context, accountID, deliveryID string, after int) (*DeliveryView, error) {
	t := time.NewTicker(25 * time.Millisecond)
	defer t.Stop()
	// Reads run without ctx's deadline: when the wait is over the caller
	// still gets the delivery as it stands, not an error.
	rctx := context.WithoutCancel(ctx)
	for {
		d, err := s.GetDelivery(rctx, accountID, deliveryID)
		if err != nil || d.AttemptCount > after {
			return d, err
		}
		select {
		case <-ctx.Done():
			return d, nil
		case <-t.C:
		}
	}
}

// RecoverWebhook re-queues the webhook's failed deliveries of events created
// since then, with a fresh schedule; it returns how many.
func (s *Service) RecoverWebhook(ctx context.Context, accountID, id string, since time.Time) (int, error) {
	return write(ctx, s, func(tx agenthooks.Tx) (int, error) {
		if _, err := tx.FindWebhook(accountID, id); err != nil {
			return 0, err
		}
		return tx.RequeueFailedDeliveries(accountID, id, since)
	})
}

// DisableFailing disables the webhooks whose deliveries have all failed since
// before, with reason "failing". Enabling one again (PATCH enabled: true)
// clears the streak and resumes delivery.
func (s *Service) DisableFailing(ctx context.Context, before time.Time) (int, error) {
	ws, err := write(ctx, s, func(tx agenthooks.Tx) ([]*agenthooks.Webhook, error) {
		ws, err := tx.DisableFailingWebhooks(before)
		if err != nil {
			return nil, err
		}
		for _, w := range ws {
			if err := s.WebhookDisabled(tx, w); err != nil {
				return nil, err
			}
		}
		return ws, nil
	})
	for _, w := range ws {
		s.log.Warn("disabled a webhook whose deliveries all failed", slog.String("webhook_id", w.ID), slog.String("account_id", w.AccountID),
			slog.String("reason", w.DisabledReason), slog.Time("failing_since", w.FailingSince))
	}
	return len(ws), err
}

// retentionBatch is how many events one retention transaction deletes: small,
// so that it never holds the writer long enough to stall delivery.
const retentionBatch = 200

// DeleteExpired deletes events (and their deliveries and attempts) created
// before before, except those with a pending delivery, in small batches.
func (s *Service) DeleteExpired(ctx context.Context, before time.Time) (int, error) {
	total := 0
	for {
		n, err := write(ctx, s, func(tx agenthooks.Tx) (int, error) { return tx.DeleteExpired(before, retentionBatch) })
		total += n
		if err != nil || n < retentionBatch {
			if total > 0 {
				s.log.Info("deleted expired events", slog.Int("count", total))
			}
			return total, err
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(10 * time.Millisecond): // let other writes in between batches
		}
	}
}
