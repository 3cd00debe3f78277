package destination_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/redis/go-redis/v9"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/destination"
	"github.com/agenthooks/agenthooks/egress"
)

const (
	rabbitURL = "amqp://guest:guest@127.0.0.1:5672/"
	natsURL   = "nats://127.0.0.1:4222"
	redisURL  = "redis://127.0.0.1:6379/0"
)

// need fails the test under CI=true when addr does not answer, else skips.
func need(t *testing.T, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err == nil {
		_ = c.Close()
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s unreachable under CI=true: %v", addr, err)
	}
	t.Skipf("%s unreachable: %v", addr, err)
}

func suffix(t *testing.T) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "ah-test-" + hex.EncodeToString(b)
}

func senders(t *testing.T, allowPrivate bool) *destination.Senders {
	s := destination.New(destination.Options{Policy: egress.Policy{AllowPrivate: allowPrivate}, Timeout: 5 * time.Second})
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func message(id string) destination.Message {
	return destination.Message{ID: id, Timestamp: 1700000000, Signature: "v1,abc", Event: "conversation.closed",
		Body: []byte(`{"id":"` + id + `","event":"conversation.closed"}`)}
}

func TestRabbitMQ(t *testing.T) {
	need(t, "127.0.0.1:5672")
	name := suffix(t)
	conn, err := amqp.Dial(rabbitURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.ExchangeDeclare(name, "topic", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ch.ExchangeDelete(name, false, false); _, _ = ch.QueueDelete(name, false, false, false) })
	if _, err := ch.QueueDeclare(name, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.QueueBind(name, "agents.conversation.*", name, false, nil); err != nil {
		t.Fatal(err)
	}
	s := senders(t, true)
	d := &agenthooks.Destination{Type: agenthooks.DestinationRabbitMQ, URL: rabbitURL, Exchange: name, RoutingKey: "agents.{event}"}
	res, err := s.Send(context.Background(), d, message("evt-1"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Answer, "confirmed by RabbitMQ") {
		t.Errorf("answer %q", res.Answer)
	}
	got, ok, err := ch.Get(name, true)
	if err != nil || !ok {
		t.Fatalf("get: %v %v", ok, err)
	}
	if string(got.Body) != string(message("evt-1").Body) || got.RoutingKey != "agents.conversation.closed" ||
		got.Headers["webhook-id"] != "evt-1" || got.Headers["webhook-signature"] != "v1,abc" || got.Headers["webhook-timestamp"] != "1700000000" {
		t.Errorf("got %s %q %v", got.Body, got.RoutingKey, got.Headers)
	}

	t.Run("unroutable", func(t *testing.T) {
		d := *d
		d.RoutingKey = "nobody.{event}"
		if _, err := s.Send(context.Background(), &d, message("evt-2")); err == nil || !strings.Contains(err.Error(), "NO_ROUTE") {
			t.Errorf("err %v", err)
		}
	})
	t.Run("missing exchange", func(t *testing.T) {
		d := *d
		d.Exchange = name + "-missing"
		if _, err := s.Send(context.Background(), &d, message("evt-3")); err == nil || !strings.Contains(err.Error(), "NOT_FOUND") {
			t.Errorf("err %v", err)
		}
		// The connection survives a channel's failure.
		if _, err := s.Send(context.Background(), d0(d, name), message("evt-4")); err != nil {
			t.Errorf("after a failure: %v", err)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		d := *d
		d.URL = "amqp://guest:wrong@127.0.0.1:5672/"
		if _, err := s.Send(context.Background(), &d, message("evt-5")); err == nil {
			t.Error("no error")
		}
	})
}

func d0(d agenthooks.Destination, exchange string) *agenthooks.Destination {
	d.Exchange = exchange
	return &d
}

func jetStream(t *testing.T, url, name string) jetstream.JetStream {
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{name + ".>"}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = js.DeleteStream(context.Background(), name) })
	return js
}

func TestNATS(t *testing.T) {
	need(t, "127.0.0.1:4222")
	name := suffix(t)
	js := jetStream(t, natsURL, name)
	s := senders(t, true)
	d := &agenthooks.Destination{Type: agenthooks.DestinationNATS, URL: natsURL, Subject: name + ".{event}"}
	res, err := s.Send(context.Background(), d, message("evt-1"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Answer, "stream "+name+", sequence 1") {
		t.Errorf("answer %q", res.Answer)
	}
	res, err = s.Send(context.Background(), d, message("evt-1"))
	if err != nil || !strings.Contains(res.Answer, "duplicate") {
		t.Errorf("again: %q %v", res.Answer, err)
	}
	stream, err := js.Stream(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := stream.GetLastMsgForSubject(context.Background(), name+".conversation.closed")
	if err != nil {
		t.Fatal(err)
	}
	if string(msg.Data) != string(message("evt-1").Body) || msg.Header.Get("webhook-id") != "evt-1" ||
		msg.Header.Get("Nats-Msg-Id") != "evt-1" || msg.Header.Get("webhook-signature") != "v1,abc" || msg.Sequence != 1 {
		t.Errorf("got %s %v seq %d", msg.Data, msg.Header, msg.Sequence)
	}
	t.Run("no stream", func(t *testing.T) {
		d := *d
		d.Subject = name + "-none.{event}"
		if _, err := s.Send(context.Background(), &d, message("evt-2")); err == nil {
			t.Error("no error")
		}
	})
}

func TestRedis(t *testing.T) {
	need(t, "127.0.0.1:6379")
	name := suffix(t)
	rc := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	t.Cleanup(func() { rc.Del(context.Background(), name); _ = rc.Close() })
	s := senders(t, true)
	d := &agenthooks.Destination{Type: agenthooks.DestinationRedis, URL: redisURL, Stream: name, MaxLen: 10}
	res, err := s.Send(context.Background(), d, message("evt-1"))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := rc.XRange(context.Background(), name, "-", "+").Result()
	if err != nil || len(entries) != 1 {
		t.Fatalf("xrange %v %v", entries, err)
	}
	e := entries[0]
	if !strings.Contains(res.Answer, e.ID) || e.Values["body"] != string(message("evt-1").Body) || e.Values["webhook-id"] != "evt-1" ||
		e.Values["webhook-timestamp"] != "1700000000" || e.Values["webhook-signature"] != "v1,abc" {
		t.Errorf("answer %q entry %v", res.Answer, e)
	}
	for i := range 500 {
		if _, err := s.Send(context.Background(), d, message("evt-"+strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	// MAXLEN ~ trims whole macro nodes (100 entries by default).
	if n := rc.XLen(context.Background(), name).Val(); n > 200 {
		t.Errorf("stream length %d: not trimmed", n)
	}
}

// TestPolicy: with private endpoints refused, each client's dial to
// loopback is refused on the address, before any byte is sent.
func TestPolicy(t *testing.T) {
	s := senders(t, false)
	for _, d := range []*agenthooks.Destination{
		{Type: agenthooks.DestinationRabbitMQ, URL: rabbitURL, Exchange: "x", RoutingKey: "k"},
		{Type: agenthooks.DestinationNATS, URL: natsURL, Subject: "s"},
		{Type: agenthooks.DestinationRedis, URL: redisURL, Stream: "s"},
		{Type: agenthooks.DestinationRedis, URL: "redis://localhost:6379/0", Stream: "s"},
	} {
		_, err := s.Send(context.Background(), d, message("evt"))
		if !errors.Is(err, egress.ErrForbiddenAddress) {
			t.Errorf("%s: %v, want ErrForbiddenAddress", d.URL, err)
		}
	}
}

// freePort returns a loopback port nobody listens on now.
func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// server is a throwaway broker process of the test's own.
type server struct {
	t    *testing.T
	args []string
	addr string
	cmd  *exec.Cmd
}

func (s *server) start() {
	s.t.Helper()
	s.cmd = exec.Command(s.args[0], s.args[1:]...)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err == nil {
			_ = c.Close()
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s did not start: %v", s.args[0], err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *server) stop() {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

// NATSServer starts nats-server with JetStream on a free port.
func NATSServer(t *testing.T) *server {
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	port := freePort(t)
	s := &server{t: t, addr: "127.0.0.1:" + strconv.Itoa(port),
		args: []string{bin, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-js", "-sd", filepath.Join(t.TempDir(), "js")}}
	s.start()
	t.Cleanup(s.stop)
	return s
}

// RedisServer starts redis-server on a free port, without persistence.
func RedisServer(t *testing.T) *server {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	port := freePort(t)
	s := &server{t: t, addr: "127.0.0.1:" + strconv.Itoa(port),
		args: []string{bin, "--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--save", "", "--appendonly", "no", "--dir", t.TempDir()}}
	s.start()
	t.Cleanup(s.stop)
	return s
}

// TestReconnect: a pooled connection to a broker that went away is
// replaced once it is back; while it is down sends fail fast.
func TestReconnect(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start func(*testing.T) *server
		dest  func(t *testing.T, s *server) *agenthooks.Destination
	}{
		{"nats", NATSServer, func(t *testing.T, s *server) *agenthooks.Destination {
			jetStream(t, "nats://"+s.addr, "R")
			return &agenthooks.Destination{Type: agenthooks.DestinationNATS, URL: "nats://" + s.addr, Subject: "R.{event}"}
		}},
		{"redis", RedisServer, func(t *testing.T, s *server) *agenthooks.Destination {
			return &agenthooks.Destination{Type: agenthooks.DestinationRedis, URL: "redis://" + s.addr, Stream: "r"}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := tc.start(t)
			d := tc.dest(t, srv)
			s := destination.New(destination.Options{Policy: egress.Policy{AllowPrivate: true}, Timeout: time.Second, MaxBackoff: 100 * time.Millisecond})
			defer s.Close()
			ctx := context.Background()
			if _, err := s.Send(ctx, d, message("a")); err != nil {
				t.Fatal(err)
			}
			srv.stop()
			if _, err := s.Send(ctx, d, message("b")); err == nil {
				t.Fatal("sent to a stopped broker")
			}
			srv.start()
			// JetStream keeps the stream in its -sd directory across the restart.
			deadline := time.Now().Add(15 * time.Second)
			for {
				_, err := s.Send(ctx, d, message("c"))
				if err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("not recovered: %v", err)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}
