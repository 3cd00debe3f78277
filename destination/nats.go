package destination

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/egress"
)

// natsConn is one NATS connection and its JetStream context. nats.go
// reconnects by itself (ReconnectWait, bounded by the connection's own
// backoff); a closed connection is redialled by the pool.
type natsConn struct {
	nc *nats.Conn
	js jetstream.JetStream
}

// natsDialer adapts a DialFunc to nats.CustomDialer.
type natsDialer struct {
	dial    egress.DialFunc
	timeout time.Duration
}

func (d natsDialer) Dial(network, address string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d.timeout)
	defer cancel()
	return d.dial(ctx, network, address)
}

func dialNATS(_ context.Context, rawURL string, dial egress.DialFunc, timeout time.Duration) (conn, error) {
	nc, err := nats.Connect(rawURL,
		nats.SetCustomDialer(natsDialer{dial: dial, timeout: timeout}),
		nats.Timeout(timeout),
		nats.Name("agenthooks"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		nats.ReconnectJitter(100*time.Millisecond, time.Second),
		nats.RetryOnFailedConnect(false),
	)
	if err != nil {
		return nil, fmt.Errorf("nats: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("nats jetstream: %w", err)
	}
	return &natsConn{nc: nc, js: js}, nil
}

func (n *natsConn) broken() bool { return n.nc.IsClosed() }

func (n *natsConn) close() error {
	n.nc.Close()
	return nil
}

// send publishes to the subject and waits for JetStream's ack. The stream
// that takes the subject must exist: agenthooks does not create streams (a
// subject no stream takes is "no responders", a failed attempt). Nats-Msg-Id
// is the webhook-id, so JetStream itself drops a redelivery inside the
// stream's duplicate window.
func (n *natsConn) send(ctx context.Context, d *agenthooks.Destination, m *Message) (Result, error) {
	subject := d.Route(m.Event)
	msg := nats.NewMsg(subject)
	msg.Data = m.Body
	for k, v := range m.Headers() {
		msg.Header.Set(k, v)
	}
	msg.Header.Set("Content-Type", "application/json")
	ack, err := n.js.PublishMsg(ctx, msg, jetstream.WithMsgID(m.ID))
	if err != nil {
		return Result{}, fmt.Errorf("jetstream publish to %q: %w", subject, err)
	}
	answer := fmt.Sprintf("acked by JetStream: stream %s, sequence %d", ack.Stream, ack.Sequence)
	if ack.Duplicate {
		answer += " (duplicate of an earlier attempt)"
	}
	return Result{Answer: answer}, nil
}
