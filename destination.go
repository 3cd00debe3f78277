package agenthooks

import (
	"net/url"
	"strings"
)

// Destination types: where a webhook's deliveries go.
const (
	DestinationHTTP     = "http"
	DestinationRabbitMQ = "rabbitmq"
	DestinationNATS     = "nats"
	DestinationRedis    = "redis"
)

// EventPlaceholder in a routing key or subject is replaced by the event type.
const EventPlaceholder = "{event}"

// Destination is a webhook's broker destination (CONTRACT section 3,
// "Destinations besides HTTP"). A webhook without one (nil) delivers to its
// Endpoint over HTTP. URL holds the broker's credentials: it is sealed at
// rest like a secret and never read back (reads show RedactedURL).
type Destination struct {
	Type       string
	URL        string
	Exchange   string // rabbitmq
	RoutingKey string // rabbitmq; may hold {event}
	Subject    string // nats; may hold {event}
	Stream     string // redis
	MaxLen     int64  // redis: MAXLEN ~ MaxLen on every XADD; 0 for none
}

// Broker reports whether d sends to a broker rather than over HTTP.
func (d *Destination) Broker() bool {
	return d != nil && d.Type != "" && d.Type != DestinationHTTP
}

// Route returns the routing key (rabbitmq), subject (nats) or stream
// (redis) of an event of type event: {event} replaced by the type.
func (d *Destination) Route(event string) string {
	switch d.Type {
	case DestinationRabbitMQ:
		return strings.ReplaceAll(d.RoutingKey, EventPlaceholder, event)
	case DestinationNATS:
		return strings.ReplaceAll(d.Subject, EventPlaceholder, event)
	}
	return d.Stream
}

// CredentialsSet reports whether the URL carries a user name or password.
func (d *Destination) CredentialsSet() bool {
	u, err := url.Parse(d.URL)
	return err == nil && u.User != nil
}

// RedactedURL is the URL as reads show it: without user name and password
// (the query, which some brokers take options in, is dropped as well, since
// it may hold a token). A broker webhook's Endpoint reads the same.
func (d *Destination) RedactedURL() string {
	u, err := url.Parse(d.URL)
	if err != nil {
		return ""
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment = nil, "", false, ""
	return u.String()
}

// KeepCredentials carries the credentials of old over to d when d's URL has
// none and is old's RedactedURL: a form or client that sends back the URL it
// read keeps the password it could not read.
func (d *Destination) KeepCredentials(old *Destination) {
	if old == nil || d.Type != old.Type || d.CredentialsSet() || !old.CredentialsSet() || d.URL != old.RedactedURL() {
		return
	}
	d.URL = old.URL
}
