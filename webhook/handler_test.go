package webhook_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks/webhook"
)

// recorder is a handler function that counts and keeps the events it gets.
type recorder struct {
	mu     sync.Mutex
	events []*webhook.Event
	err    func(call int) error // the result of each call, 1-based; nil means success
}

func (r *recorder) handle(_ context.Context, e *webhook.Event) error {
	r.mu.Lock()
	r.events = append(r.events, e)
	n := len(r.events)
	r.mu.Unlock()
	if r.err != nil {
		return r.err(n)
	}
	return nil
}

func (r *recorder) calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestHandler(t *testing.T) {
	t.Parallel()

	body := eventBody("evt_1")
	tests := []struct {
		name      string
		request   func(t *testing.T) *http.Request
		secrets   []string
		opts      []webhook.Option
		fnErr     error
		wantCode  int
		wantCalls int
		wantBody  string
	}{
		{
			name:     "OK",
			request:  func(t *testing.T) *http.Request { return signedRequest(t, "evt_1", body) },
			wantCode: http.StatusOK, wantCalls: 1, wantBody: "ok\n",
		},
		{
			name: "OKRotationTwoSignatures",
			request: func(t *testing.T) *http.Request {
				r := httptest.NewRequest(http.MethodPost, "/hooks", bytes.NewReader(body))
				r.Header = signedHeaders(t, []string{otherSecret, testSecret}, "evt_1", testNow, body)
				return r
			},
			secrets:  []string{testSecret},
			wantCode: http.StatusOK, wantCalls: 1,
		},
		{
			name:     "OKRotationVerifierHasOldAndNew",
			request:  func(t *testing.T) *http.Request { return signedRequest(t, "evt_1", body) },
			secrets:  []string{otherSecret, testSecret},
			wantCode: http.StatusOK, wantCalls: 1,
		},
		{
			name: "ErrMethod",
			request: func(t *testing.T) *http.Request {
				r := signedRequest(t, "evt_1", body)
				r.Method = http.MethodGet
				return r
			},
			wantCode: http.StatusMethodNotAllowed,
		},
		{
			name: "ErrUnsigned",
			request: func(t *testing.T) *http.Request {
				return httptest.NewRequest(http.MethodPost, "/hooks", bytes.NewReader(body))
			},
			wantCode: http.StatusUnauthorized, wantBody: webhook.ErrMissingHeaders.Error() + "\n",
		},
		{
			name:     "ErrWrongSecret",
			request:  func(t *testing.T) *http.Request { return signedRequest(t, "evt_1", body) },
			secrets:  []string{otherSecret},
			wantCode: http.StatusUnauthorized, wantBody: webhook.ErrNoMatchingSignature.Error() + "\n",
		},
		{
			name: "ErrExpiredTimestamp",
			request: func(t *testing.T) *http.Request {
				r := httptest.NewRequest(http.MethodPost, "/hooks", bytes.NewReader(body))
				r.Header = signedHeaders(t, []string{testSecret}, "evt_1", testNow.Add(-10*time.Minute), body)
				return r
			},
			wantCode: http.StatusUnauthorized, wantBody: webhook.ErrTimestampTooOld.Error() + "\n",
		},
		{
			name: "ErrTamperedBody",
			request: func(t *testing.T) *http.Request {
				r := signedRequest(t, "evt_1", body)
				r.Body = io.NopCloser(bytes.NewReader(eventBody("evt_2")))
				return r
			},
			wantCode: http.StatusUnauthorized,
		},
		{
			name: "ErrTooLarge",
			request: func(t *testing.T) *http.Request {
				return signedRequest(t, "evt_1", bytes.Repeat([]byte(" "), webhook.MaxBodyBytes+1))
			},
			wantCode: http.StatusRequestEntityTooLarge,
		},
		{
			name:     "ErrTooLargeCustomLimit",
			request:  func(t *testing.T) *http.Request { return signedRequest(t, "evt_1", body) },
			opts:     []webhook.Option{webhook.WithMaxBodyBytes(int64(len(body) - 1))},
			wantCode: http.StatusRequestEntityTooLarge,
		},
		{
			name: "ErrNotAnEvent",
			request: func(t *testing.T) *http.Request {
				return signedRequest(t, "evt_1", []byte(`["signed but not an event"]`))
			},
			wantCode: http.StatusBadRequest,
		},
		{
			name:     "ErrHandlerFailed",
			request:  func(t *testing.T) *http.Request { return signedRequest(t, "evt_1", body) },
			fnErr:    errors.New("database password is hunter2"),
			wantCode: http.StatusInternalServerError, wantCalls: 1, wantBody: "handler failed\n",
		},
		{
			name:     "ErrPermanent",
			request:  func(t *testing.T) *http.Request { return signedRequest(t, "evt_1", body) },
			fnErr:    webhook.Permanent(errors.New("unknown form")),
			wantCode: http.StatusBadRequest, wantCalls: 1, wantBody: "unknown form\n",
		},
		{
			name:     "ErrPermanentWrapped",
			request:  func(t *testing.T) *http.Request { return signedRequest(t, "evt_1", body) },
			fnErr:    errors.Join(errors.New("context"), webhook.Permanent(errors.New("bad"))),
			wantCode: http.StatusBadRequest, wantCalls: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			secrets := tt.secrets
			if secrets == nil {
				secrets = []string{testSecret}
			}
			rec := &recorder{err: func(int) error { return tt.fnErr }}
			h := webhook.NewHandler(newVerifier(t, secrets...), rec.handle, tt.opts...)
			w := serve(h, tt.request(t))
			if w.Code != tt.wantCode {
				t.Fatalf("status = %d, want %d (body %q)", w.Code, tt.wantCode, w.Body)
			}
			if rec.calls() != tt.wantCalls {
				t.Fatalf("fn called %d times, want %d", rec.calls(), tt.wantCalls)
			}
			if tt.wantBody != "" && w.Body.String() != tt.wantBody {
				t.Fatalf("body = %q, want %q", w.Body, tt.wantBody)
			}
			if tt.wantCode == http.StatusMethodNotAllowed && w.Header().Get("Allow") != http.MethodPost {
				t.Fatalf("Allow = %q, want POST", w.Header().Get("Allow"))
			}
			if tt.wantCalls == 1 && rec.events[0].ID != "evt_1" {
				t.Fatalf("fn got event %+v", rec.events[0])
			}
		})
	}
}

// handlerDedupers are the Deduper set-ups the delivery sequences run with.
var handlerDedupers = []struct {
	name string
	opts func(t *testing.T) []webhook.Option
}{
	{"DefaultMemory", func(t *testing.T) []webhook.Option { return nil }},
	{"ContextBound", func(t *testing.T) []webhook.Option {
		return []webhook.Option{webhook.WithDeduper(ctxDeduper{webhook.NewMemoryDeduper(time.Hour)})}
	}},
}

func TestHandlerDeliverySequences(t *testing.T) {
	t.Parallel()

	type step struct {
		id        string
		wantCode  int
		wantCalls int // total calls of fn after this step
	}
	tests := []struct {
		name  string
		fnErr func(call int) error
		steps []step
	}{
		{
			name: "DuplicateDeliveryProcessedOnce",
			steps: []step{
				{"evt_1", http.StatusOK, 1},
				{"evt_1", http.StatusOK, 1},
				{"evt_1", http.StatusOK, 1},
			},
		},
		{
			name: "DistinctEventsEachProcessed",
			steps: []step{
				{"evt_1", http.StatusOK, 1},
				{"evt_2", http.StatusOK, 2},
				{"evt_1", http.StatusOK, 2},
			},
		},
		{
			name: "FailedThenRetryProcessed",
			fnErr: func(call int) error {
				if call == 1 {
					return errors.New("downstream unavailable")
				}
				return nil
			},
			steps: []step{
				{"evt_1", http.StatusInternalServerError, 1},
				{"evt_1", http.StatusOK, 2},
				{"evt_1", http.StatusOK, 2},
			},
		},
		{
			name: "PermanentThenRetryProcessedAgain",
			fnErr: func(call int) error {
				if call == 1 {
					return webhook.Permanent(errors.New("rejected"))
				}
				return nil
			},
			steps: []step{
				{"evt_1", http.StatusBadRequest, 1},
				{"evt_1", http.StatusOK, 2},
				{"evt_1", http.StatusOK, 2},
			},
		},
	}
	for _, dd := range handlerDedupers {
		for _, tt := range tests {
			t.Run(dd.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				rec := &recorder{err: tt.fnErr}
				h := webhook.NewHandler(newVerifier(t, testSecret), rec.handle, dd.opts(t)...)
				for i, s := range tt.steps {
					w := serve(h, signedRequest(t, s.id, eventBody(s.id)))
					if w.Code != s.wantCode || rec.calls() != s.wantCalls {
						t.Fatalf("step %d (%s): status %d, %d calls; want %d, %d calls", i+1, s.id, w.Code, rec.calls(), s.wantCode, s.wantCalls)
					}
				}
			})
		}
	}
}

func TestHandlerConcurrentDuplicates(t *testing.T) {
	t.Parallel()

	for _, dd := range handlerDedupers {
		t.Run(dd.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			entered := make(chan struct{})
			unblock := make(chan struct{})
			fn := func(ctx context.Context, e *webhook.Event) error {
				if calls.Add(1) == 1 {
					close(entered)
				}
				<-unblock
				return nil
			}
			srv := httptest.NewServer(webhook.NewHandler(newVerifier(t, testSecret), fn, dd.opts(t)...))
			defer srv.Close()

			body := eventBody("evt_1")
			post := func() int {
				req, err := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
				if err != nil {
					t.Error(err)
					return 0
				}
				req.Header = signedHeaders(t, []string{testSecret}, "evt_1", testNow, body)
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Error(err)
					return 0
				}
				resp.Body.Close()
				return resp.StatusCode
			}

			first := make(chan int, 1)
			go func() { first <- post() }()
			<-entered

			// While the first copy is being processed, the others are turned away
			// with 409 (the platform retries them later) and never reach fn.
			const dups = 8
			var wg sync.WaitGroup
			codes := make(chan int, dups)
			for range dups {
				wg.Add(1)
				go func() { defer wg.Done(); codes <- post() }()
			}
			wg.Wait()
			close(codes)
			for c := range codes {
				if c != http.StatusConflict {
					t.Errorf("concurrent duplicate answered %d, want 409", c)
				}
			}
			close(unblock)
			if c := <-first; c != http.StatusOK {
				t.Fatalf("first delivery answered %d, want 200", c)
			}
			// The platform's retry of a turned-away copy is acknowledged.
			if c := post(); c != http.StatusOK {
				t.Fatalf("retry answered %d, want 200", c)
			}
			if n := calls.Load(); n != 1 {
				t.Fatalf("fn ran %d times, want 1", n)
			}
		})
	}
}

func TestHandlerPanicReleasesClaim(t *testing.T) {
	t.Parallel()

	var calls atomic.Int32
	fn := func(ctx context.Context, e *webhook.Event) error {
		if calls.Add(1) == 1 {
			panic("boom")
		}
		return nil
	}
	h := webhook.NewHandler(newVerifier(t, testSecret), fn)
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the panic did not propagate")
			}
		}()
		serve(h, signedRequest(t, "evt_1", eventBody("evt_1")))
	}()
	if w := serve(h, signedRequest(t, "evt_1", eventBody("evt_1"))); w.Code != http.StatusOK || calls.Load() != 2 {
		t.Fatalf("retry after panic: status %d, %d calls; want 200, 2", w.Code, calls.Load())
	}
}

// ctxDeduper fails every call whose context is done, as a Deduper on a
// database does (SQLDeduper's own tests run on real databases in
// internal/sdktest, in the server's module).
type ctxDeduper struct{ d webhook.Deduper }

func (c ctxDeduper) Claim(ctx context.Context, id string) (webhook.ClaimStatus, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return c.d.Claim(ctx, id)
}

func (c ctxDeduper) Complete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return c.d.Complete(ctx, id)
}

func (c ctxDeduper) Release(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return c.d.Release(ctx, id)
}

// A sender that gives up (timeout) cancels the request context; a handler that
// still finished must be recorded, or the retry would run it again.
func TestHandlerCompletesAfterCancel(t *testing.T) {
	t.Parallel()

	rec := &recorder{}
	var cancel context.CancelFunc
	fn := func(ctx context.Context, e *webhook.Event) error {
		cancel()
		return rec.handle(ctx, e)
	}
	h := webhook.NewHandler(newVerifier(t, testSecret), fn, webhook.WithDeduper(ctxDeduper{webhook.NewMemoryDeduper(time.Hour)}))

	r := signedRequest(t, "evt_1", eventBody("evt_1"))
	ctx, c := context.WithCancel(r.Context())
	cancel = c
	serve(h, r.WithContext(ctx))

	cancel = func() {}
	if w := serve(h, signedRequest(t, "evt_1", eventBody("evt_1"))); w.Code != http.StatusOK || rec.calls() != 1 {
		t.Fatalf("redelivery: status %d, %d calls; want 200, 1", w.Code, rec.calls())
	}
}

func TestHandlerWithoutDeduper(t *testing.T) {
	t.Parallel()

	rec := &recorder{}
	h := webhook.NewHandler(newVerifier(t, testSecret), rec.handle, webhook.WithDeduper(nil))
	for range 2 {
		if w := serve(h, signedRequest(t, "evt_1", eventBody("evt_1"))); w.Code != http.StatusOK {
			t.Fatalf("status %d", w.Code)
		}
	}
	if rec.calls() != 2 {
		t.Fatalf("fn called %d times, want 2", rec.calls())
	}
}

// brokenDeduper fails every call, as a store that is down.
type brokenDeduper struct{}

func (brokenDeduper) Claim(context.Context, string) (webhook.ClaimStatus, error) {
	return 0, errors.New("connection refused")
}
func (brokenDeduper) Complete(context.Context, string) error { return errors.New("connection refused") }
func (brokenDeduper) Release(context.Context, string) error  { return errors.New("connection refused") }

var _ webhook.Deduper = brokenDeduper{}

func TestHandlerDeduperDown(t *testing.T) {
	t.Parallel()

	rec := &recorder{}
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	h := webhook.NewHandler(newVerifier(t, testSecret), rec.handle, webhook.WithDeduper(brokenDeduper{}), webhook.WithLogger(logger))
	w := serve(h, signedRequest(t, "evt_1", eventBody("evt_1")))
	if w.Code != http.StatusInternalServerError || rec.calls() != 0 {
		t.Fatalf("status %d, %d calls; want 500 and no call", w.Code, rec.calls())
	}
	if strings.Contains(w.Body.String(), "connection refused") {
		t.Fatalf("body leaks the store error: %q", w.Body)
	}
	if !strings.Contains(logs.String(), "webhook_id=evt_1") || !strings.Contains(logs.String(), "connection refused") {
		t.Fatalf("log lacks the id or the error: %s", logs.String())
	}
}

func TestHandlerLogsFailures(t *testing.T) {
	t.Parallel()

	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	rec := &recorder{err: func(int) error { return errors.New("disk full") }}
	h := webhook.NewHandler(newVerifier(t, testSecret), rec.handle, webhook.WithLogger(logger))
	serve(h, signedRequest(t, "evt_1", eventBody("evt_1")))
	for _, want := range []string{"webhook_id=evt_1", "status=500", "disk full"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q: %s", want, logs.String())
		}
	}
}

func TestNewHandlerPanicsOnNil(t *testing.T) {
	t.Parallel()

	for name, f := range map[string]func(){
		"NilVerifier": func() { webhook.NewHandler(nil, (&recorder{}).handle) },
		"NilFunc":     func() { webhook.NewHandler(newVerifier(t, testSecret), nil) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			f()
		})
	}
}

func TestPermanent(t *testing.T) {
	t.Parallel()

	base := errors.New("bad")
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"Nil", nil, false},
		{"Plain", base, false},
		{"Permanent", webhook.Permanent(base), true},
		{"Wrapped", errors.Join(errors.New("x"), webhook.Permanent(base)), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := webhook.IsPermanent(tt.err); got != tt.want {
				t.Fatalf("IsPermanent = %v, want %v", got, tt.want)
			}
		})
	}
	if webhook.Permanent(nil) != nil {
		t.Fatal("Permanent(nil) != nil")
	}
	if p := webhook.Permanent(base); !errors.Is(p, base) || p.Error() != "bad" {
		t.Fatalf("Permanent(base) = %v, does not wrap base", p)
	}
}
