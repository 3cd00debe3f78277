package service

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/agenthooks/agenthooks"
)

// BrokerURLValidator checks a broker destination's URL (egress.Policy): its
// host is held to the endpoint rules. A validator without it checks
// nothing of the URL but its scheme.
type BrokerURLValidator interface {
	ValidateBrokerURL(ctx context.Context, raw string, schemes ...string) error
}

// destinationSchemes are the URL schemes each broker type takes.
var destinationSchemes = map[string][]string{
	agenthooks.DestinationRabbitMQ: {"amqp", "amqps"},
	agenthooks.DestinationNATS:     {"nats", "tls"},
	agenthooks.DestinationRedis:    {"redis", "rediss"},
}

// maxRouteLen bounds routing keys, subjects and stream names: AMQP's short
// strings are at most 255 bytes, and none of the three needs more.
const maxRouteLen = 255

// destinationInvalid is a 422 on a field of destination.
func destinationInvalid(field, msg string) error {
	return agenthooks.InvalidAt(msg, "value_error", "destination", field)
}

// checkDestination validates d and returns it normalised: nil for HTTP.
func (s *Service) checkDestination(ctx context.Context, d *agenthooks.Destination) (*agenthooks.Destination, error) {
	if d == nil || d.Type == agenthooks.DestinationHTTP {
		return nil, nil
	}
	schemes, ok := destinationSchemes[d.Type]
	if !ok {
		return nil, agenthooks.InvalidAt("Input should be 'http', 'rabbitmq', 'nats' or 'redis'", "literal_error", "destination", "type")
	}
	if err := s.checkDestinationURL(ctx, d.URL, schemes); err != nil {
		return nil, err
	}
	if err := checkRoute(d); err != nil {
		return nil, err
	}
	out := &agenthooks.Destination{Type: d.Type, URL: strings.TrimSpace(d.URL)}
	switch d.Type {
	case agenthooks.DestinationRabbitMQ:
		out.Exchange, out.RoutingKey = d.Exchange, d.RoutingKey
	case agenthooks.DestinationNATS:
		out.Subject = d.Subject
	case agenthooks.DestinationRedis:
		out.Stream, out.MaxLen = d.Stream, d.MaxLen
	}
	return out, nil
}

func (s *Service) checkDestinationURL(ctx context.Context, raw string, schemes []string) error {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return agenthooks.InvalidAt("Field required", "missing", "destination", "url")
	}
	v, ok := s.validate.(BrokerURLValidator)
	if !ok {
		for _, sc := range schemes {
			if strings.HasPrefix(raw, sc+"://") {
				return nil
			}
		}
		return destinationInvalid("url", "url must use "+strings.Join(schemes, " or "))
	}
	err := v.ValidateBrokerURL(ctx, raw, schemes...)
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return destinationInvalid("url", err.Error())
}

// checkRoute checks the routing key, subject or stream the type needs.
func checkRoute(d *agenthooks.Destination) error {
	field, value := "routing_key", d.RoutingKey
	switch d.Type {
	case agenthooks.DestinationNATS:
		field, value = "subject", d.Subject
	case agenthooks.DestinationRedis:
		field, value = "stream", d.Stream
		if d.MaxLen < 0 {
			return destinationInvalid("maxlen", "maxlen must be 0 (no trimming) or more")
		}
	}
	if value == "" {
		return agenthooks.InvalidAt("Field required", "missing", "destination", field)
	}
	if len(value) > maxRouteLen || (d.Type == agenthooks.DestinationRabbitMQ && len(d.Exchange) > maxRouteLen) {
		return destinationInvalid(field, fmt.Sprintf("%s must be at most %d characters", field, maxRouteLen))
	}
	for _, r := range value {
		if r <= ' ' || r == 0x7f {
			return destinationInvalid(field, field+" must not contain spaces or control characters")
		}
	}
	if d.Type == agenthooks.DestinationNATS {
		return checkSubject(d.Subject)
	}
	return nil
}

// checkSubject refuses NATS subjects that cannot be published to: wildcards
// and empty tokens. Event types hold dots, which {event} adds as tokens.
func checkSubject(subject string) error {
	for _, tok := range strings.Split(strings.ReplaceAll(subject, agenthooks.EventPlaceholder, "e"), ".") {
		if tok == "" || tok == "*" || tok == ">" {
			return destinationInvalid("subject", "subject must be dot-separated tokens without wildcards, like agents.{event}")
		}
	}
	return nil
}

// errEndpointOnBroker is a PATCH of endpoint alone on a broker webhook.
var errEndpointOnBroker = agenthooks.Invalid("endpoint",
	`This webhook delivers to a broker: send destination {"type": "http"} with the endpoint to deliver over HTTP`, "value_error")

// applyDestination sets a PATCH's destination on w (already validated): a
// URL sent back as it was read keeps the stored credentials.
func applyDestination(w *agenthooks.Webhook, p *WebhookPatch) error {
	if !p.Destination.Set {
		if p.Endpoint != nil && w.Destination.Broker() {
			return errEndpointOnBroker
		}
		return nil
	}
	d := p.Destination.Value
	if !d.Broker() {
		if w.Destination.Broker() && p.Endpoint == nil {
			return agenthooks.InvalidAt("Field required: the endpoint to deliver to over HTTP", "missing", "endpoint")
		}
		w.Destination = nil
		return nil
	}
	d.KeepCredentials(w.Destination)
	w.Destination, w.Endpoint = d, d.RedactedURL()
	return nil
}
