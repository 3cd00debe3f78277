package service

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/filter"
)

// filters holds the webhooks' filters compiled, once per version (its
// JSON), for every event of every webhook of the process.
var filters = filter.NewCache(0)

// checkFilter validates a webhook's filter (422 on ["body", "filter"] with
// the parser's words, which name the path at fault) and returns it compact,
// as stored; JSON null or nothing is no filter (nil).
func checkFilter(raw json.RawMessage) ([]byte, error) {
	f, err := filter.Parse(raw)
	if err != nil {
		return nil, agenthooks.Invalid("filter", err.Error(), "value_error")
	}
	if f == nil {
		return nil, nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return nil, agenthooks.Invalid("filter", err.Error(), "value_error")
	}
	return b.Bytes(), nil
}

// passes is the one check of a webhook's filter where deliveries are
// created: events of the agent runtime, published and operational events
// (emit) and replays (ReplayEvent). It reports whether e goes to w; with
// count, a drop is counted on w (events_filtered) in tx, so that the count
// commits with the event or not at all. Without a filter it costs a length
// test. A stored filter that no longer compiles (it was checked when saved)
// lets the event through: a delivery too many rather than one lost.
func (s *Service) passes(tx agenthooks.Tx, e *agenthooks.Event, w *agenthooks.Webhook, count bool) (bool, error) {
	if len(w.Filter) == 0 {
		return true, nil
	}
	f, err := filters.Filter(w.Filter)
	if err != nil {
		s.log.Warn("webhook filter does not compile; delivering unfiltered", slog.String("webhook_id", w.ID), slog.Any("error", err))
		return true, nil
	}
	if f.Match(e.Payload) {
		return true, nil
	}
	if count {
		return false, tx.AddEventsFiltered(w.ID, 1)
	}
	return false, nil
}

// withFilteredCounts fills in EventsFiltered of webhooks read in tx.
func withFilteredCounts(tx agenthooks.Tx, accountID string, hooks ...*agenthooks.Webhook) error {
	ids := make([]string, len(hooks))
	for i, w := range hooks {
		ids[i] = w.ID
	}
	counts, err := tx.EventsFiltered(accountID, ids)
	if err != nil {
		return err
	}
	for _, w := range hooks {
		w.EventsFiltered = counts[w.ID]
	}
	return nil
}

// FilterTest is what POST /outbound_webhook/{id}/filter/test matches:
// Filter (nil: the webhook's own) against an event of the account
// (EventID), an envelope given (Payload), or else the account's latest event.
type FilterTest struct {
	Filter  json.RawMessage
	EventID string
	Payload json.RawMessage
}

// FilterTestResult is a filter test's answer: whether the envelope matches,
// and which event it was (empty for a payload given).
type FilterTestResult struct {
	Matches bool
	EventID string
}

// TestFilter matches a filter against an envelope without storing or
// counting anything. A bad filter is 422 on filter; an event that is not
// the account's, 422 on event_id; no filter given and none on the webhook
// matches everything, as at delivery.
func (s *Service) TestFilter(ctx context.Context, accountID, webhookID string, in FilterTest) (*FilterTestResult, error) {
	var f *filter.Filter
	if in.Filter != nil {
		var err error
		if f, err = filter.Parse(in.Filter); err != nil {
			return nil, agenthooks.Invalid("filter", err.Error(), "value_error")
		}
	}
	if len(in.Payload) > 0 && !json.Valid(in.Payload) {
		return nil, agenthooks.Invalid("payload", "Payload is not valid JSON", "json_invalid")
	}
	type found struct {
		w *agenthooks.Webhook
		e *agenthooks.Event
	}
	got, err := read(ctx, s, func(tx agenthooks.Tx) (found, error) {
		w, err := tx.FindWebhook(accountID, webhookID)
		if err != nil {
			return found{}, err
		}
		switch {
		case in.EventID != "":
			e, err := tx.FindEvent(accountID, in.EventID)
			if agenthooks.ErrorCode(err) == agenthooks.ENOTFOUND {
				return found{}, agenthooks.Invalid("event_id", "Event not found", "value_error")
			}
			return found{w, e}, err
		case len(in.Payload) > 0:
			return found{w: w}, nil
		}
		es, _, err := tx.ListEvents(accountID, agenthooks.EventFilter{}, agenthooks.Page{Page: 1, Size: 1})
		if err != nil {
			return found{}, err
		}
		if len(es) == 0 {
			return found{}, agenthooks.Invalid("event_id", "The account has no event yet: give an event_id or a payload", "missing")
		}
		return found{w, es[0]}, nil
	})
	if err != nil {
		return nil, err
	}
	if in.Filter == nil {
		if f, err = filter.Parse(got.w.Filter); err != nil {
			return nil, agenthooks.Invalid("filter", err.Error(), "value_error")
		}
	}
	if got.e == nil {
		return &FilterTestResult{Matches: f.Match(in.Payload)}, nil
	}
	return &FilterTestResult{Matches: f.Match(got.e.Payload), EventID: got.e.ID}, nil
}
