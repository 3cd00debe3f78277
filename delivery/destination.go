package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/destination"
	"github.com/agenthooks/agenthooks/webhook/signature"
)

// Sender publishes a signed message to a broker destination and returns
// the broker's confirmation (destination.Senders).
type Sender interface {
	Send(ctx context.Context, d *agenthooks.Destination, m destination.Message) (destination.Result, error)
}

// errNoSender is a broker webhook's attempt in a pool built without Senders.
var errNoSender = errors.New("broker destinations are not configured in this process")

// deliver makes the attempt the webhook's destination calls for: an HTTP
// POST to its endpoint, or a publish to its broker. A publish has no status
// code: it returns 0 and a nil error only when the broker confirmed.
//
// The webhook's transformation runs first, on the stored event: it makes
// the request (for a broker, only its body counts: the message), or fails
// the attempt, or cancels the delivery (errCanceled).
func (p *Pool) deliver(j *agenthooks.Job, start time.Time, a *agenthooks.Attempt, span AttemptSpan) (int, time.Duration, error) {
	out, err := prepare(j)
	if err != nil {
		return 0, 0, err
	}
	a.RequestBody = sanitize(truncate(out.body, agenthooks.RequestBodyLimit))
	if !j.Webhook.Destination.Broker() {
		a.RequestMethod, a.RequestURL = out.method, out.url
		return p.post(j, &out, start, a, span)
	}
	a.RequestURL = j.Webhook.Endpoint // a publish has no method; the endpoint reads the broker's URL
	return 0, 0, p.publish(j, &out, start, a)
}

// publish signs the envelope as post does and sends it to the broker; the
// broker's answer (confirm, stream and sequence, entry id) becomes the
// attempt's response body, shown in the attempt log.
func (p *Pool) publish(j *agenthooks.Job, out *outgoing, start time.Time, a *agenthooks.Attempt) error {
	if p.o.Senders == nil {
		return errNoSender
	}
	ks, err := keys(&j.Webhook, start)
	if err != nil {
		return err
	}
	ts := start.Unix()
	m := destination.Message{
		ID: j.Delivery.EventID, Timestamp: ts, Event: eventType(j.Payload), Body: out.body,
		Signature: signature.Header(ks, j.Delivery.EventID, ts, out.body),
	}
	ctx, cancel := context.WithTimeout(p.attemptCtx, p.o.Timeout)
	defer cancel()
	res, err := p.o.Senders.Send(ctx, j.Webhook.Destination, m)
	if err != nil {
		return err
	}
	a.ResponseBody = sanitize([]byte(res.Answer))
	return nil
}

// eventType reads the envelope's event type, for {event} in routing keys
// and subjects.
func eventType(payload []byte) string {
	var e struct {
		Event string `json:"event"`
	}
	_ = json.Unmarshal(payload, &e)
	return e.Event
}
