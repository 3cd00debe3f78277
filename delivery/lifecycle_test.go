package delivery_test

import (
	"bytes"
	"context"
	"encoding/json"
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

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/delivery"
	"github.com/agenthooks/agenthooks/egress"
	"github.com/agenthooks/agenthooks/internal/testdb"
)

// Start and Stop are guarded against misuse: Stop before Start returns at
// once, a second Start is an error, Stop is idempotent, a stopped pool does
// not start again.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	store := testdb.OpenSQLite(t, time.Now)
	ctx := context.Background()

	p := delivery.New(delivery.Options{Store: store})
	if err := p.Stop(ctx); err != nil {
		t.Errorf("Stop before Start = %v, want nil", err)
	}
	if err := p.Start(ctx); !errors.Is(err, delivery.ErrStopped) {
		t.Errorf("Start after Stop = %v, want ErrStopped", err)
	}

	p = delivery.New(delivery.Options{Store: store})
	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := p.Start(done); !errors.Is(err, context.Canceled) {
		t.Errorf("Start with a done context = %v, want its error", err)
	}
	if err := p.Start(ctx); err != nil {
		t.Fatalf("Start = %v", err)
	}
	if err := p.Start(ctx); !errors.Is(err, delivery.ErrStarted) {
		t.Errorf("second Start = %v, want ErrStarted", err)
	}
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if err := p.Stop(ctx); err != nil {
				t.Errorf("Stop = %v", err)
			}
		})
	}
	wg.Wait()
	if err := p.Stop(ctx); err != nil {
		t.Errorf("Stop again = %v", err)
	}
}

// observer records what the pool tells it.
type observer struct {
	mu       sync.Mutex
	outcomes map[string]int
	circuit  []bool
}

func (o *observer) AttemptFinished(webhookID, outcome string, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.outcomes == nil {
		o.outcomes = map[string]int{}
	}
	o.outcomes[outcome]++
}

func (o *observer) CircuitChanged(webhookID string, open bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.circuit = append(o.circuit, open)
}

func (o *observer) count(outcome string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.outcomes[outcome]
}

func (o *observer) changes() []bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]bool(nil), o.circuit...)
}

// The Observer hears each attempt's outcome (succeeded, failed, timeout,
// blocked) and the circuit opening and closing.
func TestObserver(t *testing.T) {
	t.Parallel()
	testdb.ForEachEngine(t, func(t *testing.T, e testdb.Engine) {
		t.Parallel()
		t.Run("Outcomes", func(t *testing.T) {
			t.Parallel()
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch n.Add(1) {
				case 1:
					w.WriteHeader(http.StatusBadGateway)
				case 2:
					_, _ = io.Copy(io.Discard, r.Body) // so that the server sees the client go
					<-r.Context().Done()               // past the attempt's timeout
				}
			}))
			defer srv.Close()
			f := newFixture(t, e, srv.URL)
			d := f.fire()
			obs := &observer{}
			startPool(t, f, delivery.Options{Observer: obs, Timeout: 200 * time.Millisecond})
			waitFor(t, "success after a failure and a timeout", func() bool { return f.delivery(d.ID).Status == agenthooks.DeliverySucceeded })
			for outcome, want := range map[string]int{delivery.OutcomeFailed: 1, delivery.OutcomeTimeout: 1, delivery.OutcomeSucceeded: 1} {
				if got := obs.count(outcome); got != want {
					t.Errorf("%s attempts observed: %d, want %d", outcome, got, want)
				}
			}
		})
		t.Run("Blocked", func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			defer srv.Close()
			f := newFixture(t, e, srv.URL)
			d := f.fire()
			obs := &observer{}
			// The production client, refusing loopback.
			startPool(t, f, delivery.Options{Observer: obs, Client: egress.NewClient(egress.Options{Timeout: time.Second})})
			waitFor(t, "a blocked attempt", func() bool { return obs.count(delivery.OutcomeBlocked) >= 1 })
			if n := obs.count(delivery.OutcomeFailed) + obs.count(delivery.OutcomeTimeout); n != 0 {
				t.Errorf("%d refused attempts observed as failed or timeout, want blocked", n)
			}
			// Refused by the policy: failed at once, not retried on the schedule.
			waitFor(t, "the refused delivery to end failed", func() bool { return f.delivery(d.ID).Status == agenthooks.DeliveryFailed })
			if got := f.delivery(d.ID); got.AttemptCount != 1 || !strings.Contains(got.LastError, "address") {
				t.Errorf("refused delivery: %d attempts, last error %q; want 1, the policy's reason", got.AttemptCount, got.LastError)
			}
		})
		t.Run("Circuit", func(t *testing.T) {
			t.Parallel()
			var healthy atomic.Bool
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !healthy.Load() {
					w.WriteHeader(http.StatusInternalServerError)
				}
			}))
			defer srv.Close()
			f := newFixture(t, e, srv.URL)
			for range 3 {
				f.fire()
			}
			obs := &observer{}
			startPool(t, f, delivery.Options{Observer: obs, CircuitThreshold: 2, CircuitCooldown: 20 * time.Millisecond, Workers: 1,
				Policy: &delivery.Policy{Schedule: []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond}}})
			waitFor(t, "the circuit to open", func() bool { return len(obs.changes()) >= 1 })
			healthy.Store(true)
			waitFor(t, "the circuit to close", func() bool { return len(obs.changes()) >= 2 })
			if got := obs.changes(); len(got) != 2 || !got[0] || got[1] {
				t.Errorf("circuit changes %v, want open then closed", got)
			}
		})
	})
}

// Each failed attempt is one log line with the delivery's ids, the attempt,
// the status code, the error and the next attempt's time: info while it
// will be retried, warn when it ended the delivery failed.
func TestFailedAttemptLogLine(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	defer srv.Close()
	f := newFixture(t, testdb.Engines()[0], srv.URL)
	d := f.fire()
	var mu sync.Mutex
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(lockedWriter{&mu, &buf}, nil))
	p := startPool(t, f, delivery.Options{Logger: log, Policy: &delivery.Policy{Schedule: []time.Duration{time.Millisecond}}})
	waitFor(t, "failed", func() bool { return f.delivery(d.ID).Status == agenthooks.DeliveryFailed })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if m["delivery_id"] == d.ID {
			lines = append(lines, m)
		}
	}
	if len(lines) != 2 {
		t.Fatalf("%d log lines about the delivery, want one per failed attempt (2): %s", len(lines), buf.String())
	}
	for i, want := range []struct {
		level   string
		attempt float64
		next    bool
	}{{"INFO", 1, true}, {"WARN", 2, false}} {
		l := lines[i]
		if l["level"] != want.level || l["attempt"] != want.attempt || l["event_id"] != d.EventID || l["webhook_id"] != d.WebhookID ||
			l["status_code"] != 503.0 || l["error"] != "HTTP 503" || (l["next_attempt_at"] != nil) != want.next {
			t.Errorf("log line %d: %v", i+1, l)
		}
		if _, ok := l["next_attempt_at"]; !ok {
			t.Errorf("log line %d has no next_attempt_at key: %v", i+1, l)
		}
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// An attempt that got no answer logs status_code=0 (the contract names the
// key on every failed attempt's line): text logs printed it as
// status_code=<nil>.
func TestFailedAttemptLogNoStatus(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	url := srv.URL
	srv.Close() // nothing listens: connection refused
	f := newFixture(t, testdb.Engines()[0], url)
	d := f.fire()
	var mu sync.Mutex
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, nil))
	p := startPool(t, f, delivery.Options{Logger: log, Policy: &delivery.Policy{Schedule: []time.Duration{}}})
	waitFor(t, "failed", func() bool { return f.delivery(d.ID).Status == agenthooks.DeliveryFailed })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(buf.String(), "delivery_id="+d.ID) {
		t.Fatalf("no log line about the delivery: %s", buf.String())
	}
	if !strings.Contains(buf.String(), "status_code=0 ") || strings.Contains(buf.String(), "status_code=<nil>") {
		t.Errorf("a failed attempt with no answer logs no status_code=0 (or a <nil>): %s", buf.String())
	}
}
