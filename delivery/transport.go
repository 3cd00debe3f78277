package delivery

import (
	"net/http"
	"time"

	"github.com/agenthooks/agenthooks"
)

// ClientForFunc returns the HTTP client that sends a webhook's deliveries
// when the webhook has TLS settings of its own (a client certificate, a CA
// bundle): egress.Clients keeps one transport per webhook and settings, with
// the shared client's SSRF check, proxy and timeouts.
type ClientForFunc func(w *agenthooks.Webhook) (*http.Client, error)

// client returns the client for one attempt to w: Options.Client, unless w
// has TLS settings and the pool has a ClientFor. An error (settings that no
// longer parse) fails the attempt.
func (p *Pool) client(w *agenthooks.Webhook) (*http.Client, error) {
	if w.TLS.IsZero() || p.o.ClientFor == nil {
		return p.o.Client, nil
	}
	return p.o.ClientFor(w)
}

// AttemptTracer wraps each attempt in a span (the tracing package's
// implementation; nil: no tracing, and no cost).
type AttemptTracer interface {
	// StartAttempt starts the span of one attempt of j.
	StartAttempt(j *agenthooks.Job) AttemptSpan
}

// AttemptSpan is one attempt's span.
type AttemptSpan interface {
	// Inject adds the span's context to the request (a W3C traceparent
	// header, when AGENTHOOKS_TRACEPARENT is on).
	Inject(h http.Header)
	// End records the attempt's outcome, status code and duration.
	End(outcome string, status int, d time.Duration, err error)
}

// noSpan is the span of an untraced attempt.
type noSpan struct{}

func (noSpan) Inject(http.Header)                    {}
func (noSpan) End(string, int, time.Duration, error) {}

// traceAttempt starts the attempt's span; the returned function ends it.
func (p *Pool) traceAttempt(j *agenthooks.Job) (AttemptSpan, func(ok bool, status int, err error)) {
	if p.o.Tracer == nil {
		return noSpan{}, func(bool, int, error) {}
	}
	span := p.o.Tracer.StartAttempt(j)
	start := p.o.Now()
	return span, func(ok bool, status int, err error) {
		span.End(attemptOutcome(ok, err), status, p.o.Now().Sub(start), err)
	}
}

// TracerSet reports whether attempts are traced (for tests: off must cost
// nothing, so no tracer at all).
func (p *Pool) TracerSet() bool { return p.o.Tracer != nil }
