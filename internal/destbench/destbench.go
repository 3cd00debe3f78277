// Package destbench is `agenthooks bench --destination`: it drains N events
// from agenthooks to a broker (RabbitMQ, NATS JetStream or Redis Streams)
// and counts their arrival with a consumer of its own, and measures in the
// same run what the broker takes from a plain publisher that waits for each
// confirmation as an attempt does (the broker's own rate, the ceiling).
package destbench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agenthooks/agenthooks/internal/apiclient"
)

// Options configure Run.
type Options struct {
	Destination string // rabbitmq, nats, redis
	BrokerURL   string // default: the local server
	Events      int
	Webhooks    int
	Publishers  int // the plain publisher's concurrency (default 64)
	Progress    io.Writer
}

// Server is the agenthooks under test (started by the caller).
type Server struct {
	URL, APIKey string
	Pause       func()
	Resume      func()
}

// Result is the JSON line.
type Result struct {
	Destination        string  `json:"destination"`
	Events             int     `json:"events"`
	Webhooks           int     `json:"webhooks"`
	DrainPerS          float64 `json:"drain_per_s"`
	BrokerPublishPerS  float64 `json:"broker_publish_per_s"`
	Ratio              float64 `json:"ratio"`
	PublisherInFlight  int     `json:"publisher_in_flight"`
	DeliveredAtLeast   int64   `json:"delivered"`
	DuplicatesConsumed int64   `json:"duplicates"`
}

// broker is one broker's side of the bench: its topology, a consumer that
// counts distinct webhook-ids, and a plain publisher.
type broker interface {
	// destination is the webhook's destination for the API.
	destination() map[string]any
	// consume counts arrivals with seen until ctx ends.
	consume(ctx context.Context, seen func(id string)) error
	// publish sends n copies of body with c publishers, each waiting for
	// every confirmation, and returns the time it took.
	publish(ctx context.Context, body []byte, n, c int) (time.Duration, error)
	close()
}

// DefaultURL is each broker's local server.
var DefaultURL = map[string]string{
	"rabbitmq": "amqp://guest:guest@127.0.0.1:5672/",
	"nats":     "nats://127.0.0.1:4222",
	"redis":    "redis://127.0.0.1:6379/0",
}

func newBroker(ctx context.Context, kind, url, name string) (broker, error) {
	switch kind {
	case "rabbitmq":
		return newRabbit(url, name)
	case "nats":
		return newNATS(ctx, url, name)
	case "redis":
		return newRedis(url, name)
	}
	return nil, fmt.Errorf("--destination must be rabbitmq, nats or redis, not %q", kind)
}

// Run runs the drain and the plain publisher against a server started by
// start (with AGENTHOOKS_ALLOW_PRIVATE_ENDPOINTS on: the broker is local).
func Run(ctx context.Context, o Options, srv *Server) (*Result, error) {
	if o.BrokerURL == "" {
		o.BrokerURL = DefaultURL[o.Destination]
	}
	if o.Publishers <= 0 {
		o.Publishers = 64
	}
	progress := func(format string, args ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "bench %s: "+format+"\n", append([]any{o.Destination}, args...)...)
		}
	}
	name := "agenthooks-bench-" + suffix()
	b, err := newBroker(ctx, o.Destination, o.BrokerURL, name)
	if err != nil {
		return nil, err
	}
	defer b.close()
	api := apiclient.New(srv.URL, srv.APIKey, &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}})

	assistants, widgets := make([]string, o.Webhooks), make([]string, o.Webhooks)
	for i := range o.Webhooks {
		wh, err := api.Create(ctx, "/outbound_webhook", map[string]any{"name": fmt.Sprintf("bench %d", i), "destination": b.destination(),
			"events": []string{"conversation.closed"}})
		if err != nil {
			return nil, err
		}
		if assistants[i], err = api.Create(ctx, "/assistant", map[string]any{"name": fmt.Sprintf("bench %d", i), "webhook_id": wh}); err != nil {
			return nil, err
		}
		if err := api.Do(ctx, http.MethodPatch, "/assistant/"+assistants[i], map[string]any{"webhook_id": wh}, nil); err != nil {
			return nil, err
		}
		if widgets[i], err = api.Create(ctx, "/widget", map[string]any{"assistant_id": assistants[i], "name": "w", "widget_type": "chat"}); err != nil {
			return nil, err
		}
	}

	var distinct, total atomic.Int64
	var mu sync.Mutex
	ids := map[string]bool{}
	cctx, stopConsumer := context.WithCancel(ctx)
	consumed := make(chan error, 1)
	go func() {
		consumed <- b.consume(cctx, func(id string) {
			total.Add(1)
			mu.Lock()
			if !ids[id] {
				ids[id] = true
				distinct.Add(1)
			}
			mu.Unlock()
		})
	}()
	defer func() { stopConsumer(); <-consumed }()

	srv.Pause()
	progress("accepting %d events with delivery paused", o.Events)
	if err := closeConversations(ctx, api, assistants, widgets, o.Events); err != nil {
		srv.Resume()
		return nil, err
	}
	progress("resuming delivery")
	start := time.Now()
	srv.Resume()
	for distinct.Load() < int64(o.Events) {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("drain: %d of %d events arrived: %w", distinct.Load(), o.Events, ctx.Err())
		case err := <-consumed:
			return nil, fmt.Errorf("consumer stopped: %w", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	drain := time.Since(start)
	res := &Result{Destination: o.Destination, Events: o.Events, Webhooks: o.Webhooks, PublisherInFlight: o.Publishers}
	res.DrainPerS = round(float64(o.Events) / drain.Seconds())
	progress("drain: %.0f deliveries/s", res.DrainPerS)

	body := make([]byte, 1200) // about a conversation.closed envelope
	for i := range body {
		body[i] = 'x'
	}
	took, err := b.publish(ctx, body, o.Events, o.Publishers)
	if err != nil {
		return nil, fmt.Errorf("plain publisher: %w", err)
	}
	res.BrokerPublishPerS = round(float64(o.Events) / took.Seconds())
	res.Ratio = round(res.DrainPerS / res.BrokerPublishPerS)
	res.DeliveredAtLeast, res.DuplicatesConsumed = distinct.Load(), total.Load()-distinct.Load()
	progress("plain publisher: %.0f messages/s", res.BrokerPublishPerS)
	return res, nil
}

// closeConversations makes n conversation.closed events through the API,
// spread over the assistants, with 32 clients.
func closeConversations(ctx context.Context, api *apiclient.Client, assistants, widgets []string, n int) error {
	var next atomic.Int64
	errs := make(chan error, 32)
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				k := i % len(assistants)
				conv, err := api.Create(ctx, "/conversation", map[string]any{"assistant_id": assistants[k], "widget_id": widgets[k], "device_type": "phone"})
				if err == nil {
					err = api.Do(ctx, http.MethodPost, "/conversation/"+conv+"/close", nil, nil)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return errors.Join(func() []error {
		var out []error
		for e := range errs {
			out = append(out, e)
		}
		return out
	}()...)
}

// parallel runs fn(i) for i in [0, n) on c goroutines, stopping at the
// first error.
func parallel(ctx context.Context, n, c int, fn func(ctx context.Context, worker, i int) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for w := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(ctx, w, i); err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

func suffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func round(v float64) float64 { return float64(int64(v*100+0.5)) / 100 }
