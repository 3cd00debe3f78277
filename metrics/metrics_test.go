package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/internal/testdb"
	"github.com/agenthooks/agenthooks/metrics"
	"github.com/agenthooks/agenthooks/storetest"
)

// countingStore counts the reads the metrics make and can fail them.
type countingStore struct {
	agenthooks.Store
	reads atomic.Int64
	fail  atomic.Bool
}

func (s *countingStore) Read(ctx context.Context, fn func(agenthooks.Tx) error) error {
	s.reads.Add(1)
	if s.fail.Load() {
		return agenthooks.Unavailable(errors.New("injected"))
	}
	return s.Store.Read(ctx, fn)
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /metrics: %d", rec.Code)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

// value returns the value of the series named exactly by series (name and
// labels as exposed), or fails.
func value(t *testing.T, text, series string) float64 {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`)
	m := re.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no series %s in:\n%s", series, text)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

type bundle struct {
	store *countingStore
	clock *clock
	m     *metrics.Metrics
}

func setup(t *testing.T) *bundle {
	t.Helper()
	c := &clock{t: time.Now().Truncate(time.Microsecond)} // what the store keeps
	s := &countingStore{Store: testdb.OpenSQLite(t, time.Now)}
	return &bundle{store: s, clock: c, m: metrics.New(metrics.Options{Store: s, Version: "test", Role: "all", Now: c.Now})}
}

func TestMetrics(t *testing.T) {
	t.Parallel()

	t.Run("Series", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// Two pending deliveries, one due a minute ago, and a succeeded one.
		acct := &agenthooks.Account{ID: storetest.NewID(), Name: "a", CreatedAt: time.Now()}
		w := &agenthooks.Webhook{ID: storetest.NewID(), AccountID: acct.ID, Name: "w", Endpoint: "https://example.com/", Secret: "whsec_x",
			Enabled: true, Events: []string{agenthooks.EventConversationClosed}, Ordering: "none", Headers: map[string]string{}, CreatedAt: time.Now(), UpdatedAt: time.Now()}
		err := b.store.Write(t.Context(), func(tx agenthooks.Tx) error {
			if err := tx.CreateAccount(acct, "h"); err != nil {
				return err
			}
			if err := tx.CreateWebhook(w); err != nil {
				return err
			}
			for i, st := range []string{agenthooks.DeliveryPending, agenthooks.DeliveryPending, agenthooks.DeliverySucceeded} {
				e := &agenthooks.Event{ID: storetest.NewID(), AccountID: acct.ID, Type: agenthooks.EventConversationClosed, Payload: []byte(`{}`), CreatedAt: time.Now()}
				if err := tx.CreateEvent(e); err != nil {
					return err
				}
				due := b.clock.Now().Add(time.Duration(i-1) * time.Minute) // the metrics' clock: one a minute late
				if err := tx.CreateDelivery(&agenthooks.Delivery{ID: storetest.NewID(), AccountID: acct.ID, EventID: e.ID, WebhookID: w.ID,
					Status: st, NextAttemptAt: due, CreatedAt: time.Now(), UpdatedAt: time.Now()}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		b.m.EventCreated(agenthooks.EventConversationClosed)
		b.m.EventCreated(agenthooks.EventConversationClosed)
		b.m.AttemptFinished(w.ID, metrics.OutcomeSucceeded, 30*time.Millisecond)
		b.m.AttemptFinished(w.ID, metrics.OutcomeTimeout, 15*time.Second)
		b.m.AttemptFinished(w.ID, "something else", time.Second)
		b.m.CircuitChanged("w1", true)
		b.m.CircuitChanged("w2", true)
		b.m.CircuitChanged("w1", true)
		b.m.CircuitChanged("w2", false)

		text := scrape(t, b.m)
		for series, want := range map[string]float64{
			`agenthooks_events_total{event="conversation.closed"}`:            2,
			`agenthooks_events_total{event="captured_form.created"}`:          0,
			`agenthooks_delivery_attempts_total{outcome="succeeded"}`:         1,
			`agenthooks_delivery_attempts_total{outcome="timeout"}`:           1,
			`agenthooks_delivery_attempts_total{outcome="failed"}`:            1,
			`agenthooks_delivery_attempts_total{outcome="blocked"}`:           0,
			`agenthooks_delivery_attempt_duration_seconds_bucket{le="0.05"}`:  1,
			`agenthooks_delivery_attempt_duration_seconds_bucket{le="15"}`:    3,
			`agenthooks_delivery_attempt_duration_seconds_count`:              3,
			`agenthooks_webhooks_circuit_open`:                                1,
			`agenthooks_deliveries{status="pending"}`:                         2,
			`agenthooks_deliveries{status="succeeded"}`:                       1,
			`agenthooks_deliveries{status="failed"}`:                          0,
			`agenthooks_up`:                                                   1,
			`agenthooks_build_info{role="all",store="sqlite",version="test"}`: 1,
		} {
			if got := value(t, text, series); got != want {
				t.Errorf("%s = %v, want %v", series, got, want)
			}
		}
		if late := value(t, text, "agenthooks_queue_oldest_due_seconds"); late != 60 {
			t.Errorf("agenthooks_queue_oldest_due_seconds = %v, want 60", late)
		}
		for _, name := range []string{"go_goroutines", "go_memstats_alloc_bytes", "process_cpu_seconds_total", "process_resident_memory_bytes"} {
			if !strings.Contains(text, "\n"+name+" ") {
				t.Errorf("no %s series", name)
			}
		}
	})

	t.Run("Cached", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for range 5 {
			scrape(t, b.m)
		}
		if n := b.store.reads.Load(); n != 1 {
			t.Errorf("5 scrapes within the cache period read the store %d times, want 1", n)
		}
		b.clock.Add(5 * time.Second)
		scrape(t, b.m)
		if n := b.store.reads.Load(); n != 2 {
			t.Errorf("a scrape after the cache period: %d reads in all, want 2", n)
		}
	})

	t.Run("StoreDown", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.store.fail.Store(true)
		text := scrape(t, b.m)
		if v := value(t, text, "agenthooks_up"); v != 0 {
			t.Errorf("agenthooks_up = %v with the store down, want 0", v)
		}
		if !strings.Contains(text, "agenthooks_delivery_attempts_total") || !strings.Contains(text, "go_goroutines") {
			t.Error("the process's own series are missing while the store is down")
		}
		b.store.fail.Store(false)
		b.clock.Add(5 * time.Second)
		if v := value(t, scrape(t, b.m), "agenthooks_up"); v != 1 {
			t.Errorf("agenthooks_up = %v with the store back, want 1", v)
		}
	})
}

// Own event types count under their name up to MaxOwnEventLabels distinct
// names per process, then under "other"; built-in types always under theirs.
func TestOwnEventLabelsAreBounded(t *testing.T) {
	t.Parallel()
	m := metrics.New(metrics.Options{Version: "test", Role: "all"})
	for i := range metrics.MaxOwnEventLabels + 20 {
		m.EventCreated("own.type_" + strconv.Itoa(i))
	}
	m.EventCreated("own.type_0")                                            // a name that has its label keeps it
	m.EventCreated("own.type_" + strconv.Itoa(metrics.MaxOwnEventLabels+5)) // one past the cap stays other
	m.EventCreated(agenthooks.EventConversationClosed)
	text := scrape(t, m)
	if got := value(t, text, `agenthooks_events_total{event="own.type_0"}`); got != 2 {
		t.Errorf("own.type_0 = %v, want 2", got)
	}
	if got := value(t, text, `agenthooks_events_total{event="other"}`); got != 21 {
		t.Errorf("other = %v, want 21 (the 20 past the cap and one more)", got)
	}
	if got := value(t, text, `agenthooks_events_total{event="conversation.closed"}`); got != 1 {
		t.Errorf("conversation.closed = %v, want 1", got)
	}
	if n := strings.Count(text, `agenthooks_events_total{event="own.`); n != metrics.MaxOwnEventLabels {
		t.Errorf("%d own-type series, want %d", n, metrics.MaxOwnEventLabels)
	}
}
