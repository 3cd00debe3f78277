package dashboard

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/agenthooks/agenthooks"
)

// destinationForm is the webhook form's "Deliver to" part, as typed
// (templates/_destinationfields.html). Without JavaScript every broker's
// fields are shown and the kind select says which apply; with CSS :has()
// only the chosen kind's are.
type destinationForm struct {
	Kind           string // http, rabbitmq, nats, redis
	URL            string // without credentials when read back
	CredentialsSet bool
	Exchange       string
	RoutingKey     string
	Subject        string
	Stream         string
	MaxLen         string
}

// destinationKinds are the select's options, in the order shown.
var destinationKinds = []struct{ Value, Label string }{
	{agenthooks.DestinationHTTP, "HTTP endpoint"},
	{agenthooks.DestinationRabbitMQ, "RabbitMQ"},
	{agenthooks.DestinationNATS, "NATS JetStream"},
	{agenthooks.DestinationRedis, "Redis Streams"},
}

func destinationFormOf(d *agenthooks.Destination) destinationForm {
	if !d.Broker() {
		return destinationForm{Kind: agenthooks.DestinationHTTP}
	}
	f := destinationForm{Kind: d.Type, URL: d.RedactedURL(), CredentialsSet: d.CredentialsSet(),
		Exchange: d.Exchange, RoutingKey: d.RoutingKey, Subject: d.Subject, Stream: d.Stream}
	if d.MaxLen > 0 {
		f.MaxLen = strconv.FormatInt(d.MaxLen, 10)
	}
	return f
}

// parse reads the form's destination fields; it returns nil for HTTP. A
// URL without credentials that is the stored one's keeps its credentials
// (the service's KeepCredentials), so saving the form as shown changes
// nothing.
func (f *destinationForm) parse(v url.Values, errs map[string]string) *agenthooks.Destination {
	f.Kind = v.Get("destination_type")
	if f.Kind == "" {
		f.Kind = agenthooks.DestinationHTTP
	}
	f.URL = strings.TrimSpace(v.Get("destination_url"))
	f.Exchange, f.RoutingKey = strings.TrimSpace(v.Get("destination_exchange")), strings.TrimSpace(v.Get("destination_routing_key"))
	f.Subject, f.Stream = strings.TrimSpace(v.Get("destination_subject")), strings.TrimSpace(v.Get("destination_stream"))
	f.MaxLen = strings.TrimSpace(v.Get("destination_maxlen"))
	if f.Kind == agenthooks.DestinationHTTP {
		return nil
	}
	d := &agenthooks.Destination{Type: f.Kind, URL: f.URL, Exchange: f.Exchange, RoutingKey: f.RoutingKey, Subject: f.Subject, Stream: f.Stream}
	if f.MaxLen != "" {
		n, err := strconv.ParseInt(f.MaxLen, 10, 64)
		if err != nil || n < 0 {
			errs["destination.maxlen"] = "Enter a whole number of entries to keep, or leave it empty to keep them all"
		}
		d.MaxLen = n
	}
	return d
}

// hideCredentials takes the credentials out of a broker URL as typed before
// the form is shown again with errors: a password typed once is never drawn
// back into the page (a screenshot, a screen share, the browser's cache).
// The field then asks for them again, beside the other errors.
func (f *destinationForm) hideCredentials(errs map[string]string) {
	u, err := url.Parse(f.URL)
	if f.Kind == agenthooks.DestinationHTTP || err != nil || u.User == nil {
		return
	}
	u.User = nil
	f.URL = u.String()
	if errs["destination.url"] == "" {
		errs["destination.url"] = "Type the URL with its credentials again: they are not shown back."
	}
}
