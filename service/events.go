package service

import (
	"context"
	"slices"

	"github.com/agenthooks/agenthooks"
)

// EventView is an event with its deliveries.
type EventView struct {
	*agenthooks.Event
	Deliveries []*agenthooks.Delivery
}

// DeliveryView is a delivery with its attempts.
type DeliveryView struct {
	*agenthooks.Delivery
	Attempts []*agenthooks.Attempt
}

// ListEvents returns one page of the account's events, newest first, each
// with its deliveries.
func (s *Service) ListEvents(ctx context.Context, accountID string, f agenthooks.EventFilter, p agenthooks.Page) (*List[*EventView], error) {
	return list(ctx, s, p, func(tx agenthooks.Tx) ([]*EventView, int, error) {
		events, total, err := tx.ListEvents(accountID, f, p)
		if err != nil {
			return nil, 0, err
		}
		views, err := withDeliveries(tx, accountID, events)
		return views, total, err
	})
}

// GetEvent returns an event with its deliveries.
func (s *Service) GetEvent(ctx context.Context, accountID, id string) (*EventView, error) {
	return read(ctx, s, func(tx agenthooks.Tx) (*EventView, error) {
		e, err := tx.FindEvent(accountID, id)
		if err != nil {
			return nil, err
		}
		ds, _, err := tx.ListDeliveries(accountID, agenthooks.DeliveryFilter{EventID: id}, agenthooks.Page{Page: 1, Size: 1000})
		if err != nil {
			return nil, err
		}
		return &EventView{Event: e, Deliveries: ds}, nil
	})
}

// MaxAttemptsShown is how many of a delivery's attempts GetDelivery returns
// (the last ones; attempt_count counts all): manual retries can give one
// delivery any number of attempts, each with up to 4 KiB of response.
const MaxAttemptsShown = 100

// GetDelivery returns a delivery with its last MaxAttemptsShown attempts.
func (s *Service) GetDelivery(ctx context.Context, accountID, id string) (*DeliveryView, error) {
	return read(ctx, s, func(tx agenthooks.Tx) (*DeliveryView, error) {
		d, err := tx.FindDelivery(accountID, id)
		if err != nil {
			return nil, err
		}
		as, err := tx.ListRecentAttempts(id, MaxAttemptsShown)
		if err != nil {
			return nil, err
		}
		return &DeliveryView{Delivery: d, Attempts: as}, nil
	})
}

// ListWebhookDeliveries returns one page of a webhook's deliveries, newest first.
func (s *Service) ListWebhookDeliveries(ctx context.Context, accountID, webhookID, status string, p agenthooks.Page) (*List[*agenthooks.Delivery], error) {
	if status != "" && !agenthooks.IsDeliveryStatus(status) {
		return nil, agenthooks.Invalid("status", agenthooks.DeliveryStatusMsg, "enum")
	}
	return read(ctx, s, func(tx agenthooks.Tx) (*List[*agenthooks.Delivery], error) {
		if _, err := tx.FindWebhook(accountID, webhookID); err != nil {
			return nil, err
		}
		items, total, err := tx.ListDeliveries(accountID, agenthooks.DeliveryFilter{WebhookID: webhookID, Status: status}, p)
		if err != nil {
			return nil, err
		}
		return &List[*agenthooks.Delivery]{Items: items, Total: total, Page: p}, nil
	})
}

// RetryDelivery makes a new attempt of the delivery due now, keeping its
// history. A delivery whose webhook was deleted cannot be retried (ECONFLICT).
func (s *Service) RetryDelivery(ctx context.Context, accountID, id string) (*agenthooks.Delivery, error) {
	return write(ctx, s, func(tx agenthooks.Tx) (*agenthooks.Delivery, error) {
		d, err := tx.FindDelivery(accountID, id)
		if err != nil {
			return nil, err
		}
		if _, err := tx.FindWebhook(accountID, d.WebhookID); agenthooks.ErrorCode(err) == agenthooks.ENOTFOUND {
			return nil, agenthooks.Errorf(agenthooks.ECONFLICT, "The delivery's webhook was deleted.")
		} else if err != nil {
			return nil, err
		}
		if err := tx.RetryDelivery(accountID, id, tx.Now()); err != nil {
			return nil, err
		}
		return tx.FindDelivery(accountID, id)
	})
}

// ReplayEvent stores a new delivery of the account's event to every webhook
// it was routed to (that has a delivery of it) that still exists, is enabled
// and whose filter passes it, and returns how many it queued. The event's envelope is
// sent as stored: same id and timestamp, so receivers can deduplicate.
func (s *Service) ReplayEvent(ctx context.Context, accountID, id string) (int, error) {
	return write(ctx, s, func(tx agenthooks.Tx) (int, error) {
		e, err := tx.FindEvent(accountID, id)
		if err != nil {
			return 0, err
		}
		ds, err := tx.ListEventDeliveries(accountID, []string{id})
		if err != nil {
			return 0, err
		}
		var ids []string
		for _, d := range ds {
			if !slices.Contains(ids, d.WebhookID) {
				ids = append(ids, d.WebhookID)
			}
		}
		if len(ids) == 0 {
			return 0, nil
		}
		hooks, err := tx.FindWebhooksByID(accountID, ids)
		if err != nil {
			return 0, err
		}
		n := 0
		for _, w := range hooks {
			if !w.Enabled {
				continue
			}
			// Filters apply as the webhook's filter stands now; a replay
			// it drops is not counted again (events_filtered counts events).
			if ok, err := s.passes(tx, e, w, false); err != nil {
				return 0, err
			} else if !ok {
				continue
			}
			if err := s.createDelivery(tx, e, w); err != nil {
				return 0, err
			}
			n++
		}
		return n, nil
	})
}

// ListAccountDeliveries is ListDeliveryRows for the API's GET /delivery: a
// webhook_id or event_id in f that is not one of the account's is a 422 on
// that query parameter (CONTRACT section 3: an unknown filter value is 422,
// never ignored), checked before the list is read.
func (s *Service) ListAccountDeliveries(ctx context.Context, accountID string, f agenthooks.DeliveryFilter, p agenthooks.Page) (*List[DeliveryRow], error) {
	if err := s.checkDeliveryFilter(ctx, accountID, f); err != nil {
		return nil, err
	}
	return s.ListDeliveryRows(ctx, accountID, f, p)
}

// ErrUnknownFilter is the field of a DeliveryFilter that names no resource
// of the account.
type ErrUnknownFilter struct{ Field, Kind string }

func (e *ErrUnknownFilter) Error() string {
	return e.Field + ": not one of this account's " + e.Kind + "s"
}

func (s *Service) checkDeliveryFilter(ctx context.Context, accountID string, f agenthooks.DeliveryFilter) error {
	_, err := read(ctx, s, func(tx agenthooks.Tx) (struct{}, error) {
		if f.WebhookID != "" {
			if _, err := tx.FindWebhook(accountID, f.WebhookID); agenthooks.ErrorCode(err) == agenthooks.ENOTFOUND {
				return struct{}{}, &ErrUnknownFilter{Field: "webhook_id", Kind: "webhook"}
			} else if err != nil {
				return struct{}{}, err
			}
		}
		if f.EventID != "" {
			if _, err := tx.FindEvent(accountID, f.EventID); agenthooks.ErrorCode(err) == agenthooks.ENOTFOUND {
				return struct{}{}, &ErrUnknownFilter{Field: "event_id", Kind: "event"}
			} else if err != nil {
				return struct{}{}, err
			}
		}
		return struct{}{}, nil
	})
	return err
}
