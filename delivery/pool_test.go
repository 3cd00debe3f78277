package delivery_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/delivery"
	"github.com/agenthooks/agenthooks/internal/testdb"
	"github.com/agenthooks/agenthooks/service"
	"github.com/agenthooks/agenthooks/webhook/signature"
)

// fixture is an account with one webhook on an endpoint, an assistant using
// it and a widget: closing a conversation fires one delivery.
type fixture struct {
	t       *testing.T
	store   agenthooks.Store
	svc     *service.Service
	account string
	webhook *agenthooks.Webhook
	asst    string
	widget  string
}

func newFixture(t *testing.T, e testdb.Engine, endpoint string) *fixture {
	t.Helper()
	ctx := context.Background()
	store := e.Open(t, time.Now)
	svc := service.New(store, nil, nil)
	acc, err := svc.CreateAccount(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	wh, err := svc.CreateWebhook(ctx, acc.ID, service.WebhookInput{Name: "crm", Endpoint: endpoint})
	if err != nil {
		t.Fatal(err)
	}
	as, err := svc.CreateAssistant(ctx, acc.ID, service.AssistantInput{Name: "bot", WebhookID: wh.ID})
	if err != nil {
		t.Fatal(err)
	}
	wg, err := svc.CreateWidget(ctx, acc.ID, service.WidgetInput{AssistantID: as.ID, Name: "chat", WidgetType: "chat"})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, store: store, svc: svc, account: acc.ID, webhook: wh, asst: as.ID, widget: wg.ID}
}

// fire closes a new conversation and returns its delivery.
func (f *fixture) fire() *agenthooks.Delivery {
	f.t.Helper()
	ctx := context.Background()
	c, err := f.svc.CreateConversation(ctx, f.account, service.ConversationInput{AssistantID: f.asst, WidgetID: f.widget, DeviceType: "desktop"})
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.svc.CloseConversation(ctx, f.account, c.ID); err != nil {
		f.t.Fatal(err)
	}
	var d *agenthooks.Delivery
	err = f.store.Read(ctx, func(tx agenthooks.Tx) error {
		ds, _, err := tx.ListDeliveries(f.account, agenthooks.DeliveryFilter{WebhookID: f.webhook.ID}, agenthooks.Page{Page: 1, Size: 1})
		if err == nil && len(ds) == 1 {
			d = ds[0]
		}
		return err
	})
	if err != nil || d == nil {
		f.t.Fatalf("no delivery after close: %v", err)
	}
	return d
}

func (f *fixture) delivery(id string) *service.DeliveryView {
	f.t.Helper()
	d, err := f.svc.GetDelivery(context.Background(), f.account, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return d
}

// waitFor polls cond (a bound against hangs, not a speed assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func startPool(t *testing.T, f *fixture, o delivery.Options) *delivery.Pool {
	t.Helper()
	return startPoolPolling(t, f, o, 10*time.Millisecond)
}

// startPoolPolling is startPool with the given fallback poll.
func startPoolPolling(t *testing.T, f *fixture, o delivery.Options, poll time.Duration) *delivery.Pool {
	t.Helper()
	o.Store = f.store
	if o.Policy == nil {
		o.Policy = &delivery.Policy{Schedule: []time.Duration{20 * time.Millisecond, 20 * time.Millisecond}, Jitter: 0.2, RetryAfterMax: time.Hour}
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	o.PollInterval = poll
	p := delivery.New(o)
	if err := p.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = p.Stop(ctx) // a no-op if the test stopped it
	})
	return p
}

func TestPool(t *testing.T) {
	t.Parallel()
	testdb.ForEachEngine(t, func(t *testing.T, e testdb.Engine) {
		t.Parallel()

		t.Run("SignsAndSucceeds", func(t *testing.T) {
			t.Parallel()
			var got atomic.Value
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				got.Store([]any{r.Header.Clone(), body})
				w.Write([]byte("thanks"))
			}))
			defer srv.Close()
			f := newFixture(t, e, srv.URL)
			d := f.fire()
			startPool(t, f, delivery.Options{})
			waitFor(t, "success", func() bool { return f.delivery(d.ID).Status == agenthooks.DeliverySucceeded })
			v := got.Load().([]any)
			h, body := v[0].(http.Header), v[1].([]byte)
			key, _ := signature.ParseSecret(f.webhook.Secret)
			if err := signature.Verify([][]byte{key}, h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature"), body, time.Now(), time.Minute); err != nil {
				t.Errorf("signature does not verify: %v", err)
			}
			if h.Get("webhook-id") != d.EventID {
				t.Errorf("webhook-id %q, want the event id %q", h.Get("webhook-id"), d.EventID)
			}
			dv := f.delivery(d.ID)
			if len(dv.Attempts) != 1 || dv.Attempts[0].StatusCode != 200 || dv.Attempts[0].ResponseBody != "thanks" || dv.AttemptCount != 1 {
				t.Errorf("attempts %+v", dv.Attempts)
			}
		})

		t.Run("RotationSignsWithBoth", func(t *testing.T) {
			t.Parallel()
			var got atomic.Value
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				got.Store([]any{r.Header.Clone(), body})
			}))
			defer srv.Close()
			f := newFixture(t, e, srv.URL)
			old := f.webhook.Secret
			rotated, err := f.svc.RotateSecret(context.Background(), f.account, f.webhook.ID)
			if err != nil {
				t.Fatal(err)
			}
			d := f.fire()
			startPool(t, f, delivery.Options{})
			waitFor(t, "success", func() bool { return f.delivery(d.ID).Status == agenthooks.DeliverySucceeded })
			v := got.Load().([]any)
			h, body := v[0].(http.Header), v[1].([]byte)
			if n := strings.Count(h.Get("webhook-signature"), "v1,"); n != 2 {
				t.Fatalf("webhook-signature %q: want two v1 signatures during a rotation", h.Get("webhook-signature"))
			}
			for name, secret := range map[string]string{"new": rotated.Secret, "old": old} {
				key, _ := signature.ParseSecret(secret)
				if err := signature.Verify([][]byte{key}, h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature"), body, time.Now(), time.Minute); err != nil {
					t.Errorf("the %s secret does not verify during the rotation: %v", name, err)
				}
			}
		})

		t.Run("GoneDisablesWebhook", func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusGone) }))
			defer srv.Close()
			f := newFixture(t, e, srv.URL)
			first, second := f.fire(), f.fire()
			startPool(t, f, delivery.Options{Workers: 1})
			waitFor(t, "both failed", func() bool {
				return f.delivery(first.ID).Status == agenthooks.DeliveryFailed && f.delivery(second.ID).Status == agenthooks.DeliveryFailed
			})
			w, err := f.svc.GetWebhook(context.Background(), f.account, f.webhook.ID)
			if err != nil {
				t.Fatal(err)
			}
			if w.Enabled || w.DisabledReason != agenthooks.DisabledGone {
				t.Errorf("webhook enabled=%v reason=%q, want disabled with reason gone", w.Enabled, w.DisabledReason)
			}
		})

		t.Run("FailureStreakFeedsAutoDisable", func(t *testing.T) {
			t.Parallel()
			// The first attempt fails; the retry waits for the test to have
			// seen the streak start, then succeeds.
			var n atomic.Int32
			healthy := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) == 1 {
					w.WriteHeader(http.StatusBadGateway)
					return
				}
				select {
				case <-healthy:
				case <-r.Context().Done():
				}
			}))
			defer srv.Close()
			var once sync.Once
			heal := func() { once.Do(func() { close(healthy) }) }
			defer heal() // before srv.Close, which waits for the handler
			f := newFixture(t, e, srv.URL)
			d := f.fire()
			startPool(t, f, delivery.Options{Timeout: time.Minute, Policy: &delivery.Policy{Schedule: []time.Duration{50 * time.Millisecond}}})
			webhook := func() *agenthooks.Webhook {
				w, err := f.svc.GetWebhook(context.Background(), f.account, f.webhook.ID)
				if err != nil {
					t.Fatal(err)
				}
				return w
			}
			waitFor(t, "a failed attempt", func() bool { return f.delivery(d.ID).AttemptCount >= 1 })
			waitFor(t, "the streak to start", func() bool { return !webhook().FailingSince.IsZero() })
			heal()
			waitFor(t, "success", func() bool { return f.delivery(d.ID).Status == agenthooks.DeliverySucceeded })
			waitFor(t, "the streak to end", func() bool { return webhook().FailingSince.IsZero() })
		})

		t.Run("RedirectIsAFailure", func(t *testing.T) {
			t.Parallel()
			var followed atomic.Int32
			target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { followed.Add(1) }))
			defer target.Close()
			srv := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusFound))
			defer srv.Close()
			f := newFixture(t, e, srv.URL)
			d := f.fire()
			startPool(t, f, delivery.Options{Client: noRedirects()})
			waitFor(t, "failed", func() bool { return f.delivery(d.ID).Status == agenthooks.DeliveryFailed })
			dv := f.delivery(d.ID)
			if len(dv.Attempts) != 3 || dv.Attempts[0].StatusCode != http.StatusFound {
				t.Errorf("attempts %+v, want 3 attempts answered 302", dv.Attempts)
			}
			if followed.Load() != 0 {
				t.Errorf("the redirect was followed %d times", followed.Load())
			}
		})

		t.Run("RetryAfterPushesBack", func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "3600")
				w.WriteHeader(http.StatusTooManyRequests)
			}))
			defer srv.Close()
			f := newFixture(t, e, srv.URL)
			d := f.fire()
			startPool(t, f, delivery.Options{})
			waitFor(t, "an attempt", func() bool { return f.delivery(d.ID).AttemptCount == 1 })
			dv := f.delivery(d.ID)
			if dv.Status != agenthooks.DeliveryPending || time.Until(dv.NextAttemptAt) < 59*time.Minute {
				t.Errorf("after 429 Retry-After: 3600 the next attempt is at %v (status %s), want an hour away", dv.NextAttemptAt, dv.Status)
			}
		})

		t.Run("DisabledWebhookWaits", func(t *testing.T) {
			t.Parallel()
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
			defer srv.Close()
			f := newFixture(t, e, srv.URL)
			d := f.fire()
			off, on := false, true
			ctx := context.Background()
			if _, err := f.svc.UpdateWebhook(ctx, f.account, f.webhook.ID, service.WebhookPatch{Enabled: &off}); err != nil {
				t.Fatal(err)
			}
			p := startPool(t, f, delivery.Options{})
			// Three claims that committed looked at the queue after the
			// delivery was stored, and found nothing they may take.
			waitFor(t, "three claims", func() bool { return p.Stats().Claims >= 3 })
			if hits.Load() != 0 || f.delivery(d.ID).Status != agenthooks.DeliveryPending {
				t.Fatalf("a disabled webhook got %d requests", hits.Load())
			}
			if _, err := f.svc.UpdateWebhook(ctx, f.account, f.webhook.ID, service.WebhookPatch{Enabled: &on}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "delivery after enabling", func() bool { return f.delivery(d.ID).Status == agenthooks.DeliverySucceeded })
		})

		t.Run("PerWebhookCap", func(t *testing.T) {
			t.Parallel()
			var cur, peak atomic.Int32
			release := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := cur.Add(1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				<-release
				cur.Add(-1)
			}))
			defer srv.Close()
			defer close(release)
			f := newFixture(t, e, srv.URL)
			for range 6 {
				f.fire()
			}
			p := startPool(t, f, delivery.Options{MaxInFlightPerWebhook: 2, Workers: 16})
			waitFor(t, "two requests in flight", func() bool { return cur.Load() == 2 })
			// Two more are parked behind them and the last two were claimed
			// and handed back: every delivery met the cap.
			waitFor(t, "deliveries held back by the cap", func() bool { return p.Stats().HeldBack >= 2 })
			if peak.Load() != 2 {
				t.Errorf("peak in flight to one webhook = %d, want the cap 2", peak.Load())
			}
		})

		t.Run("ParallelWriters", func(t *testing.T) {
			// Four completion writers claim in parallel: never more attempts
			// than workers, every delivery made exactly once, and a stop in
			// the middle loses nothing.
			t.Parallel()
			var cur, peak, total atomic.Int32
			var seen sync.Map
			var dup atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := cur.Add(1)
				defer cur.Add(-1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				if _, loaded := seen.LoadOrStore(r.Header.Get("webhook-id"), true); loaded {
					dup.Add(1)
				}
				total.Add(1)
				time.Sleep(2 * time.Millisecond)
			}))
			defer srv.Close()
			f := newFixture(t, e, srv.URL)
			const n = 60
			for range n {
				f.fire()
			}
			p := startPool(t, f, delivery.Options{Workers: 3, Writers: 4})
			waitFor(t, "half of the deliveries", func() bool { return total.Load() >= n/2 })
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := p.Stop(ctx); err != nil {
				t.Errorf("Stop: %v", err)
			}
			cancel()
			p = startPool(t, f, delivery.Options{Workers: 3, Writers: 4})
			waitFor(t, "every delivery", func() bool { return f.statuses(f.webhook.ID)[agenthooks.DeliverySucceeded] == n })
			ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
			if err := p.Stop(ctx); err != nil {
				t.Errorf("Stop: %v", err)
			}
			cancel()
			if peak.Load() > 3 {
				t.Errorf("peak attempts in flight = %d, want at most the 3 workers", peak.Load())
			}
			if dup.Load() != 0 || total.Load() != n {
				t.Errorf("%d requests with %d repeated event ids, want %d and none", total.Load(), dup.Load(), n)
			}
		})

		t.Run("StopReleasesHungAttempts", func(t *testing.T) {
			t.Parallel()
			hang := make(chan struct{})
			var started atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				started.Add(1)
				select {
				case <-hang:
				case <-r.Context().Done():
				}
			}))
			defer srv.Close()
			defer close(hang)
			f := newFixture(t, e, srv.URL)
			d := f.fire()
			o := delivery.Options{Store: f.store, Timeout: time.Minute, PollInterval: 10 * time.Millisecond}
			p := delivery.New(o)
			if err := p.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the attempt to start", func() bool { return started.Load() == 1 })
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			if err := p.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Stop cutting an attempt short returned %v, want its context's error", err)
			}
			dv := f.delivery(d.ID)
			if dv.Status != agenthooks.DeliveryPending || dv.AttemptCount != 0 || len(dv.Attempts) != 0 {
				t.Errorf("after a hard stop: status %s, attempts %d, want pending with no attempt counted", dv.Status, dv.AttemptCount)
			}
			if time.Until(dv.NextAttemptAt) > time.Second {
				t.Errorf("released delivery is due at %v, want now", dv.NextAttemptAt)
			}
		})
	})
}

// noRedirects is a client like egress's: a 3xx is returned, not followed.
func noRedirects() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func decode(t *testing.T, r *http.Request) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		t.Errorf("body is not JSON: %v", err)
	}
	return m
}
