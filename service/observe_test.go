package service_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/internal/testdb"
	"github.com/agenthooks/agenthooks/service"
	"github.com/agenthooks/agenthooks/storetest"
)

type countingEvents struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *countingEvents) EventCreated(t string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[t]++
}

func (c *countingEvents) count(t string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[t]
}

// failingCommit is a store whose writes fail after their work, when fail
// is set: the transaction rolls back, as a disk full at commit leaves it.
type failingCommit struct {
	agenthooks.Store
	mu   sync.Mutex
	fail bool
}

var errDiskFull = errors.New("disk full (simulated)")

func (f *failingCommit) Write(ctx context.Context, fn func(agenthooks.Tx) error) error {
	f.mu.Lock()
	fail := f.fail
	f.mu.Unlock()
	return f.Store.Write(ctx, func(tx agenthooks.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if fail {
			return agenthooks.Errorf(agenthooks.EUNAVAILABLE, "%v", errDiskFull)
		}
		return nil
	})
}

// TestEventsCountedAfterCommit: agenthooks_events_total's observer hears of
// an event only once its transaction has committed.
func TestEventsCountedAfterCommit(t *testing.T) {
	t.Parallel()
	testdb.ForEachEngine(t, func(t *testing.T, e testdb.Engine) {
		t.Parallel()
		ctx := context.Background()
		clock := storetest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
		store := &failingCommit{Store: e.Open(t, clock.Now)}
		svc := service.New(store, nil, nil)
		obs := &countingEvents{}
		svc.Events = obs
		acc, err := svc.CreateAccount(ctx, "acme")
		must(t, err)
		a, err := svc.CreateAssistant(ctx, acc.ID, service.AssistantInput{Name: "a"})
		must(t, err)
		w, err := svc.CreateWidget(ctx, acc.ID, service.WidgetInput{AssistantID: a.ID, Name: "w", WidgetType: "chat"})
		must(t, err)
		c, err := svc.CreateConversation(ctx, acc.ID, service.ConversationInput{AssistantID: a.ID, WidgetID: w.ID, DeviceType: "desktop"})
		must(t, err)
		msg := service.MessageInput{SenderType: "user", Text: "hello"}

		store.mu.Lock()
		store.fail = true
		store.mu.Unlock()
		for range 3 {
			if _, err := svc.AddMessage(ctx, acc.ID, c.ID, msg); err == nil {
				t.Fatal("a write that failed at commit succeeded")
			}
		}
		if n := obs.count(agenthooks.EventConversationUpdated); n != 0 {
			t.Fatalf("%d events counted for 3 refused requests, want 0", n)
		}
		store.mu.Lock()
		store.fail = false
		store.mu.Unlock()
		_, err = svc.AddMessage(ctx, acc.ID, c.ID, msg)
		must(t, err)
		if n := obs.count(agenthooks.EventConversationUpdated); n != 1 {
			t.Fatalf("%d events counted for 1 stored, want 1", n)
		}
	})
}
