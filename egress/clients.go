package egress

import (
	"container/list"
	"fmt"
	"net/http"
	"sync"
)

// DefaultMaxClients bounds Clients: webhooks with TLS settings of their own
// whose transports (and keep-alive pools) are kept at once.
const DefaultMaxClients = 256

// Clients hands out the HTTP client of a webhook with TLS settings of its
// own: one transport per distinct setting, so that its keep-alive pool
// carries the right client certificate and roots, built with the same
// Options as the shared client (SSRF check at dial time, proxy, timeouts,
// no redirects). It is keyed by webhook id and the settings' fingerprint
// (a changed setting gets a new transport, the old one's idle connections
// are closed) and bounded: the least recently used transport is dropped
// past Max. Safe for concurrent use.
type Clients struct {
	o   Options
	max int

	mu    sync.Mutex
	byID  map[string]*list.Element
	order *list.List // front: most recently used
}

type clientEntry struct {
	webhookID   string
	fingerprint string
	client      *http.Client
}

// NewClients returns a cache of clients built from o (o.TLSConfig is
// replaced by each webhook's), at most max of them (DefaultMaxClients when
// max <= 0).
func NewClients(o Options, max int) *Clients {
	if max <= 0 {
		max = DefaultMaxClients
	}
	return &Clients{o: o, max: max, byID: map[string]*list.Element{}, order: list.New()}
}

// Client returns the client for webhookID with settings t. A t that does not
// parse (stored before a check existed, or a key that could not be opened)
// is an error, which fails the attempt: sending without the certificate the
// receiver asked for would only be refused there.
func (c *Clients) Client(webhookID string, t TLS) (*http.Client, error) {
	fp := t.Fingerprint()
	c.mu.Lock()
	if el, ok := c.byID[webhookID]; ok {
		e := el.Value.(*clientEntry)
		if e.fingerprint == fp {
			c.order.MoveToFront(el)
			c.mu.Unlock()
			return e.client, nil
		}
	}
	c.mu.Unlock()

	cfg, err := ParseTLS(t)
	if err != nil {
		return nil, fmt.Errorf("webhook tls settings: %w", err)
	}
	o := c.o
	o.TLSConfig = cfg
	client := NewClient(o)

	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byID[webhookID]; ok {
		e := el.Value.(*clientEntry)
		if e.fingerprint == fp {
			// Built at the same time by another attempt: keep one.
			c.order.MoveToFront(el)
			return e.client, nil
		}
		c.remove(el)
	}
	c.byID[webhookID] = c.order.PushFront(&clientEntry{webhookID: webhookID, fingerprint: fp, client: client})
	for c.order.Len() > c.max {
		c.remove(c.order.Back())
	}
	return client, nil
}

// Len is how many clients are kept.
func (c *Clients) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// remove drops an entry and closes its idle connections (attempts in flight
// on it finish on their own).
func (c *Clients) remove(el *list.Element) {
	e := c.order.Remove(el).(*clientEntry)
	delete(c.byID, e.webhookID)
	e.client.CloseIdleConnections()
}
