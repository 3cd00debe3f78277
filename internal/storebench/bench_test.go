package storebench_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/internal/testdb"
	"github.com/agenthooks/agenthooks/service"
	"github.com/agenthooks/agenthooks/sqlite"
)

// world is an account with webhooks, an assistant per webhook and a widget
// each, on a fresh database of one engine.
type world struct {
	store    agenthooks.Store
	svc      *service.Service
	account  string
	webhooks []*agenthooks.Webhook
	assist   []string
	widgets  []string
}

// forEachEngine runs fn as one sub-benchmark per engine.
func forEachEngine(b *testing.B, fn func(b *testing.B, w *world)) {
	for _, e := range testdb.Engines() {
		b.Run(e.Name, func(b *testing.B) { fn(b, newWorld(b, e, 10)) })
	}
}

func newWorld(b *testing.B, e testdb.Engine, webhooks int) *world {
	b.Helper()
	s := e.Open(b, time.Now)
	w := &world{store: s, svc: service.New(s, nil, nil)}
	ctx := context.Background()
	acct, err := w.svc.CreateAccount(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	w.account = acct.ID
	for i := range webhooks {
		wh, err := w.svc.CreateWebhook(ctx, w.account, service.WebhookInput{
			Name: fmt.Sprintf("hook %d", i), Endpoint: "http://127.0.0.1:1/hook", Events: []string{agenthooks.EventConversationClosed},
		})
		if err != nil {
			b.Fatal(err)
		}
		a, err := w.svc.CreateAssistant(ctx, w.account, service.AssistantInput{Name: "a", WebhookID: wh.ID})
		if err != nil {
			b.Fatal(err)
		}
		wi, err := w.svc.CreateWidget(ctx, w.account, service.WidgetInput{AssistantID: a.ID, Name: "chat", WidgetType: "chat"})
		if err != nil {
			b.Fatal(err)
		}
		w.webhooks = append(w.webhooks, wh)
		w.assist = append(w.assist, a.ID)
		w.widgets = append(w.widgets, wi.ID)
	}
	return w
}

// groupCommits reports, on SQLite, the mean number of writes per group
// commit since before (the writer's Stats).
func (w *world) groupCommits(b *testing.B, before sqlite.Stats) {
	s, ok := w.store.(*sqlite.Store)
	if !ok {
		return
	}
	after := s.Stats()
	if n := after.Commits - before.Commits; n > 0 {
		b.ReportMetric(float64(after.Writes-before.Writes)/float64(n), "writes/commit")
	}
}

// stats returns the SQLite writer's counters (zero on PostgreSQL).
func (w *world) stats() sqlite.Stats {
	if s, ok := w.store.(*sqlite.Store); ok {
		return s.Stats()
	}
	return sqlite.Stats{}
}

// relaxed runs fn as the delivery pool writes its bookkeeping:
// the commit may return before it is durable (agenthooks.Store.WriteRelaxed).
func (w *world) relaxed(b *testing.B, fn func(agenthooks.Tx) error) {
	b.Helper()
	if err := w.store.WriteRelaxed(context.Background(), fn); err != nil {
		b.Fatal(err)
	}
}

// conversations creates n open conversations, spread over the assistants.
func (w *world) conversations(b *testing.B, n int) []string {
	b.Helper()
	ids := make([]string, n)
	for start := 0; start < n; start += 1000 {
		err := w.store.Write(context.Background(), func(tx agenthooks.Tx) error {
			for i := start; i < min(n, start+1000); i++ {
				k := i % len(w.assist)
				c := &agenthooks.Conversation{ID: service.NewID(), AccountID: w.account, AssistantID: w.assist[k], WidgetID: w.widgets[k],
					DeviceType: "desktop", LastActivityAt: tx.Now(), CreatedAt: tx.Now(), UpdatedAt: tx.Now()}
				if err := tx.CreateConversation(c); err != nil {
					return err
				}
				ids[i] = c.ID
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return ids
}

var body = []byte(`{"id":"x","object":"event","event":"conversation.closed","created_at":"2026-01-01 00:00:00","data":{}}`)

// deliveries stores n events with one due delivery each, as closes would.
func (w *world) deliveries(b *testing.B, n int) {
	b.Helper()
	for start := 0; start < n; start += 1000 {
		err := w.store.Write(context.Background(), func(tx agenthooks.Tx) error {
			for i := start; i < min(n, start+1000); i++ {
				if err := w.event(tx, w.webhooks[i%len(w.webhooks)]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// event stores an event and its delivery to wh, the rows one close adds.
func (w *world) event(tx agenthooks.Tx, wh *agenthooks.Webhook) error {
	e := &agenthooks.Event{ID: service.NewID(), AccountID: w.account, Type: agenthooks.EventConversationClosed, ConversationID: service.NewID(), Payload: body, CreatedAt: tx.Now()}
	if err := tx.CreateEvent(e); err != nil {
		return err
	}
	d := &agenthooks.Delivery{ID: service.NewID(), AccountID: w.account, EventID: e.ID, WebhookID: wh.ID, ConversationID: e.ConversationID,
		Status: agenthooks.DeliveryPending, NextAttemptAt: tx.Now(), CreatedAt: tx.Now(), UpdatedAt: tx.Now()}
	return tx.CreateDelivery(d)
}

func (w *world) claim(b *testing.B, n int) []*agenthooks.Job {
	b.Helper()
	var jobs []*agenthooks.Job
	w.relaxed(b, func(tx agenthooks.Tx) error {
		var err error
		jobs, err = tx.ClaimDeliveries(n, tx.Now().Add(time.Minute))
		return err
	})
	return jobs
}

const batch = 256

// BenchmarkClaim claims batches of 256 due deliveries (one relaxed write
// each, as the pool makes them); one op is one batch.
func BenchmarkClaim(b *testing.B) {
	forEachEngine(b, func(b *testing.B, w *world) {
		w.deliveries(b, batch*20)
		left := batch * 20
		b.ResetTimer()
		for b.Loop() {
			if left < batch {
				b.StopTimer()
				w.deliveries(b, batch*20)
				left += batch * 20
				b.StartTimer()
			}
			if got := len(w.claim(b, batch)); got != batch {
				b.Fatalf("claimed %d, want %d", got, batch)
			}
			left -= batch
		}
		b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "deliveries/s")
	})
}

// BenchmarkComplete records the outcomes of batches of 256 claimed
// deliveries, one successful attempt each, in one relaxed write, as the
// pool's completion writer does (CompleteDeliveries); one op is one batch.
func BenchmarkComplete(b *testing.B) {
	forEachEngine(b, func(b *testing.B, w *world) {
		ids := make([]string, 0, len(w.webhooks))
		for _, wh := range w.webhooks {
			ids = append(ids, wh.ID)
		}
		for b.Loop() {
			b.StopTimer()
			w.deliveries(b, batch)
			jobs := w.claim(b, batch)
			now := time.Now()
			outcomes := make([]*agenthooks.Outcome, len(jobs))
			for i, j := range jobs {
				outcomes[i] = &agenthooks.Outcome{DeliveryID: j.Delivery.ID, Lease: j.Lease, Status: agenthooks.DeliverySucceeded,
					Attempt: &agenthooks.Attempt{ID: service.NewID(), DeliveryID: j.Delivery.ID, AccountID: j.Delivery.AccountID, CreatedAt: now, StatusCode: 200, DurationMS: 1}}
			}
			b.StartTimer()
			w.relaxed(b, func(tx agenthooks.Tx) error {
				if err := tx.ClearWebhooksFailing(ids); err != nil {
					return err
				}
				return tx.CompleteDeliveries(outcomes)
			})
		}
		b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "deliveries/s")
	})
}

// BenchmarkGroupCommit runs many concurrent durable writes, each an event
// and its delivery (the rows an API call that fires an event adds). On
// SQLite they share transactions and fsyncs (writes/commit); on PostgreSQL
// each is its own transaction, and the server groups the WAL flushes.
func BenchmarkGroupCommit(b *testing.B) {
	forEachEngine(b, func(b *testing.B, w *world) {
		before := w.stats()
		b.SetParallelism(32) // 32 writers per core
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				err := w.store.Write(context.Background(), func(tx agenthooks.Tx) error { return w.event(tx, w.webhooks[0]) })
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
		w.groupCommits(b, before)
	})
}

// BenchmarkCloseConversation closes conversations through the service from
// many goroutines: the API's write path for conversation.closed (close,
// transcript, routing, payload, event, delivery).
func BenchmarkCloseConversation(b *testing.B) {
	forEachEngine(b, func(b *testing.B, w *world) {
		ids := w.conversations(b, max(b.N, 1))
		next := make(chan string, len(ids))
		for _, id := range ids {
			next <- id
		}
		close(next)
		before := w.stats()
		b.SetParallelism(32)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := w.svc.CloseConversation(context.Background(), w.account, <-next); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "closes/s")
		w.groupCommits(b, before)
	})
}
