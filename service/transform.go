package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/transform"
)

// checkTransformation refuses code over the limit or that does not compile
// (422 on ["body", "transformation", "code"], with the line and column).
func checkTransformation(t *agenthooks.Transformation) error {
	if t == nil {
		return nil
	}
	if len(t.Code) > transform.MaxCode {
		return agenthooks.InvalidAt(fmt.Sprintf("Code should be at most %d bytes", transform.MaxCode), "too_long", "transformation", "code")
	}
	if t.Code == "" {
		if t.Enabled {
			return agenthooks.InvalidAt("Code is required when the transformation is enabled", "missing", "transformation", "code")
		}
		return nil
	}
	if _, err := transform.Compile(t.Code); err != nil {
		return agenthooks.InvalidAt(err.Error(), "value_error", "transformation", "code")
	}
	return nil
}

// TransformationTest is what POST /outbound_webhook/{id}/transformation/test
// runs: Code (nil: the webhook's own) on an event of the account (EventID),
// an envelope built from EventType and Payload, or else the latest event.
type TransformationTest struct {
	Code      *string
	EventID   string
	EventType string
	Payload   json.RawMessage // the envelope's data, or a whole envelope
}

// TestTransformation runs a transformation on an event as an attempt
// would, without sending anything. A failure of the code is a 422 on
// ["body", "code"] saying why, with the line and column.
func (s *Service) TestTransformation(ctx context.Context, accountID, webhookID string, in TransformationTest) (*transform.Output, error) {
	type found struct {
		w *agenthooks.Webhook
		e *agenthooks.Event
	}
	f, err := read(ctx, s, func(tx agenthooks.Tx) (found, error) {
		w, err := tx.FindWebhook(accountID, webhookID)
		if err != nil {
			return found{}, err
		}
		if in.EventID != "" {
			e, err := tx.FindEvent(accountID, in.EventID)
			return found{w, e}, err
		}
		if in.EventType != "" || len(in.Payload) > 0 {
			return found{w: w}, nil
		}
		es, _, err := tx.ListEvents(accountID, agenthooks.EventFilter{}, agenthooks.Page{Page: 1, Size: 1})
		if err != nil || len(es) == 0 {
			return found{w: w}, err
		}
		return found{w, es[0]}, nil
	})
	if err != nil {
		return nil, err
	}
	code := ""
	if in.Code != nil {
		code = *in.Code
	} else if f.w.Transformation != nil {
		code = f.w.Transformation.Code
	}
	if code == "" {
		return nil, agenthooks.Invalid("code", "No code given and the webhook has no transformation", "missing")
	}
	if len(code) > transform.MaxCode {
		return nil, agenthooks.Invalid("code", fmt.Sprintf("Code should be at most %d bytes", transform.MaxCode), "too_long")
	}
	var env []byte
	eventType := in.EventType
	switch {
	case f.e != nil:
		env, eventType = f.e.Payload, f.e.Type
	default:
		env, eventType = testEnvelope(eventType, in.Payload, s.now())
	}
	p, err := transform.Compile(code)
	if err != nil {
		return nil, agenthooks.Invalid("code", err.Error(), "value_error")
	}
	out, err := p.Run(transform.Input{Method: "POST", URL: f.w.Endpoint, EventType: eventType, Payload: env, Headers: f.w.Headers})
	var te *transform.Error
	if errors.As(err, &te) {
		return nil, agenthooks.Invalid("code", err.Error(), "value_error")
	}
	return out, err
}

// testEnvelope is the envelope a test runs on: payload as it is when it is
// an envelope already, else {id, object, event, created_at, data: payload}.
func testEnvelope(eventType string, payload json.RawMessage, now time.Time) ([]byte, string) {
	var probe struct {
		Object string `json:"object"`
		Event  string `json:"event"`
	}
	if json.Unmarshal(payload, &probe) == nil && probe.Object == "event" && probe.Event != "" {
		if eventType == "" {
			eventType = probe.Event
		}
		return payload, eventType
	}
	if eventType == "" {
		eventType = agenthooks.EventWebhookTest
	}
	if len(payload) == 0 {
		payload = json.RawMessage("{}")
	}
	env, _ := json.Marshal(map[string]any{"id": NewID(), "object": "event", "event": eventType,
		"created_at": now.UTC().Format("2006-01-02 15:04:05"), "data": payload})
	return env, eventType
}

func (s *Service) now() time.Time { return time.Now() }
