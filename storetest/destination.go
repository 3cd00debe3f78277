package storetest

import (
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
)

// exerciseDestinations: a webhook's broker destination is stored whole (the
// URL with its credentials included), changed, cleared, and carried by the
// claimed job that the delivery pool sends with.
func exerciseDestinations(t *testing.T, setup setupFunc) {
	dests := []*agenthooks.Destination{
		{Type: agenthooks.DestinationRabbitMQ, URL: "amqps://user:p%40ss@mq.example.com:5671/vhost", Exchange: "agents", RoutingKey: "agents.{event}"},
		{Type: agenthooks.DestinationNATS, URL: "nats://token@nats.example.com:4222", Subject: "agents.{event}"},
		{Type: agenthooks.DestinationRedis, URL: "rediss://:secret@redis.example.com:6380/2", Stream: "agents", MaxLen: 1000},
		{Type: agenthooks.DestinationRedis, URL: "redis://redis.example.com", Stream: "plain"},
	}
	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		for _, d := range dests {
			t.Run(d.Type+"_"+d.Stream, func(t *testing.T) {
				t.Parallel()
				b := setup(t)
				w := b.newWebhook(b.acct)
				w.Destination = d
				b.write(t, func(tx agenthooks.Tx) error { return tx.CreateWebhook(w) })
				b.read(t, func(tx agenthooks.Tx) error {
					got, err := tx.FindWebhook(b.acct.ID, w.ID)
					mustNil(t, err)
					checkEqual(t, "FindWebhook", got, stored(w))
					list, _, err := tx.ListWebhooks(b.acct.ID, agenthooks.Page{Page: 1, Size: 10})
					mustNil(t, err)
					checkEqual(t, "ListWebhooks", list, []*agenthooks.Webhook{stored(w)})
					return nil
				})
			})
		}
	})
	t.Run("UpdateAndClear", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := b.webhook(t, b.acct) // HTTP
		for _, d := range append(dests, nil) {
			w.Destination = d
			b.write(t, func(tx agenthooks.Tx) error { return tx.UpdateWebhook(w) })
			b.read(t, func(tx agenthooks.Tx) error {
				got, err := tx.FindWebhook(b.acct.ID, w.ID)
				mustNil(t, err)
				checkEqual(t, "FindWebhook", got, stored(w))
				return nil
			})
		}
	})
	t.Run("Claimed", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := b.newWebhook(b.acct)
		w.Destination = dests[0]
		b.write(t, func(tx agenthooks.Tx) error { return tx.CreateWebhook(w) })
		now := b.clock.Now()
		b.pending(t, w, now.Add(-time.Second))
		jobs := b.claim(t, 10, now.Add(30*time.Second))
		if len(jobs) != 1 {
			t.Fatalf("claimed %d jobs, want 1", len(jobs))
		}
		checkEqual(t, "job destination", jobs[0].Webhook.Destination, dests[0])
	})
}
