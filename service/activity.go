package service

import (
	"context"
	"time"

	"github.com/agenthooks/agenthooks"
)

// QueryEvents returns one page of the account's events, newest first, each
// with its deliveries.
func (s *Service) QueryEvents(ctx context.Context, accountID string, q agenthooks.EventQuery, p agenthooks.Page) (*List[*EventView], error) {
	return list(ctx, s, p, func(tx agenthooks.Tx) ([]*EventView, int, error) {
		events, total, err := tx.QueryEvents(accountID, q, p)
		if err != nil {
			return nil, 0, err
		}
		views, err := withDeliveries(tx, accountID, events)
		return views, total, err
	})
}

func withDeliveries(tx agenthooks.Tx, accountID string, events []*agenthooks.Event) ([]*EventView, error) {
	views := make([]*EventView, len(events))
	byID := make(map[string]*EventView, len(events))
	ids := make([]string, len(events))
	for i, e := range events {
		views[i] = &EventView{Event: e, Deliveries: []*agenthooks.Delivery{}}
		byID[e.ID], ids[i] = views[i], e.ID
	}
	if len(ids) == 0 {
		return views, nil
	}
	ds, err := tx.ListEventDeliveries(accountID, ids)
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		if v := byID[d.EventID]; v != nil {
			v.Deliveries = append(v.Deliveries, d)
		}
	}
	return views, nil
}

// QueryConversations returns one page of the account's conversations, newest first.
func (s *Service) QueryConversations(ctx context.Context, accountID string, q agenthooks.ConversationQuery, p agenthooks.Page) (*List[*agenthooks.Conversation], error) {
	return list(ctx, s, p, func(tx agenthooks.Tx) ([]*agenthooks.Conversation, int, error) {
		return tx.QueryConversations(accountID, q, p)
	})
}

// ListAssistantWidgets returns one page of the assistant's widgets
// (ENOTFOUND when the account has no such assistant).
func (s *Service) ListAssistantWidgets(ctx context.Context, accountID, assistantID string, p agenthooks.Page) (*List[*agenthooks.Widget], error) {
	return read(ctx, s, func(tx agenthooks.Tx) (*List[*agenthooks.Widget], error) {
		if _, err := tx.FindAssistant(accountID, assistantID); err != nil {
			return nil, err
		}
		items, total, err := tx.ListAssistantWidgets(accountID, assistantID, p)
		if err != nil {
			return nil, err
		}
		return &List[*agenthooks.Widget]{Items: items, Total: total, Page: p}, nil
	})
}

// ConversationDetail is a conversation with one page of its transcript,
// what it captured and the first events it fired (oldest first).
type ConversationDetail struct {
	*agenthooks.Conversation
	// Transcript is one page of the messages, oldest first: the dashboard
	// pages it, so that a conversation of 100 messages of 32 KiB is not
	// one page of several megabytes.
	Transcript   []*agenthooks.Message
	MessagePage  agenthooks.Page // the page of Transcript
	MessageTotal int
	Forms        []*agenthooks.CapturedForm
	Intents      []*agenthooks.CapturedIntent
	Events       []*EventView
	EventTotal   int
}

// conversationEvents is how many of a conversation's events its page shows.
const conversationEvents = 100

// GetConversationDetail returns a conversation with everything its
// dashboard page shows, and page msgs of its transcript (Page 0: the last
// page, the latest messages).
func (s *Service) GetConversationDetail(ctx context.Context, accountID, id string, msgs agenthooks.Page) (*ConversationDetail, error) {
	if msgs.Size <= 0 {
		msgs.Size = 20
	}
	return read(ctx, s, func(tx agenthooks.Tx) (*ConversationDetail, error) {
		c, err := tx.FindConversation(accountID, id)
		if err != nil {
			return nil, err
		}
		d := &ConversationDetail{Conversation: c}
		if msgs.Page <= 0 {
			msgs.Page = max(1, (c.ChatCount+msgs.Size-1)/msgs.Size)
		}
		if d.Transcript, d.MessageTotal, err = tx.ListTranscript(accountID, id, msgs); err != nil {
			return nil, err
		}
		d.MessagePage = msgs
		if d.Forms, err = tx.ListConversationForms(accountID, id); err != nil {
			return nil, err
		}
		if d.Intents, err = tx.ListConversationIntents(accountID, id); err != nil {
			return nil, err
		}
		events, total, err := tx.QueryEvents(accountID, agenthooks.EventQuery{ConversationID: id, Summary: true}, agenthooks.Page{Page: 1, Size: conversationEvents})
		if err != nil {
			return nil, err
		}
		if d.Events, err = withDeliveries(tx, accountID, events); err != nil {
			return nil, err
		}
		d.EventTotal = total
		return d, nil
	})
}

// ListDeliveries returns one page of the account's deliveries, newest first
// (filtered by webhook, event and status).
func (s *Service) ListDeliveries(ctx context.Context, accountID string, f agenthooks.DeliveryFilter, p agenthooks.Page) (*List[*agenthooks.Delivery], error) {
	return list(ctx, s, p, func(tx agenthooks.Tx) ([]*agenthooks.Delivery, int, error) { return tx.ListDeliveries(accountID, f, p) })
}

// DeliveryRow is a delivery with its event's type, as lists show it.
type DeliveryRow struct {
	*agenthooks.Delivery
	EventType string // "" when the event was deleted (retention)
	// Last is the delivery's latest attempt, nil before the first.
	Last *agenthooks.Attempt
}

// ListDeliveryRows is ListDeliveries with each delivery's event type.
func (s *Service) ListDeliveryRows(ctx context.Context, accountID string, f agenthooks.DeliveryFilter, p agenthooks.Page) (*List[DeliveryRow], error) {
	return list(ctx, s, p, func(tx agenthooks.Tx) ([]DeliveryRow, int, error) {
		ds, total, err := tx.ListDeliveries(accountID, f, p)
		if err != nil {
			return nil, 0, err
		}
		ids := make([]string, len(ds))
		for i, d := range ds {
			ids[i] = d.EventID
		}
		types, err := tx.EventTypesByID(accountID, ids)
		if err != nil {
			return nil, 0, err
		}
		dids := make([]string, len(ds))
		for i, d := range ds {
			dids[i] = d.ID
		}
		last, err := tx.LatestAttempts(accountID, dids)
		if err != nil {
			return nil, 0, err
		}
		rows := make([]DeliveryRow, len(ds))
		for i, d := range ds {
			rows[i] = DeliveryRow{Delivery: d, EventType: types[d.EventID], Last: last[d.ID]}
		}
		return rows, total, nil
	})
}

// Overview is the dashboard's first page: attempts over the last Window in
// buckets of Step, the backlog, and the webhooks with their recent stats.
type Overview struct {
	Now      time.Time
	Window   time.Duration
	Step     time.Duration
	Series   []agenthooks.AttemptBucket // every bucket of the window, oldest first, empty ones included
	Attempts int
	Failed   int
	// Deliveries counts the deliveries made in the window by status (an
	// event sent to two webhooks is two deliveries, however many attempts).
	Deliveries map[string]int
	Backlog    agenthooks.Backlog
	Webhooks   []*agenthooks.Webhook // the first 100 of the account's
	Stats      map[string]agenthooks.WebhookStats
}

// GetOverview returns the account's overview over the last window, counted
// in buckets of step.
func (s *Service) GetOverview(ctx context.Context, accountID string, window, step time.Duration) (*Overview, error) {
	return read(ctx, s, func(tx agenthooks.Tx) (*Overview, error) {
		now := tx.Now()
		end := now.Truncate(step).Add(step)
		start := end.Add(-window)
		o := &Overview{Now: now, Window: window, Step: step, Stats: map[string]agenthooks.WebhookStats{}}
		bs, err := tx.AttemptSeries(accountID, start, end, step)
		if err != nil {
			return nil, err
		}
		byStart := make(map[int64]agenthooks.AttemptBucket, len(bs))
		for _, b := range bs {
			byStart[b.Start.UnixMicro()] = b
			o.Attempts += b.Attempts
			o.Failed += b.Failed
		}
		for t := start; t.Before(end); t = t.Add(step) {
			b, ok := byStart[t.UnixMicro()]
			if !ok {
				b = agenthooks.AttemptBucket{Start: t}
			}
			o.Series = append(o.Series, b)
		}
		if o.Deliveries, err = tx.CountDeliveriesByStatus(accountID, start, end); err != nil {
			return nil, err
		}
		if o.Backlog, err = tx.DeliveryBacklog(accountID, now); err != nil {
			return nil, err
		}
		if o.Webhooks, _, err = tx.ListWebhooks(accountID, agenthooks.Page{Page: 1, Size: 100}); err != nil {
			return nil, err
		}
		stats, err := tx.WebhookAttemptStats(accountID, now.Add(-window))
		if err != nil {
			return nil, err
		}
		for _, st := range stats {
			o.Stats[st.WebhookID] = st
		}
		return o, nil
	})
}

// WebhookStats returns the attempt stats of the account's webhooks since since.
func (s *Service) WebhookStats(ctx context.Context, accountID string, since time.Time) (map[string]agenthooks.WebhookStats, error) {
	return read(ctx, s, func(tx agenthooks.Tx) (map[string]agenthooks.WebhookStats, error) {
		stats, err := tx.WebhookAttemptStats(accountID, since)
		if err != nil {
			return nil, err
		}
		m := make(map[string]agenthooks.WebhookStats, len(stats))
		for _, st := range stats {
			m[st.WebhookID] = st
		}
		return m, nil
	})
}
