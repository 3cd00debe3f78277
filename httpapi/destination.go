package httpapi

import (
	"encoding/json"

	"github.com/agenthooks/agenthooks"
)

// kInt is the kind of an integer field.
var kInt = kind{"Input should be a valid integer", "int_type"}

// destination reads the optional destination object of a webhook's body:
// absent (set false), null (set, nil: HTTP), or an object whose type
// errors are reported at ["body", "destination", field]. The values
// themselves are checked by the service.
func (b *body) destination() (set bool, d *agenthooks.Destination) {
	set, fields := b.optObject("destination")
	if fields == nil {
		return set, nil
	}
	sub := &body{fields: fields}
	d = &agenthooks.Destination{}
	d.Type, _ = sub.str("type", true)
	d.URL, _ = sub.str("url", false)
	d.Exchange, _ = sub.str("exchange", false)
	d.RoutingKey, _ = sub.str("routing_key", false)
	d.Subject, _ = sub.str("subject", false)
	d.Stream, _ = sub.str("stream", false)
	get(sub, "maxlen", false, kInt, &d.MaxLen)
	for _, e := range sub.errs {
		e.Loc = append([]any{"destination"}, e.Loc...)
		b.errs = append(b.errs, e)
	}
	return true, d
}

// brokerDestination reports whether the body names a broker destination,
// in which case endpoint is not required.
func (b *body) brokerDestination() bool {
	var probe struct {
		Type string `json:"type"`
	}
	raw, ok := b.fields["destination"]
	return ok && json.Unmarshal(raw, &probe) == nil && probe.Type != "" && probe.Type != agenthooks.DestinationHTTP
}

// destinationView is a webhook's destination as reads show it: the URL
// without its credentials, and whether it has any.
type destinationView struct {
	Type           string `json:"type" oapi:"enum=destination" doc:"Where the deliveries go: http (the endpoint), rabbitmq, nats (JetStream) or redis (a stream)."`
	URL            string `json:"url,omitempty" doc:"The broker's URL without its credentials (brokers only)."`
	CredentialsSet *bool  `json:"credentials_set,omitempty" oapi:"notnull" doc:"Whether the URL carries credentials; they are write-only, never returned (brokers only)."`
	Exchange       string `json:"exchange,omitempty" doc:"RabbitMQ: the exchange published to."`
	RoutingKey     string `json:"routing_key,omitempty" doc:"RabbitMQ: the routing key; {event} is replaced by the event type."`
	Subject        string `json:"subject,omitempty" doc:"NATS: the JetStream subject; {event} is replaced by the event type."`
	Stream         string `json:"stream,omitempty" doc:"Redis: the stream's key."`
	MaxLen         *int64 `json:"maxlen,omitempty" oapi:"notnull" doc:"Redis: the stream is trimmed to about this many entries."`
}

func newDestinationView(d *agenthooks.Destination) *destinationView {
	if !d.Broker() {
		return &destinationView{Type: agenthooks.DestinationHTTP}
	}
	creds := d.CredentialsSet()
	v := &destinationView{Type: d.Type, URL: d.RedactedURL(), CredentialsSet: &creds}
	switch d.Type {
	case agenthooks.DestinationRabbitMQ:
		v.RoutingKey = d.RoutingKey
		v.Exchange = d.Exchange
	case agenthooks.DestinationNATS:
		v.Subject = d.Subject
	case agenthooks.DestinationRedis:
		v.Stream = d.Stream
		if d.MaxLen > 0 {
			v.MaxLen = &d.MaxLen
		}
	}
	return v
}
