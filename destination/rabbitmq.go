package destination

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/egress"
)

// rabbitConn is one AMQP connection with a free list of channels in confirm
// mode. A channel carries one publish at a time, so the basic.return of an
// unroutable message and the confirm that follows it are that publish's own.
type rabbitConn struct {
	c *amqp.Connection

	mu   sync.Mutex
	free []*rabbitChannel
}

type rabbitChannel struct {
	ch       *amqp.Channel
	returns  chan amqp.Return
	checked  map[string]bool // exchanges found by a passive declare
	closures chan *amqp.Error
}

func dialRabbitMQ(ctx context.Context, rawURL string, dial egress.DialFunc, timeout time.Duration) (conn, error) {
	cfg := amqp.Config{
		Heartbeat: 10 * time.Second,
		Locale:    "en_US",
		Dial: func(network, addr string) (net.Conn, error) {
			c, err := dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			// The handshake must not outlive the attempt; amqp091 clears
			// the deadline once the connection is open.
			if dl, ok := ctx.Deadline(); ok {
				_ = c.SetDeadline(dl)
			} else {
				_ = c.SetDeadline(time.Now().Add(timeout))
			}
			return c, nil
		},
	}
	c, err := amqp.DialConfig(rawURL, cfg)
	if err != nil {
		return nil, fmt.Errorf("rabbitmq: %w", err)
	}
	return &rabbitConn{c: c}, nil
}

func (r *rabbitConn) broken() bool { return r.c.IsClosed() }

func (r *rabbitConn) close() error {
	if r.c.IsClosed() {
		return nil
	}
	return r.c.Close()
}

// channel takes a free channel or opens one in confirm mode.
func (r *rabbitConn) channel() (*rabbitChannel, error) {
	r.mu.Lock()
	for len(r.free) > 0 {
		ch := r.free[len(r.free)-1]
		r.free = r.free[:len(r.free)-1]
		if !ch.ch.IsClosed() {
			r.mu.Unlock()
			return ch, nil
		}
	}
	r.mu.Unlock()
	ch, err := r.c.Channel()
	if err != nil {
		return nil, fmt.Errorf("rabbitmq channel: %w", err)
	}
	if err := ch.Confirm(false); err != nil {
		_ = ch.Close()
		return nil, fmt.Errorf("rabbitmq confirm mode: %w", err)
	}
	rc := &rabbitChannel{ch: ch, returns: ch.NotifyReturn(make(chan amqp.Return, 1)), checked: map[string]bool{},
		closures: ch.NotifyClose(make(chan *amqp.Error, 1))}
	return rc, nil
}

// release puts a healthy channel back; a closed one is dropped.
func (r *rabbitConn) release(ch *rabbitChannel, ok bool) {
	if !ok || ch.ch.IsClosed() {
		_ = ch.ch.Close()
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.free) < 64 {
		r.free = append(r.free, ch)
		return
	}
	_ = ch.ch.Close()
}

// send publishes persistently and mandatorily to the exchange, checked to
// exist with a passive declare (agenthooks never creates or alters the
// customer's topology), and waits for the publisher confirm. An unroutable
// message (no queue bound for its routing key) comes back as basic.return
// before its confirm and fails the attempt: confirmed but dropped is lost.
func (r *rabbitConn) send(ctx context.Context, d *agenthooks.Destination, m *Message) (Result, error) {
	ch, err := r.channel()
	if err != nil {
		return Result{}, err
	}
	res, err := r.publish(ctx, ch, d, m)
	r.release(ch, err == nil)
	return res, err
}

func (r *rabbitConn) publish(ctx context.Context, ch *rabbitChannel, d *agenthooks.Destination, m *Message) (Result, error) {
	if d.Exchange != "" && !ch.checked[d.Exchange] {
		if err := ch.ch.ExchangeDeclarePassive(d.Exchange, "topic", true, false, false, false, nil); err != nil {
			return Result{}, fmt.Errorf("rabbitmq exchange %q: %w", d.Exchange, err)
		}
		ch.checked[d.Exchange] = true
	}
	headers := amqp.Table{}
	for k, v := range m.Headers() {
		headers[k] = v
	}
	key := d.Route(m.Event)
	dc, err := ch.ch.PublishWithDeferredConfirmWithContext(ctx, d.Exchange, key, true, false, amqp.Publishing{
		Headers:      headers,
		ContentType:  "application/json",
		DeliveryMode: amqp.Persistent,
		MessageId:    m.ID,
		Timestamp:    time.Unix(m.Timestamp, 0),
		Type:         m.Event,
		Body:         m.Body,
	})
	if err != nil {
		return Result{}, fmt.Errorf("rabbitmq publish: %w", err)
	}
	acked, err := dc.WaitContext(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("rabbitmq confirm: %w", err)
	}
	select {
	case ret := <-ch.returns:
		return Result{}, fmt.Errorf("rabbitmq returned the message: %d %s (no queue bound to exchange %q for routing key %q)",
			ret.ReplyCode, ret.ReplyText, d.Exchange, key)
	default:
	}
	if !acked {
		select {
		case e := <-ch.closures:
			if e != nil {
				return Result{}, fmt.Errorf("rabbitmq nacked the message: %w", e)
			}
		default:
		}
		return Result{}, errors.New("rabbitmq nacked the message")
	}
	return Result{Answer: fmt.Sprintf("confirmed by RabbitMQ (exchange %q, routing key %q)", d.Exchange, key)}, nil
}
