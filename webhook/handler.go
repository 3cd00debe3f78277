package webhook

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// Option configures NewHandler.
type Option func(*handler)

// WithDeduper sets the store of processed delivery ids. The default is
// NewMemoryDeduper(DefaultMemoryTTL); nil turns deduplication off, so every
// delivery, duplicates included, reaches the function.
func WithDeduper(d Deduper) Option {
	return func(h *handler) { h.dedup = d }
}

// WithMaxBodyBytes sets the largest accepted body; larger ones are answered
// 413. The default, also used for n <= 0, is MaxBodyBytes (1 MiB), what
// agenthooks itself accepts.
func WithMaxBodyBytes(n int64) Option {
	return func(h *handler) {
		if n > 0 {
			h.maxBody = n
		}
	}
}

// WithLogger sets a logger for deliveries that were rejected or failed, with
// the attributes webhook_id, status and error. The default logs nothing.
func WithLogger(l *slog.Logger) Option {
	return func(h *handler) { h.log = l }
}

// Permanent marks err as permanent: the handler answers 400 instead of 500,
// telling the sender that the delivery itself is wrong and retrying it will
// not help. agenthooks still records the attempt as failed, and shows the
// response body, which is err's text: do not put secrets in it. Permanent(nil)
// is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err, or an error it wraps, was made by Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// NewHandler returns an http.Handler that receives agenthooks deliveries and
// calls fn once per event, however often the event is delivered. For each POST
// it:
//
//   - reads the body, answering 413 if it is over the limit (WithMaxBodyBytes);
//   - verifies it with v, answering 401 without calling fn if that fails;
//   - parses the event, answering 400 if the body is not an event;
//   - claims the webhook-id in the Deduper (WithDeduper), answering 200 without
//     calling fn for a delivery already processed, and 409 (the sender retries
//     later) while another copy of it is being processed;
//   - calls fn with the request's context, which ends if the sender gives up.
//
// If fn returns nil the id is recorded as processed and the answer is 200. If
// it returns an error the claim is released, so the sender's retry is
// processed, and the answer is 500, or 400 for an error wrapped with
// Permanent. A panic in fn also releases the claim. Other methods than POST get 405.
//
// NewHandler panics if v or fn is nil, as http.HandleFunc does for a nil handler.
func NewHandler(v *Verifier, fn func(ctx context.Context, e *Event) error, opts ...Option) http.Handler {
	if v == nil || fn == nil {
		panic("webhook: NewHandler with a nil Verifier or function")
	}
	h := &handler{
		v:       v,
		fn:      fn,
		dedup:   NewMemoryDeduper(DefaultMemoryTTL),
		maxBody: MaxBodyBytes,
	}
	for _, opt := range opts {
		opt(h)
	}
	return h
}

type handler struct {
	v       *Verifier
	fn      func(ctx context.Context, e *Event) error
	dedup   Deduper
	maxBody int64
	log     *slog.Logger
}

// storeTimeout bounds Complete and Release, which run even when the request's
// context has ended, so that an abandoned request still records its outcome.
const storeTimeout = 10 * time.Second

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reply(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			h.fail(r, w, http.StatusRequestEntityTooLarge, "body too large", err)
			return
		}
		h.fail(r, w, http.StatusBadRequest, "cannot read body", err)
		return
	}
	if err := h.v.VerifyPayload(body, r.Header); err != nil {
		// The sentinel texts say what is wrong and reveal nothing secret.
		h.fail(r, w, http.StatusUnauthorized, err.Error(), err)
		return
	}
	e, err := Parse(body)
	if err != nil {
		h.fail(r, w, http.StatusBadRequest, "body is not an event", err)
		return
	}
	id := headerValue(r.Header, HeaderID)
	ctx := r.Context()

	if h.dedup == nil {
		h.finish(r, w, h.fn(ctx, e))
		return
	}
	status, err := h.dedup.Claim(ctx, id)
	if err != nil {
		h.fail(r, w, http.StatusInternalServerError, "deduplication store unavailable", err)
		return
	}
	switch status {
	case Duplicate:
		reply(w, http.StatusOK, "duplicate")
		return
	case InProgress:
		h.fail(r, w, http.StatusConflict, "delivery in progress", nil)
		return
	case Claimed:
	default:
		h.fail(r, w, http.StatusInternalServerError, "deduplication store unavailable", errors.New("webhook: Deduper returned "+status.String()))
		return
	}

	// The outcome is recorded even if the request was cancelled meanwhile.
	storeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	completed := false
	defer func() {
		// Reached without completion on error and on panic.
		if !completed {
			if err := h.dedup.Release(storeCtx, id); err != nil {
				h.logError(r, "release claim", http.StatusInternalServerError, err)
			}
		}
	}()
	err = h.fn(ctx, e)
	if err == nil {
		completed = true
		if err := h.dedup.Complete(storeCtx, id); err != nil {
			// fn's work is done; a failed write only risks running fn again on a
			// redelivery, which at-least-once receivers tolerate.
			h.logError(r, "complete claim", http.StatusOK, err)
		}
	}
	h.finish(r, w, err)
}

// finish answers according to fn's result.
func (h *handler) finish(r *http.Request, w http.ResponseWriter, err error) {
	switch {
	case err == nil:
		reply(w, http.StatusOK, "ok")
	case IsPermanent(err):
		h.fail(r, w, http.StatusBadRequest, err.Error(), err)
	default:
		// fn's error text may hold internals: log it, do not send it.
		h.fail(r, w, http.StatusInternalServerError, "handler failed", err)
	}
}

// fail logs a rejected delivery and answers it.
func (h *handler) fail(r *http.Request, w http.ResponseWriter, status int, msg string, err error) {
	h.logError(r, "delivery rejected", status, err)
	reply(w, status, msg)
}

func (h *handler) logError(r *http.Request, msg string, status int, err error) {
	if h.log == nil {
		return
	}
	attrs := []any{slog.String("webhook_id", headerValue(r.Header, HeaderID)), slog.Int("status", status)}
	if err != nil {
		attrs = append(attrs, slog.Any("error", err))
	}
	h.log.WarnContext(r.Context(), "webhook: "+msg, attrs...)
}

// reply writes a short plain-text answer; agenthooks keeps the first 4 KiB of
// it with the attempt, where it helps whoever debugs a failing webhook.
func reply(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	io.WriteString(w, msg+"\n")
}
