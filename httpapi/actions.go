package httpapi

import (
	"context"
	"net/http"
	"time"
)

// testView is the answer of POST /outbound_webhook/{id}/test.
type testView struct {
	EventID    string       `json:"event_id"`
	DeliveryID string       `json:"delivery_id"`
	Status     string       `json:"status"`
	Attempt    *attemptView `json:"attempt"`
}

func (s *Server) testWebhook(w http.ResponseWriter, r *http.Request, a acct) error {
	b, err := decodeBody(r)
	if err != nil {
		return err
	}
	var eventType string
	if t := b.optStr("event_type"); t != nil {
		eventType = *t
	}
	if err := b.err(); err != nil {
		return err
	}
	d, err := s.svc.TestWebhookWith(r.Context(), a.ID, r.PathValue("id"), eventType)
	if err != nil {
		return err
	}
	// Wait for the workers' first attempt (in this or another process), up to
	// a little more than one attempt's timeout.
	ctx, cancel := context.WithTimeout(r.Context(), s.TestWait)
	defer cancel()
	dv, err := s.svc.WaitForAttempt(ctx, a.ID, d.ID, 0)
	if err != nil {
		return err
	}
	v := testView{EventID: d.EventID, DeliveryID: d.ID, Status: dv.Status}
	message := "Test event sent"
	if len(dv.Attempts) > 0 {
		av := newDeliveryDetail(dv.Delivery, dv.Attempts).Attempts[0]
		v.Attempt = &av
	} else {
		message = "Test event queued; no attempt was made yet"
	}
	ok(w, http.StatusOK, message, v)
	return nil
}

func (s *Server) recoverWebhook(w http.ResponseWriter, r *http.Request, a acct) error {
	b, err := decodeBody(r)
	if err != nil {
		return err
	}
	raw, _ := b.str("since", true)
	var since time.Time
	if raw != "" {
		if since, err = time.Parse(time.RFC3339Nano, raw); err != nil {
			b.fail("since", "Input should be a valid datetime (RFC 3339)", "datetime_parsing")
		}
	}
	if err := b.err(); err != nil {
		return err
	}
	n, err := s.svc.RecoverWebhook(r.Context(), a.ID, r.PathValue("id"), since)
	if err != nil {
		return err
	}
	ok(w, http.StatusAccepted, "Failed deliveries queued", map[string]int{"queued": n})
	return nil
}
