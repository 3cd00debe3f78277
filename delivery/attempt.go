package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/egress"
	"github.com/agenthooks/agenthooks/transform"
	"github.com/agenthooks/agenthooks/webhook/signature"
)

// result is a job's outcome on its way to the writers.
type result struct {
	outcome   agenthooks.Outcome
	gone      bool // 410: disable the webhook and end its pending deliveries
	attempted bool // an HTTP attempt was made (not held back, not cancelled)
	ok        bool // the attempt succeeded
	accountID string
	webhookID string
	// ended is the job when its attempt ended the delivery failed: the
	// writer raises delivery.failed about it.
	ended *agenthooks.Job
}

// work owns one claimed job from its claim to its outcome: it is admitted
// by the gate, or parked there until an attempt to the same webhook ends
// and gives it a turn, or held back; then it makes the attempt or hands the
// job back, frees its slot and hands the outcome to the writers.
func (p *Pool) work(j *agenthooks.Job) {
	defer p.slots.exited()
	wait, turn := p.gate.admit(j, p.o.Now())
	if turn != nil {
		wait = <-turn
	}
	var r result
	if wait > 0 {
		r = p.handBack(j, wait)
	} else {
		r = p.attempt(j)
		p.gate.done(j.Webhook.ID, r.attempted, r.ok, p.o.Now())
	}
	p.slots.free()
	p.results <- r
}

// handBack returns a job held back by its webhook's circuit, rate limit or
// full in-flight cap to the queue, due after wait, with no attempt counted.
func (p *Pool) handBack(j *agenthooks.Job, wait time.Duration) result {
	p.heldBack.Add(1)
	return result{accountID: j.Delivery.AccountID, webhookID: j.Webhook.ID, outcome: agenthooks.Outcome{
		DeliveryID: j.Delivery.ID, Lease: j.Lease, Status: agenthooks.DeliveryPending, NextAttemptAt: p.o.Now().Add(wait)}}
}

// keys returns the signing keys: the current secret, and the previous one
// while a rotation's overlap lasts.
func keys(w *agenthooks.Webhook, now time.Time) ([][]byte, error) {
	k, err := signature.ParseSecret(w.Secret)
	if err != nil {
		return nil, fmt.Errorf("webhook secret: %w", err)
	}
	ks := [][]byte{k}
	if w.PreviousSecret != "" && now.Before(w.PreviousSecretUntil) {
		if old, err := signature.ParseSecret(w.PreviousSecret); err == nil {
			ks = append(ks, old)
		}
	}
	return ks, nil
}

// ResponseBodyLimit is how much of a response body an attempt records.
const ResponseBodyLimit = 4096

// attempt makes one HTTP request and decides the outcome.
func (p *Pool) attempt(j *agenthooks.Job) result {
	d := &j.Delivery
	start := p.o.Now()
	res := result{accountID: d.AccountID, webhookID: d.WebhookID}
	a := &agenthooks.Attempt{ID: newID(), DeliveryID: d.ID, AccountID: d.AccountID, CreatedAt: start}
	span, finish := p.traceAttempt(j)
	status, retryAfter, err := p.deliver(j, start, a, span)
	defer func() { finish(res.ok, status, err) }()
	if errors.Is(err, errCanceled) {
		// The transformation set cancel: the delivery ends canceled, with
		// no request made and no attempt counted; not a failure.
		res.ok = true
		res.outcome = agenthooks.Outcome{DeliveryID: d.ID, Lease: j.Lease, Status: agenthooks.DeliveryCanceled}
		err = nil
		return res
	}
	if err != nil && p.attemptCtx.Err() != nil {
		// Cancelled by shutdown: release without counting an attempt.
		res.outcome = agenthooks.Outcome{DeliveryID: d.ID, Lease: j.Lease, Status: agenthooks.DeliveryPending, NextAttemptAt: p.o.Now()}
		return res
	}
	end := p.o.Now()
	a.DurationMS = end.Sub(start).Milliseconds()
	a.StatusCode = status
	if err != nil {
		a.Error = cleanError(err).Error()
	}
	p.attempts.Add(1)
	res.attempted = true
	o := agenthooks.Outcome{DeliveryID: d.ID, Lease: j.Lease, Attempt: a}
	switch {
	case err == nil && (status >= 200 && status < 300 || status == 0): // 0: a broker confirmed
		o.Status = agenthooks.DeliverySucceeded
		res.ok = true
		p.delivered.Add(1)
	case err == nil && status == http.StatusGone:
		o.Status = agenthooks.DeliveryFailed
		res.gone = true
	case errors.Is(err, egress.ErrForbiddenAddress):
		// The address policy refused the address the name resolves to now:
		// retrying sends nothing until an operator changes the policy, so
		// the delivery ends failed at once, the refusal as its last error.
		o.Status = agenthooks.DeliveryFailed
	default:
		next, ok := p.o.Policy.NextRetry(d.AttemptCount+1, end, retryAfter)
		if ok {
			o.Status, o.NextAttemptAt = agenthooks.DeliveryPending, next
		} else {
			o.Status = agenthooks.DeliveryFailed
		}
	}
	if o.Status == agenthooks.DeliveryFailed {
		p.failed.Add(1)
		res.ended = j
	}
	res.outcome = o
	p.obs.AttemptFinished(d.WebhookID, attemptOutcome(res.ok, err), end.Sub(start))
	if !res.ok {
		p.logFailed(j, &o)
	}
	return res
}

// attemptOutcome names an attempt's outcome for the Observer.
func attemptOutcome(ok bool, err error) string {
	var ne net.Error
	switch {
	case ok:
		return OutcomeSucceeded
	case errors.Is(err, egress.ErrForbiddenAddress):
		return OutcomeBlocked
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return OutcomeTimeout
	}
	return OutcomeFailed
}

// lastError is what a failed attempt leaves as its delivery's last error:
// the transport's error, or "HTTP <status>" for a failed answer (the store
// records the same, sqlstore's outcomeColumns).
func lastError(a *agenthooks.Attempt) string {
	if a.Error != "" {
		return a.Error
	}
	return fmt.Sprintf("HTTP %d", a.StatusCode)
}

// logFailed writes the one line of a failed attempt: at info while the
// delivery will be retried, at warn when the attempt ended it failed.
func (p *Pool) logFailed(j *agenthooks.Job, o *agenthooks.Outcome) {
	a := o.Attempt
	next := slog.Any("next_attempt_at", nil)
	level, msg := slog.LevelWarn, "delivery failed"
	if o.Status == agenthooks.DeliveryPending {
		level, msg = slog.LevelInfo, "delivery attempt failed"
		next = slog.Time("next_attempt_at", o.NextAttemptAt)
	}
	// status_code is on every line (CONTRACT section 8): 0 when the request
	// got no answer, a number in both log formats (nil printed as
	// status_code=<nil> in text logs).
	attrs := []slog.Attr{slog.String("delivery_id", j.Delivery.ID), slog.String("event_id", j.Delivery.EventID),
		slog.String("webhook_id", j.Delivery.WebhookID), slog.Int("attempt", j.Delivery.AttemptCount+1),
		slog.Int("status_code", a.StatusCode), slog.String("error", lastError(a)), next}
	p.log.LogAttrs(context.Background(), level, msg, attrs...)
}

// post sends the request; it returns the status code (0 if none), the
// Retry-After floor of a 429 or 503, and the transport error if any.
func (p *Pool) post(j *agenthooks.Job, out *outgoing, start time.Time, a *agenthooks.Attempt, span AttemptSpan) (int, time.Duration, error) {
	ks, err := keys(&j.Webhook, start)
	if err != nil {
		return 0, 0, err
	}
	ctx, cancel := context.WithTimeout(p.attemptCtx, p.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, out.method, out.url, bytes.NewReader(out.body))
	if err != nil {
		return 0, 0, fmt.Errorf("invalid endpoint: %w", err)
	}
	for k, v := range out.headers {
		req.Header.Set(k, v)
	}
	ts := start.Unix()
	h := req.Header
	h["Content-Type"] = []string{"application/json"}
	if p.o.UserAgent != "" {
		h["User-Agent"] = []string{p.o.UserAgent}
	}
	// Lower-case names as Standard Webhooks writes them; HTTP/1.1 names are
	// case-insensitive and HTTP/2 lower-cases them anyway.
	h["webhook-id"] = []string{j.Delivery.EventID}
	h["webhook-timestamp"] = []string{itoa(ts)}
	h["webhook-signature"] = []string{signature.Header(ks, j.Delivery.EventID, ts, out.body)} // the body sent, transformed or not
	client, err := p.client(&j.Webhook)
	if err != nil {
		return 0, 0, err
	}
	span.Inject(h)
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, ResponseBodyLimit))
	a.ResponseBody = sanitize(body)
	// Drain a little more so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	var retryAfter time.Duration
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		retryAfter = ParseRetryAfter(resp.Header.Get("Retry-After"), p.o.Now())
	}
	return resp.StatusCode, retryAfter, nil
}

// programs are the transformations compiled, by code: once per webhook
// version, shared by every worker (a goja.Program is; its runtimes are
// pooled per program, transform.Program).
var programs = transform.NewCache(0)

// errCanceled is a delivery the webhook's transformation canceled.
var errCanceled = errors.New("canceled by the transformation")

// outgoing is the request an attempt sends.
type outgoing struct {
	method, url string
	headers     map[string]string
	body        []byte
}

// prepare runs the webhook's transformation, if it has one, on the stored
// envelope. A failure of the code is the attempt's error (with line and
// column), retried as any failed attempt.
func prepare(j *agenthooks.Job) (outgoing, error) {
	w := &j.Webhook
	out := outgoing{method: http.MethodPost, url: w.Endpoint, headers: w.Headers, body: j.Payload}
	if !w.Transformation.Active() {
		return out, nil
	}
	prog, err := programs.Program(w.Transformation.Code)
	if err != nil {
		return outgoing{}, err
	}
	// No EventType: Run reads it from the payload it parses anyway.
	r, err := prog.Run(transform.Input{Method: http.MethodPost, URL: w.Endpoint, Payload: j.Payload, Headers: w.Headers})
	if err != nil {
		return outgoing{}, err
	}
	if r.Cancel {
		return outgoing{}, errCanceled
	}
	return outgoing{method: r.Method, url: r.URL, headers: r.Headers, body: r.Body}, nil
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// cleanError drops the method and URL that *url.Error prefixes: the attempt
// record already names the webhook.
func cleanError(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			if m := err.Error(); strings.HasPrefix(m, "Post ") || strings.HasPrefix(m, "Put ") || strings.HasPrefix(m, "Patch ") {
				return inner
			}
		}
	}
	return err
}

// sanitize makes a response body storable as text: valid UTF-8, no NUL.
func sanitize(b []byte) string {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}
