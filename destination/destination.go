// Package destination sends deliveries to brokers: RabbitMQ (publisher
// confirms), NATS JetStream (publish acks) and Redis Streams (XADD). The
// delivery pool signs a message as it signs an HTTP request and calls
// Senders.Send; an attempt succeeds only when Send returns no error, that is
// when the broker confirmed it.
//
// Connections are pooled per destination URL (one per broker and
// credentials), dialled through the egress policy's dialer, closed after
// IdleClose without use, and redialled after a failure with a bounded
// backoff, so a dead broker costs each attempt one fast error and not a
// dial timeout.
package destination

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/egress"
)

// Message is one signed delivery to a broker.
type Message struct {
	ID        string // webhook-id: the event id, the consumer's deduplication key
	Timestamp int64  // webhook-timestamp
	Signature string // webhook-signature
	Event     string // the event type, for {event} in routing keys and subjects
	Body      []byte // the envelope's bytes, as signed
}

// Headers returns the Standard Webhooks headers of m.
func (m *Message) Headers() map[string]string {
	return map[string]string{
		"webhook-id":        m.ID,
		"webhook-timestamp": fmt.Sprint(m.Timestamp),
		"webhook-signature": m.Signature,
	}
}

// Result is the broker's confirmation, as the attempt log shows it.
type Result struct {
	Answer string
}

// conn is a live connection to one broker.
type conn interface {
	send(ctx context.Context, d *agenthooks.Destination, m *Message) (Result, error)
	// broken reports whether the connection can no longer be used.
	broken() bool
	close() error
}

// Options configures New.
type Options struct {
	// Policy holds each broker's dialled address to the endpoint rules.
	Policy egress.Policy
	// Timeout bounds a dial and each publish (AGENTHOOKS_DELIVERY_TIMEOUT).
	Timeout time.Duration
	// IdleClose closes a connection unused for this long (default 5m).
	IdleClose time.Duration
	// MaxBackoff bounds the wait between redials of a failing broker
	// (default 5s); the first wait is 100ms, doubling.
	MaxBackoff time.Duration
	Log        *slog.Logger
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// Senders sends messages to brokers over pooled connections. Its zero
// value is not usable: call New.
type Senders struct {
	o    Options
	dial egress.DialFunc

	mu      sync.Mutex
	entries map[string]*entry
	closed  bool
	stop    chan struct{}
	done    chan struct{}
}

// entry is the pooled connection to one destination URL. Its mutex is held
// while dialling, so concurrent sends to one broker wait for one dial and
// sends to others do not wait at all.
type entry struct {
	mu       sync.Mutex
	c        conn
	lastUsed time.Time
	// After a failed dial, sends fail with dialErr until retryAt.
	dialErr error
	retryAt time.Time
	backoff time.Duration
}

// New returns Senders; Close stops its idle sweeper and closes every
// connection.
func New(o Options) *Senders {
	if o.Timeout <= 0 {
		o.Timeout = egress.DefaultTimeout
	}
	if o.IdleClose <= 0 {
		o.IdleClose = 5 * time.Minute
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Senders{o: o, dial: egress.NewDialFunc(o.Policy, o.Timeout), entries: map[string]*entry{},
		stop: make(chan struct{}), done: make(chan struct{})}
	go s.sweep()
	return s
}

// ErrClosed is returned by Send after Close.
var ErrClosed = errors.New("destination senders closed")

// Send publishes m to d and waits for the broker's confirmation, at most
// until ctx ends. A nil error means the broker confirmed the message.
func (s *Senders) Send(ctx context.Context, d *agenthooks.Destination, m Message) (Result, error) {
	if !d.Broker() {
		return Result{}, fmt.Errorf("destination type %q is not a broker", d.Type)
	}
	e, err := s.entry(d)
	if err != nil {
		return Result{}, err
	}
	c, err := s.connect(ctx, e, d)
	if err != nil {
		return Result{}, err
	}
	return c.send(ctx, d, &m)
}

func (s *Senders) entry(d *agenthooks.Destination) (*entry, error) {
	key := d.Type + "\x00" + d.URL
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	e := s.entries[key]
	if e == nil {
		e = &entry{}
		s.entries[key] = e
	}
	return e, nil
}

// connect returns e's live connection, dialling one if there is none and
// the backoff after the last failed dial has passed.
func (s *Senders) connect(ctx context.Context, e *entry, d *agenthooks.Destination) (conn, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := s.o.Now()
	e.lastUsed = now
	if e.c != nil && !e.c.broken() {
		return e.c, nil
	}
	if e.c != nil {
		_ = e.c.close()
		e.c = nil
	}
	if e.dialErr != nil && now.Before(e.retryAt) {
		return nil, e.dialErr
	}
	dctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	defer cancel()
	c, err := s.open(dctx, d)
	if err != nil {
		e.backoff = min(max(2*e.backoff, 100*time.Millisecond), s.o.MaxBackoff)
		e.dialErr, e.retryAt = err, s.o.Now().Add(e.backoff)
		s.o.Log.Info("broker connection failed", slog.String("type", d.Type), slog.String("url", d.RedactedURL()),
			slog.String("error", err.Error()), slog.Duration("retry_in", e.backoff))
		return nil, err
	}
	e.c, e.dialErr, e.backoff = c, nil, 0
	return c, nil
}

func (s *Senders) open(ctx context.Context, d *agenthooks.Destination) (conn, error) {
	switch d.Type {
	case agenthooks.DestinationRabbitMQ:
		return dialRabbitMQ(ctx, d.URL, s.dial, s.o.Timeout)
	case agenthooks.DestinationNATS:
		return dialNATS(ctx, d.URL, s.dial, s.o.Timeout)
	case agenthooks.DestinationRedis:
		return dialRedis(ctx, d.URL, s.dial, s.o.Timeout)
	}
	return nil, fmt.Errorf("unknown destination type %q", d.Type)
}

// sweep closes connections idle for IdleClose.
func (s *Senders) sweep() {
	defer close(s.done)
	t := time.NewTicker(max(s.o.IdleClose/4, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.closeIdle(s.o.Now().Add(-s.o.IdleClose))
		}
	}
}

// closeIdle closes and forgets the connections last used before cutoff.
func (s *Senders) closeIdle(cutoff time.Time) {
	s.mu.Lock()
	var idle []*entry
	for k, e := range s.entries {
		if e.mu.TryLock() {
			if e.lastUsed.Before(cutoff) {
				idle = append(idle, e)
				delete(s.entries, k)
			}
			e.mu.Unlock()
		}
	}
	s.mu.Unlock()
	for _, e := range idle {
		e.mu.Lock()
		if e.c != nil {
			_ = e.c.close()
			e.c = nil
		}
		e.mu.Unlock()
	}
}

// Open reports how many broker connections are pooled (tests, metrics).
func (s *Senders) Open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.entries {
		if e.mu.TryLock() {
			if e.c != nil {
				n++
			}
			e.mu.Unlock()
		} else {
			n++ // dialling or in use
		}
	}
	return n
}

// Close closes every pooled connection; Send fails with ErrClosed after.
func (s *Senders) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	entries := s.entries
	s.entries = nil
	s.mu.Unlock()
	close(s.stop)
	<-s.done
	var errs []error
	for _, e := range entries {
		e.mu.Lock()
		if e.c != nil {
			errs = append(errs, e.c.close())
			e.c = nil
		}
		e.mu.Unlock()
	}
	return errors.Join(errs...)
}
