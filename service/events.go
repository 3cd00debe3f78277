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
		views := make([]*EventView, len(events))
		byID := make(map[string]*EventView, len(events))
		ids := make([]string, len(events))
		for i, e := range events {
			views[i] = &EventView{Event: e, Deliveries: []*agenthooks.Delivery{}}
			byID[e.ID], ids[i] = views[i], e.ID
		}
		ds, err := tx.ListEventDeliveries(accountID, ids)
		if err != nil {
			return nil, 0, err
		}
		for _, d := range ds {
			if v := byID[d.EventID]; v != nil {
				v.Deliveries = append(v.Deliveries, d)
			}
		}
		return views, total, nil
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
	if status != "" && !slices.Contains(agenthooks.DeliveryStatuses, status) {
		return nil, agenthooks.Invalid("status", "Input should be 'pending', 'succeeded', 'failed' or 'canceled'", "enum")
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
