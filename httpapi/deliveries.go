package httpapi

import (
	"errors"
	"net/http"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/service"
	"github.com/google/uuid"
)

// deliveryRowView is one item of GET /delivery: a delivery with the status
// code and error of its latest attempt (null before the first, and each
// null when the attempt had none).
type deliveryRowView struct {
	deliveryView
	LastStatusCode *int    `json:"last_status_code" doc:"The status code of the latest attempt; null before the first attempt or when no response came back."`
	LastAttemptAt  *string `json:"last_attempt_at" oapi:"date-time" doc:"When the latest attempt was made; null before the first."`
}

func newDeliveryRowView(d service.DeliveryRow) deliveryRowView {
	v := deliveryRowView{deliveryView: newDeliveryView(d.Delivery)}
	v.LastError = nil
	if a := d.Last; a != nil {
		if a.StatusCode != 0 {
			code := a.StatusCode
			v.LastStatusCode = &code
		}
		v.LastError = nullable(a.Error)
		v.LastAttemptAt = rfc3339(a.CreatedAt)
	}
	return v
}

// listDeliveries answers GET /delivery?webhook_id=&status=&event_id=: the
// account's deliveries, newest first. Decision on the query ids: a malformed
// one, or one that is not the account's, is a 422 on that parameter (an
// unknown filter value is never ignored, CONTRACT section 3), rather than an
// empty list that would read as "no deliveries".
func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request, a acct) error {
	q := r.URL.Query()
	f := agenthooks.DeliveryFilter{WebhookID: q.Get("webhook_id"), EventID: q.Get("event_id"), Status: q.Get("status")}
	if f.Status != "" && !agenthooks.IsDeliveryStatus(f.Status) {
		return queryError("status", agenthooks.DeliveryStatusMsg, "enum")
	}
	for _, name := range []string{"webhook_id", "event_id"} {
		if q.Has(name) && uuid.Validate(q.Get(name)) != nil {
			return queryError(name, "Input should be a valid UUID", "uuid_parsing")
		}
	}
	return listOf(w, r, func(p agenthooks.Page) (*service.List[service.DeliveryRow], error) {
		l, err := s.svc.ListAccountDeliveries(r.Context(), a.ID, f, p)
		var unknown *service.ErrUnknownFilter
		if errors.As(err, &unknown) {
			return nil, queryError(unknown.Field, "Not one of this account's "+unknown.Kind+"s", "value_error")
		}
		return l, err
	}, newDeliveryRowView)
}

// replayEvent answers POST /event/{id}/replay: 202 {queued: n}.
func (s *Server) replayEvent(w http.ResponseWriter, r *http.Request, a acct) error {
	if _, err := readBody(r); err != nil {
		return err
	}
	n, err := s.svc.ReplayEvent(r.Context(), a.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	ok(w, http.StatusAccepted, "Event replayed", map[string]int{"queued": n})
	return nil
}
