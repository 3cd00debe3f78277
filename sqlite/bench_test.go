package sqlite_test

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

// The hot paths of the store, measured on a real file (synchronous=FULL, so
// the group commit's fsync is in the figures): run with
//
//	go test -run '^$' -bench . -benchtime 2s ./sqlite
//
// docs/benchmarks.md has the figures of this machine.

// benchWorld is an account with webhooks, an assistant per webhook and a
// widget each, stored directly through the Tx.
type benchWorld struct {
	store    *sqlite.Store
	svc      *service.Service
	account  string
	webhooks []*agenthooks.Webhook
	assist   []string
	widgets  []string
}

func newBenchWorld(b *testing.B, webhooks int) *benchWorld {
	b.Helper()
	s, err := sqlite.Open(context.Background(), testdb.SQLitePath(b), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	w := &benchWorld{store: s, svc: service.New(s, nil, nil)}
	acct, err := w.svc.CreateAccount(context.Background(), "bench")
	if err != nil {
		b.Fatal(err)
	}
	w.account = acct.ID
	for i := range webhooks {
		wh, err := w.svc.CreateWebhook(context.Background(), w.account, service.WebhookInput{
			Name: fmt.Sprintf("hook %d", i), Endpoint: "http://127.0.0.1:1/hook", Events: []string{agenthooks.EventConversationClosed},
		})
		if err != nil {
			b.Fatal(err)
		}
		a, err := w.svc.CreateAssistant(context.Background(), w.account, service.AssistantInput{Name: "a", WebhookID: wh.ID})
		if err != nil {
			b.Fatal(err)
		}
		wi, err := w.svc.CreateWidget(context.Background(), w.account, service.WidgetInput{AssistantID: a.ID, Name: "chat", WidgetType: "chat"})
		if err != nil {
			b.Fatal(err)
		}
		w.webhooks = append(w.webhooks, wh)
		w.assist = append(w.assist, a.ID)
		w.widgets = append(w.widgets, wi.ID)
	}
	return w
}

// conversations creates n open conversations, spread over the assistants.
func (w *benchWorld) conversations(b *testing.B, n int) []string {
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

// deliveries stores n events with one due delivery each, as closes would.
func (w *benchWorld) deliveries(b *testing.B, n int) {
	b.Helper()
	body := []byte(`{"id":"x","object":"event","event":"conversation.closed","created_at":"2026-01-01 00:00:00","data":{}}`)
	for start := 0; start < n; start += 1000 {
		err := w.store.Write(context.Background(), func(tx agenthooks.Tx) error {
			for i := start; i < min(n, start+1000); i++ {
				e := &agenthooks.Event{ID: service.NewID(), AccountID: w.account, Type: agenthooks.EventConversationClosed, ConversationID: service.NewID(), Payload: body, CreatedAt: tx.Now()}
				if err := tx.CreateEvent(e); err != nil {
					return err
				}
				wh := w.webhooks[i%len(w.webhooks)]
				d := &agenthooks.Delivery{ID: service.NewID(), AccountID: w.account, EventID: e.ID, WebhookID: wh.ID, ConversationID: e.ConversationID,
					Status: agenthooks.DeliveryPending, NextAttemptAt: tx.Now(), CreatedAt: tx.Now(), UpdatedAt: tx.Now()}
				if err := tx.CreateDelivery(d); err != nil {
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

func (w *benchWorld) claim(b *testing.B, n int) []*agenthooks.Job {
	b.Helper()
	var jobs []*agenthooks.Job
	err := w.store.WriteRelaxed(context.Background(), func(tx agenthooks.Tx) error {
		var err error
		jobs, err = tx.ClaimDeliveries(n, tx.Now().Add(time.Minute))
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return jobs
}

// BenchmarkClaim claims batches of 256 due deliveries (one relaxed write
// each); the figure per op is one batch.
func BenchmarkClaim(b *testing.B) {
	w := newBenchWorld(b, 10)
	const batch = 256
	w.deliveries(b, batch*100)
	left := batch * 100
	b.ResetTimer()
	for b.Loop() {
		if left < batch {
			b.StopTimer()
			w.deliveries(b, batch*100)
			left += batch * 100
			b.StartTimer()
		}
		if got := len(w.claim(b, batch)); got != batch {
			b.Fatalf("claimed %d, want %d", got, batch)
		}
		left -= batch
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "deliveries/s")
}

// BenchmarkComplete records the outcomes of batches of 256 claimed
// deliveries, one successful attempt each, in one relaxed write, as the
// pool's completion writer does.
func BenchmarkComplete(b *testing.B) {
	w := newBenchWorld(b, 10)
	const batch = 256
	for b.Loop() {
		b.StopTimer()
		w.deliveries(b, batch)
		jobs := w.claim(b, batch)
		now := time.Now()
		outcomes := make([]agenthooks.Outcome, len(jobs))
		for i, j := range jobs {
			outcomes[i] = agenthooks.Outcome{DeliveryID: j.Delivery.ID, Lease: j.Lease, Status: agenthooks.DeliverySucceeded,
				Attempt: &agenthooks.Attempt{ID: service.NewID(), DeliveryID: j.Delivery.ID, AccountID: j.Delivery.AccountID, CreatedAt: now, StatusCode: 200, DurationMS: 1}}
		}
		b.StartTimer()
		err := w.store.WriteRelaxed(context.Background(), func(tx agenthooks.Tx) error {
			ids := make([]string, 0, len(w.webhooks))
			for _, wh := range w.webhooks {
				ids = append(ids, wh.ID)
			}
			if err := tx.ClearWebhooksFailing(ids); err != nil {
				return err
			}
			for i := range outcomes {
				if err := tx.CompleteDelivery(&outcomes[i]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "deliveries/s")
}

// BenchmarkGroupCommit runs many concurrent durable writes, each an event
// and its delivery (the rows an API call that fires an event adds): they
// share transactions and fsyncs.
func BenchmarkGroupCommit(b *testing.B) {
	w := newBenchWorld(b, 10)
	body := []byte(`{"id":"x","object":"event","event":"conversation.closed","created_at":"2026-01-01 00:00:00","data":{}}`)
	stats := w.store.Stats()
	b.SetParallelism(32) // 32 writers per core
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			err := w.store.Write(context.Background(), func(tx agenthooks.Tx) error {
				e := &agenthooks.Event{ID: service.NewID(), AccountID: w.account, Type: agenthooks.EventConversationClosed, ConversationID: service.NewID(), Payload: body, CreatedAt: tx.Now()}
				if err := tx.CreateEvent(e); err != nil {
					return err
				}
				d := &agenthooks.Delivery{ID: service.NewID(), AccountID: w.account, EventID: e.ID, WebhookID: w.webhooks[0].ID, ConversationID: e.ConversationID,
					Status: agenthooks.DeliveryPending, NextAttemptAt: tx.Now(), CreatedAt: tx.Now(), UpdatedAt: tx.Now()}
				return tx.CreateDelivery(d)
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	after := w.store.Stats()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
	if n := after.Commits - stats.Commits; n > 0 {
		b.ReportMetric(float64(after.Writes-stats.Writes)/float64(n), "writes/commit")
	}
}

// BenchmarkCloseConversation closes conversations through the service from
// many goroutines: the API's write path for conversation.closed (find, update,
// transcript, routing, payload, event, delivery), group-committed.
func BenchmarkCloseConversation(b *testing.B) {
	w := newBenchWorld(b, 10)
	ids := w.conversations(b, max(b.N, 1))
	stats := w.store.Stats()
	b.SetParallelism(32)
	next := make(chan string, len(ids))
	for _, id := range ids {
		next <- id
	}
	close(next)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := w.svc.CloseConversation(context.Background(), w.account, <-next); err != nil {
				b.Error(err)
				return
			}
		}
	})
	after := w.store.Stats()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "closes/s")
	if n := after.Commits - stats.Commits; n > 0 {
		b.ReportMetric(float64(after.Writes-stats.Writes)/float64(n), "writes/commit")
	}
}
