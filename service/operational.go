package service

import (
	"log/slog"
	"slices"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/payload"
)

// The operational events: webhook.disabled and delivery.failed. Each is
// raised in the transaction of the change it reports, and sent only to the
// account's enabled webhooks whose events list names it (never by
// subscribing to every event), never to the webhook it is about; none is
// raised about the delivery of an operational event. When no webhook would
// receive it, no event is stored.

// WebhookDisabled raises webhook.disabled about w, just disabled (w holds
// its new state: DisabledReason and UpdatedAt). It implements the delivery
// pool's Notifier, which calls it for a 410.
func (s *Service) WebhookDisabled(tx agenthooks.Tx, w *agenthooks.Webhook) error {
	return s.emitOperational(tx, w.AccountID, w.ID, agenthooks.EventWebhookDisabled, payload.NewWebhookDisabled(w))
}

// DeliveryFailed raises delivery.failed about d, which just ended failed by
// its last attempt. It implements the delivery pool's Notifier.
func (s *Service) DeliveryFailed(tx agenthooks.Tx, d *agenthooks.Delivery, eventType string, statusCode int, lastError string) error {
	if agenthooks.IsOperational(eventType) {
		return nil
	}
	return s.emitOperational(tx, d.AccountID, d.WebhookID, agenthooks.EventDeliveryFailed, payload.NewDeliveryFailed(d, eventType, statusCode, lastError))
}

// emitOperational stores an operational event about webhook about and
// delivers it to the account's other webhooks that name its type.
func (s *Service) emitOperational(tx agenthooks.Tx, accountID, about, eventType string, data any) error {
	hooks, err := tx.FindWebhooksNamingEvent(accountID, eventType)
	if err != nil {
		return err
	}
	hooks = slices.DeleteFunc(hooks, func(w *agenthooks.Webhook) bool { return w.ID == about })
	if len(hooks) == 0 {
		return nil
	}
	return s.emit(tx, accountID, "", eventType, data, hooks, false)
}

// logDisabled logs a webhook that was disabled, at warn.
func (s *Service) logDisabled(w *agenthooks.Webhook) {
	s.log.Warn("webhook disabled", slog.String("webhook_id", w.ID), slog.String("account_id", w.AccountID), slog.String("reason", w.DisabledReason))
}
