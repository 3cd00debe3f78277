package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/textproto"
	"slices"
	"strings"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/webhook/signature"
)

// Nullable is a PATCH field that may be absent, null or a value.
type Nullable[T any] struct {
	Set   bool // the field was in the request
	Value *T   // nil when the request said null
}

// WebhookInput creates a webhook. Nil Events means every event type.
type WebhookInput struct {
	Name      string
	Endpoint  string
	Enabled   *bool
	Events    []string
	Ordering  string
	Headers   map[string]string
	RateLimit *float64

	// Destination is a broker to deliver to instead of Endpoint; nil or
	// type http for HTTP (destination.go).
	Destination *agenthooks.Destination
	TLS         *agenthooks.WebhookTLS // nil: none (service/webhooktls.go)

	Transformation *agenthooks.Transformation // nil: none (service/transform.go)

	Filter json.RawMessage // nil or null: none (service/filter.go)
}

// WebhookPatch updates a webhook; nil fields are left as they are.
type WebhookPatch struct {
	Name      *string
	Endpoint  *string
	Enabled   *bool
	Events    *[]string
	Ordering  *string
	Headers   *map[string]string
	RateLimit Nullable[float64]

	// Destination replaces the webhook's destination when set (null or
	// type http: HTTP to the endpoint).
	Destination Nullable[agenthooks.Destination]
	TLS         Nullable[agenthooks.WebhookTLS] // null removes; an empty client_key keeps the stored one (service/webhooktls.go)

	Transformation Nullable[agenthooks.Transformation] // null removes (service/transform.go)

	Filter *json.RawMessage // JSON null removes (service/filter.go)
}

// reservedHeaders cannot be set per webhook: the signature headers, the body's
// framing and type, and hop-by-hop headers.
var reservedHeaders = []string{
	"Webhook-Id", "Webhook-Timestamp", "Webhook-Signature", "Content-Type", "Content-Length",
	"Content-Encoding", "Transfer-Encoding", "Host", "Connection", "Keep-Alive", "Te", "Trailer", "Upgrade",
	"Proxy-Authorization", "Proxy-Connection",
}

const maxNameLen = 255

func checkName(field, name string) error { return CheckName(field)(name) }

func (s *Service) checkEndpoint(ctx context.Context, endpoint string) error {
	if s.validate == nil {
		return nil
	}
	if err := s.validate.ValidateEndpoint(ctx, endpoint); err != nil {
		var ae *agenthooks.Error
		if errors.As(err, &ae) {
			return ae
		}
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return agenthooks.Invalid("endpoint", err.Error(), "value_error")
	}
	return nil
}

func checkEvents(events []string) error {
	if len(events) == 0 {
		return agenthooks.Invalid("events", "List should have at least 1 item", "too_short")
	}
	for i, e := range events {
		if !agenthooks.IsEventType(e) && !ownEventTypeName(e) { // own types: checkOwnEvents, in the write
			return agenthooks.InvalidAt(fmt.Sprintf("Input should be one of: %s", strings.Join(agenthooks.EventTypes, ", ")), "enum", "events", i)
		}
	}
	return nil
}

func checkOrdering(o string) error {
	if o != agenthooks.OrderingNone && o != agenthooks.OrderingConversation {
		return agenthooks.Invalid("ordering", "Input should be 'none' or 'conversation'", "enum")
	}
	return nil
}

func checkHeaders(h map[string]string) error {
	if len(h) > MaxHeaders {
		return agenthooks.Invalid("headers", fmt.Sprintf("At most %d headers", MaxHeaders), "too_long")
	}
	total := 0
	for name, value := range h {
		if name == "" || !validToken(name) {
			return agenthooks.InvalidAt("Header name must be an HTTP token", "value_error", "headers", name)
		}
		if slices.Contains(reservedHeaders, textproto.CanonicalMIMEHeaderKey(name)) {
			return agenthooks.InvalidAt(fmt.Sprintf("Header %s is set by agenthooks and cannot be overridden", name), "value_error", "headers", name)
		}
		if strings.ContainsAny(value, "\r\n\x00") {
			return agenthooks.InvalidAt("Header value must be one line", "value_error", "headers", name)
		}
		total += len(name) + len(value)
	}
	if total > MaxHeaderBytes {
		return agenthooks.Invalid("headers", fmt.Sprintf("Headers should be at most %d bytes in all (names and values)", MaxHeaderBytes), "too_long")
	}
	return nil
}

func validToken(s string) bool {
	for _, c := range []byte(s) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return true
}

func checkRateLimit(r *float64) error {
	if r != nil && (*r <= 0 || math.IsInf(*r, 0) || math.IsNaN(*r) || *r > 100000) {
		return agenthooks.Invalid("rate_limit", "Input should be greater than 0 and at most 100000", "greater_than")
	}
	return nil
}

// normaliseEvents drops duplicates; nil means every event type.
func normaliseEvents(events []string) []string {
	if len(events) == 0 {
		return nil
	}
	out := make([]string, 0, len(events))
	for _, e := range events {
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

// CreateWebhook creates a webhook with a new secret.
func (s *Service) CreateWebhook(ctx context.Context, accountID string, in WebhookInput) (*agenthooks.Webhook, error) {
	if err := checkName("name", in.Name); err != nil {
		return nil, err
	}
	dest, err := s.checkDestination(ctx, in.Destination)
	if err != nil {
		return nil, err
	}
	if dest.Broker() {
		in.Endpoint = dest.RedactedURL() // what the webhook's endpoint reads (docs/destinations.md)
	} else if err := s.checkEndpoint(ctx, in.Endpoint); err != nil {
		return nil, err
	}
	if in.Events != nil {
		if err := checkEvents(in.Events); err != nil {
			return nil, err
		}
	}
	if in.Ordering == "" {
		in.Ordering = agenthooks.OrderingNone
	}
	if err := checkOrdering(in.Ordering); err != nil {
		return nil, err
	}
	if err := checkHeaders(in.Headers); err != nil {
		return nil, err
	}
	if err := checkRateLimit(in.RateLimit); err != nil {
		return nil, err
	}
	if err := checkTLS(in.TLS); err != nil {
		return nil, err
	}
	if in.TLS.IsZero() {
		in.TLS = nil
	}
	if err := checkTransformation(in.Transformation); err != nil {
		return nil, err
	}
	flt, err := checkFilter(in.Filter)
	if err != nil {
		return nil, err
	}
	secret, err := signature.NewSecret()
	if err != nil {
		return nil, fmt.Errorf("new secret: %w", err)
	}
	enabled := in.Enabled == nil || *in.Enabled
	return write(ctx, s, func(tx agenthooks.Tx) (*agenthooks.Webhook, error) {
		if s.MaxWebhooks > 0 {
			n, err := tx.CountWebhooksForCreate(accountID)
			if err != nil {
				return nil, err
			}
			if n >= s.MaxWebhooks {
				msg := fmt.Sprintf("This account has %d webhooks, the most allowed (AGENTHOOKS_MAX_WEBHOOKS); delete one first", n)
				return nil, &agenthooks.Error{Code: agenthooks.EINVALID, Message: msg,
					Fields: []agenthooks.FieldError{{Loc: []any{}, Msg: msg, Type: "too_many"}}}
			}
		}
		if err := checkOwnEvents(tx, accountID, in.Events, nil); err != nil {
			return nil, err
		}
		w := &agenthooks.Webhook{
			ID: NewID(), AccountID: accountID, Name: strings.TrimSpace(in.Name), Endpoint: in.Endpoint, Enabled: enabled,
			Events: normaliseEvents(in.Events), Ordering: in.Ordering, Headers: in.Headers, RateLimit: in.RateLimit,
			Secret: secret, CreatedAt: tx.Now(), UpdatedAt: tx.Now(), Destination: dest,
		}
		w.TLS = in.TLS
		w.Transformation = in.Transformation
		w.Filter = flt
		if !enabled {
			w.DisabledReason = agenthooks.DisabledManual
		}
		return w, tx.CreateWebhook(w)
	})
}

// GetWebhook returns the account's webhook.
func (s *Service) GetWebhook(ctx context.Context, accountID, id string) (*agenthooks.Webhook, error) {
	return read(ctx, s, func(tx agenthooks.Tx) (*agenthooks.Webhook, error) {
		w, err := tx.FindWebhook(accountID, id)
		if err != nil {
			return nil, err
		}
		return w, withFilteredCounts(tx, accountID, w)
	})
}

// ListWebhooks returns one page of the account's webhooks.
func (s *Service) ListWebhooks(ctx context.Context, accountID string, p agenthooks.Page) (*List[*agenthooks.Webhook], error) {
	return list(ctx, s, p, func(tx agenthooks.Tx) ([]*agenthooks.Webhook, int, error) {
		hooks, total, err := tx.ListWebhooks(accountID, p)
		if err != nil {
			return nil, 0, err
		}
		return hooks, total, withFilteredCounts(tx, accountID, hooks...)
	})
}

// UpdateWebhook applies a patch. Enabling clears the disabled reason and the
// failure streak; disabling by hand records "manual".
func (s *Service) UpdateWebhook(ctx context.Context, accountID, id string, p WebhookPatch) (*agenthooks.Webhook, error) {
	if p.Name != nil {
		if err := checkName("name", *p.Name); err != nil {
			return nil, err
		}
	}
	if p.Endpoint != nil {
		if err := s.checkEndpoint(ctx, *p.Endpoint); err != nil {
			return nil, err
		}
	}
	if p.Events != nil {
		if err := checkEvents(*p.Events); err != nil {
			return nil, err
		}
	}
	if p.Ordering != nil {
		if err := checkOrdering(*p.Ordering); err != nil {
			return nil, err
		}
	}
	if p.Headers != nil {
		if err := checkHeaders(*p.Headers); err != nil {
			return nil, err
		}
	}
	if p.RateLimit.Set {
		if err := checkRateLimit(p.RateLimit.Value); err != nil {
			return nil, err
		}
	}
	if p.Transformation.Set {
		if err := checkTransformation(p.Transformation.Value); err != nil {
			return nil, err
		}
	}
	var flt []byte
	if p.Filter != nil {
		var err error
		if flt, err = checkFilter(*p.Filter); err != nil {
			return nil, err
		}
	}
	if p.Destination.Set {
		d, err := s.checkDestination(ctx, p.Destination.Value)
		if err != nil {
			return nil, err
		}
		p.Destination.Value = d
	}
	disabled := false
	w, err := write(ctx, s, func(tx agenthooks.Tx) (*agenthooks.Webhook, error) {
		disabled = false
		w, err := tx.FindWebhook(accountID, id)
		if err != nil {
			return nil, err
		}
		if p.Name != nil {
			w.Name = strings.TrimSpace(*p.Name)
		}
		if p.Endpoint != nil {
			w.Endpoint = *p.Endpoint
		}
		if err := applyDestination(w, &p); err != nil {
			return nil, err
		}
		if p.Events != nil {
			if err := checkOwnEvents(tx, accountID, *p.Events, w.Events); err != nil {
				return nil, err
			}
			w.Events = normaliseEvents(*p.Events)
		}
		if p.Ordering != nil {
			w.Ordering = *p.Ordering
		}
		if p.Headers != nil {
			w.Headers = *p.Headers
		}
		if p.RateLimit.Set {
			w.RateLimit = p.RateLimit.Value
		}
		if p.TLS.Set {
			if w.TLS, err = patchTLS(w.TLS, p.TLS); err != nil {
				return nil, err
			}
		}
		if p.Transformation.Set {
			w.Transformation = p.Transformation.Value
		}
		if p.Filter != nil {
			w.Filter = flt
		}
		if p.Enabled != nil && *p.Enabled != w.Enabled {
			w.Enabled = *p.Enabled
			if w.Enabled {
				w.DisabledReason = ""
				w.FailingSince = time.Time{}
			} else {
				w.DisabledReason = agenthooks.DisabledManual
				disabled = true
			}
		}
		w.UpdatedAt = tx.Now()
		if err := tx.UpdateWebhook(w); err != nil {
			return nil, err
		}
		if disabled {
			if err := s.WebhookDisabled(tx, w); err != nil {
				return nil, err
			}
		}
		return w, withFilteredCounts(tx, accountID, w)
	})
	if err == nil && disabled {
		s.logDisabled(w)
	}
	return w, err
}

// DeleteWebhook deletes a webhook, unassigns it from assistants and forms and
// ends its pending deliveries as failed.
func (s *Service) DeleteWebhook(ctx context.Context, accountID, id string) error {
	return s.store.Write(ctx, func(tx agenthooks.Tx) error {
		if _, err := tx.FindWebhook(accountID, id); err != nil {
			return err
		}
		if err := tx.UnassignWebhook(accountID, id); err != nil {
			return err
		}
		if _, err := tx.FailPendingDeliveries(id, "webhook deleted"); err != nil {
			return err
		}
		return tx.DeleteWebhook(accountID, id)
	})
}

// RotateSecret gives the webhook a new secret; the old one keeps signing
// alongside for RotationOverlap.
func (s *Service) RotateSecret(ctx context.Context, accountID, id string) (*agenthooks.Webhook, error) {
	secret, err := signature.NewSecret()
	if err != nil {
		return nil, fmt.Errorf("new secret: %w", err)
	}
	return write(ctx, s, func(tx agenthooks.Tx) (*agenthooks.Webhook, error) {
		w, err := tx.FindWebhook(accountID, id)
		if err != nil {
			return nil, err
		}
		w.PreviousSecret, w.PreviousSecretUntil = w.Secret, tx.Now().Add(s.RotationOverlap)
		w.Secret = secret
		w.UpdatedAt = tx.Now()
		return w, tx.UpdateWebhook(w)
	})
}

// checkOptionalName checks a name Insighto makes optional (assistants,
// widgets, intents): empty is fine, but not longer than a name may be.
func checkOptionalName(field, name string) error {
	if name == "" {
		return nil
	}
	return checkName(field, name) // characters, as every name (limits.go)
}
