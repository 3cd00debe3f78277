package destination

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/egress"
)

// redisConn is a go-redis client: its own pool of connections to one
// server, redialled by go-redis as they fail.
type redisConn struct {
	c *redis.Client
}

func dialRedis(ctx context.Context, rawURL string, dial egress.DialFunc, timeout time.Duration) (conn, error) {
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	tlsConfig := opt.TLSConfig
	// A custom Dialer replaces go-redis's, TLS included: do it here.
	opt.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil || tlsConfig == nil {
			return c, err
		}
		tc := tls.Client(c, tlsConfig.Clone())
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = c.Close()
			return nil, err
		}
		return tc, nil
	}
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = timeout, timeout, timeout
	opt.ContextTimeoutEnabled = true
	opt.MaxRetries = -1 // an attempt is one XADD; the delivery schedule retries
	opt.DisableIdentity = true
	c := redis.NewClient(opt)
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("redis: %w", err)
	}
	return &redisConn{c: c}, nil
}

// broken is false: go-redis replaces failed connections in its pool.
func (r *redisConn) broken() bool { return false }

func (r *redisConn) close() error { return r.c.Close() }

// send appends the message to the stream with XADD (MAXLEN ~ maxlen when
// set); the reply, the entry's id, is the confirmation. The fields are
// body and the three webhook-* headers.
func (r *redisConn) send(ctx context.Context, d *agenthooks.Destination, m *Message) (Result, error) {
	values := []any{"body", m.Body}
	for _, k := range []string{"webhook-id", "webhook-timestamp", "webhook-signature"} {
		values = append(values, k, m.Headers()[k])
	}
	args := &redis.XAddArgs{Stream: d.Stream, Values: values}
	if d.MaxLen > 0 {
		args.MaxLen, args.Approx = d.MaxLen, true
	}
	id, err := r.c.XAdd(ctx, args).Result()
	if err != nil {
		return Result{}, fmt.Errorf("redis XADD %s: %w", d.Stream, err)
	}
	return Result{Answer: fmt.Sprintf("added to Redis stream %s as entry %s", d.Stream, id)}, nil
}
