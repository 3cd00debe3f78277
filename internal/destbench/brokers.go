package destbench

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/redis/go-redis/v9"
)

// rabbit: a durable topic exchange and a queue of the bench's own, bound
// to every routing key; deleted at the end.
type rabbit struct {
	url, name string
	conn      *amqp.Connection
	ch        *amqp.Channel
}

func newRabbit(url, name string) (*rabbit, error) {
	conn, err := amqp.Dial(url)
	if err != nil {
		return nil, err
	}
	ch, err := conn.Channel()
	if err != nil {
		conn.Close()
		return nil, err
	}
	r := &rabbit{url: url, name: name, conn: conn, ch: ch}
	if err := ch.ExchangeDeclare(name, "topic", true, false, false, false, nil); err != nil {
		r.close()
		return nil, err
	}
	if _, err := ch.QueueDeclare(name, true, false, false, false, nil); err != nil {
		r.close()
		return nil, err
	}
	if err := ch.QueueBind(name, "#", name, false, nil); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

func (r *rabbit) destination() map[string]any {
	return map[string]any{"type": "rabbitmq", "url": r.url, "exchange": r.name, "routing_key": "bench.{event}"}
}

func (r *rabbit) consume(ctx context.Context, seen func(string)) error {
	ch, err := r.conn.Channel()
	if err != nil {
		return err
	}
	if err := ch.Qos(1000, 0, false); err != nil {
		_ = ch.Close()
		return err
	}
	const tag = "destbench"
	msgs, err := ch.ConsumeWithContext(ctx, r.name, tag, true, false, false, false, nil)
	if err != nil {
		_ = ch.Close()
		return err
	}
	for {
		select {
		case <-ctx.Done():
			r.stopConsuming(ch, tag, msgs)
			return nil
		case m, ok := <-msgs:
			if !ok {
				return nil
			}
			id, _ := m.Headers["webhook-id"].(string)
			if id != "" {
				seen(id)
			}
		}
	}
}

// stopConsuming cancels the consumer and drains what the broker had already
// pushed before closing the channel: amqp091's Channel.Close waits for the
// broker's close-ok behind undelivered messages, so closing an undrained
// consumer hung the bench at its end (the plain publisher's messages are
// routed to the same queue). Bounded, as a broker that stops answering must
// not hang the bench either.
func (r *rabbit) stopConsuming(ch *amqp.Channel, tag string, msgs <-chan amqp.Delivery) {
	bounded(func() {
		_ = ch.Cancel(tag, false)
		for range msgs {
		}
		_ = ch.Close()
	})
}

// bounded runs a clean-up step and waits for it at most 5 s: a broker that
// stops answering must not hang the bench's end (the step's goroutine is
// left to the process's exit).
func bounded(step func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		step()
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}

func (r *rabbit) publish(ctx context.Context, body []byte, n, c int) (time.Duration, error) {
	chans := make([]*amqp.Channel, c)
	for i := range chans {
		ch, err := r.conn.Channel()
		if err != nil {
			return 0, err
		}
		defer ch.Close()
		if err := ch.Confirm(false); err != nil {
			return 0, err
		}
		chans[i] = ch
	}
	start := time.Now()
	err := parallel(ctx, n, c, func(ctx context.Context, w, _ int) error {
		// Routed to the bench's queue too (its binding is "#"): the
		// consumer ignores it, having no webhook-id.
		dc, err := chans[w].PublishWithDeferredConfirmWithContext(ctx, r.name, "plain", true, false,
			amqp.Publishing{DeliveryMode: amqp.Persistent, ContentType: "application/json", Body: body})
		if err != nil {
			return err
		}
		ok, err := dc.WaitContext(ctx)
		if err == nil && !ok {
			err = fmt.Errorf("nacked")
		}
		return err
	})
	return time.Since(start), err
}

func (r *rabbit) close() {
	bounded(func() {
		_ = r.ch.ExchangeDelete(r.name, false, false)
		_, _ = r.ch.QueueDelete(r.name, false, false, false)
	})
	_ = r.conn.Close()
}

// natsBroker: a stream of the bench's own on its subjects; deleted at the end.
type natsBroker struct {
	url, name string
	nc        *nats.Conn
	js        jetstream.JetStream
}

func newNATS(ctx context.Context, url, name string) (*natsBroker, error) {
	nc, err := nats.Connect(url)
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{name + ".>"}}); err != nil {
		nc.Close()
		return nil, err
	}
	return &natsBroker{url: url, name: name, nc: nc, js: js}, nil
}

func (b *natsBroker) destination() map[string]any {
	return map[string]any{"type": "nats", "url": b.url, "subject": b.name + ".{event}"}
}

func (b *natsBroker) consume(ctx context.Context, seen func(string)) error {
	c, err := b.js.OrderedConsumer(ctx, b.name, jetstream.OrderedConsumerConfig{FilterSubjects: []string{b.name + ".conversation.>"}})
	if err != nil {
		return err
	}
	cc, err := c.Consume(func(m jetstream.Msg) { seen(m.Headers().Get("webhook-id")) })
	if err != nil {
		return err
	}
	<-ctx.Done()
	cc.Stop()
	return nil
}

func (b *natsBroker) publish(ctx context.Context, body []byte, n, c int) (time.Duration, error) {
	start := time.Now()
	err := parallel(ctx, n, c, func(ctx context.Context, _, _ int) error {
		_, err := b.js.Publish(ctx, b.name+".plain", body)
		return err
	})
	return time.Since(start), err
}

func (b *natsBroker) close() {
	_ = b.js.DeleteStream(context.Background(), b.name)
	b.nc.Close()
}

// redisBroker: a stream key of the bench's own; deleted at the end.
type redisBroker struct {
	url, name string
	c         *redis.Client
}

func newRedis(url, name string) (*redisBroker, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	opt.PoolSize = 128
	return &redisBroker{url: url, name: name, c: redis.NewClient(opt)}, nil
}

func (b *redisBroker) destination() map[string]any {
	return map[string]any{"type": "redis", "url": b.url, "stream": b.name}
}

func (b *redisBroker) consume(ctx context.Context, seen func(string)) error {
	last := "0"
	for ctx.Err() == nil {
		res, err := b.c.XRead(ctx, &redis.XReadArgs{Streams: []string{b.name, last}, Count: 1000, Block: 100 * time.Millisecond}).Result()
		if err == redis.Nil || ctx.Err() != nil {
			continue
		}
		if err != nil {
			return err
		}
		for _, s := range res {
			for _, m := range s.Messages {
				last = m.ID
				if id, _ := m.Values["webhook-id"].(string); id != "" {
					seen(id)
				}
			}
		}
	}
	return nil
}

func (b *redisBroker) publish(ctx context.Context, body []byte, n, c int) (time.Duration, error) {
	start := time.Now()
	err := parallel(ctx, n, c, func(ctx context.Context, _, _ int) error {
		return b.c.XAdd(ctx, &redis.XAddArgs{Stream: b.name + "-plain", Values: []any{"body", body}}).Err()
	})
	return time.Since(start), err
}

func (b *redisBroker) close() {
	b.c.Del(context.Background(), b.name, b.name+"-plain")
	_ = b.c.Close()
}
