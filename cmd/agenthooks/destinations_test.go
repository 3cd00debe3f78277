package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/redis/go-redis/v9"

	"github.com/agenthooks/agenthooks/webhook/signature"
)

// needBroker fails the test under CI=true when addr does not answer (CI
// starts every broker, .ci/run), and skips it elsewhere.
func needBroker(t *testing.T, addr string) {
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

func brokerName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "ah-e2e-" + hex.EncodeToString(b)
}

// brokerMsg is one message a test's consumer read from a broker.
type brokerMsg struct {
	body                  []byte
	id, stamp, sig, msgID string
}

// brokerCase is one broker: the destination to create the webhook with,
// which fails until fix makes it work, and a consumer of the test's own.
type brokerCase struct {
	addr        string
	destination func(t *testing.T, name string) map[string]any
	fix         func(t *testing.T, name string)
	read        func(t *testing.T, name string) []brokerMsg
	answer      string // in the attempt's response_body
}

var brokerCases = map[string]brokerCase{
	"rabbitmq": {
		addr: "127.0.0.1:5672",
		destination: func(t *testing.T, name string) map[string]any {
			t.Cleanup(func() {
				withRabbit(t, func(ch *amqp.Channel) error {
					_ = ch.ExchangeDelete(name, false, false)
					_, err := ch.QueueDelete(name, false, false, false)
					return err
				})
			})
			return map[string]any{"type": "rabbitmq", "url": "amqp://guest:guest@127.0.0.1:5672/", "exchange": name, "routing_key": "agents.{event}"}
		},
		fix: func(t *testing.T, name string) { // the exchange does not exist until now
			withRabbit(t, func(ch *amqp.Channel) error {
				if err := ch.ExchangeDeclare(name, "topic", true, false, false, false, nil); err != nil {
					return err
				}
				if _, err := ch.QueueDeclare(name, true, false, false, false, nil); err != nil {
					return err
				}
				return ch.QueueBind(name, "agents.#", name, false, nil)
			})
		},
		read: func(t *testing.T, name string) []brokerMsg {
			var out []brokerMsg
			withRabbit(t, func(ch *amqp.Channel) error {
				for {
					m, ok, err := ch.Get(name, true)
					if err != nil || !ok {
						return err
					}
					h := func(k string) string { s, _ := m.Headers[k].(string); return s }
					out = append(out, brokerMsg{body: m.Body, id: h("webhook-id"), stamp: h("webhook-timestamp"), sig: h("webhook-signature"), msgID: m.MessageId})
				}
			})
			return out
		},
		answer: "confirmed by RabbitMQ",
	},
	"nats": {
		addr: "127.0.0.1:4222",
		destination: func(t *testing.T, name string) map[string]any {
			t.Cleanup(func() {
				withJetStream(t, func(js jetstream.JetStream) error { return js.DeleteStream(context.Background(), name) })
			})
			return map[string]any{"type": "nats", "url": "nats://127.0.0.1:4222", "subject": name + ".{event}"}
		},
		fix: func(t *testing.T, name string) { // the stream does not exist until now
			withJetStream(t, func(js jetstream.JetStream) error {
				_, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: name, Subjects: []string{name + ".>"}})
				return err
			})
		},
		read: func(t *testing.T, name string) []brokerMsg {
			var out []brokerMsg
			withJetStream(t, func(js jetstream.JetStream) error {
				s, err := js.Stream(context.Background(), name)
				if err != nil {
					return err
				}
				info, err := s.Info(context.Background())
				if err != nil {
					return err
				}
				for seq := uint64(1); seq <= info.State.LastSeq; seq++ {
					m, err := s.GetMsg(context.Background(), seq)
					if err != nil {
						return err
					}
					out = append(out, brokerMsg{body: m.Data, id: m.Header.Get("webhook-id"), stamp: m.Header.Get("webhook-timestamp"),
						sig: m.Header.Get("webhook-signature"), msgID: m.Header.Get("Nats-Msg-Id")})
				}
				return nil
			})
			return out
		},
		answer: "acked by JetStream: stream ",
	},
	"redis": {
		addr: "127.0.0.1:6379",
		destination: func(t *testing.T, name string) map[string]any {
			rc := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
			t.Cleanup(func() { rc.Del(context.Background(), name); _ = rc.Close() })
			// A string at the stream's key: XADD answers WRONGTYPE until fix.
			if err := rc.Set(context.Background(), name, "in the way", 0).Err(); err != nil {
				t.Fatal(err)
			}
			return map[string]any{"type": "redis", "url": "redis://127.0.0.1:6379/0", "stream": name, "maxlen": 1000}
		},
		fix: func(t *testing.T, name string) {
			rc := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
			defer rc.Close()
			if err := rc.Del(context.Background(), name).Err(); err != nil {
				t.Fatal(err)
			}
		},
		read: func(t *testing.T, name string) []brokerMsg {
			rc := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
			defer rc.Close()
			entries, err := rc.XRange(context.Background(), name, "-", "+").Result()
			if err != nil {
				t.Fatal(err)
			}
			var out []brokerMsg
			for _, e := range entries {
				s := func(k string) string { v, _ := e.Values[k].(string); return v }
				out = append(out, brokerMsg{body: []byte(s("body")), id: s("webhook-id"), stamp: s("webhook-timestamp"), sig: s("webhook-signature"), msgID: s("webhook-id")})
			}
			return out
		},
		answer: "added to Redis stream ",
	},
}

func withRabbit(t *testing.T, fn func(ch *amqp.Channel) error) {
	t.Helper()
	withRabbitAt(t, "amqp://guest:guest@127.0.0.1:5672/", fn)
}

// withRabbitAt runs fn on a channel of its own to the RabbitMQ at url.
func withRabbitAt(t *testing.T, url string, fn func(ch *amqp.Channel) error) {
	t.Helper()
	conn, err := amqp.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := fn(ch); err != nil {
		t.Fatal(err)
	}
}

func withJetStream(t *testing.T, fn func(js jetstream.JetStream) error) {
	t.Helper()
	withJetStreamAt(t, "nats://127.0.0.1:4222", fn)
}

// withJetStreamAt runs fn with JetStream on the NATS server at url; a
// stream that is not there yet is not an error.
func withJetStreamAt(t *testing.T, url string, fn func(js jetstream.JetStream) error) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := fn(js); err != nil && !strings.Contains(err.Error(), "stream not found") {
		t.Fatal(err)
	}
}

// TestDestinationsDeliverAndRetry: for each broker, a webhook created
// through the API with a destination that fails (no exchange, no stream,
// a key of the wrong type) makes failed attempts with the broker's error,
// retried on the schedule; once the broker can take it, the next attempt
// succeeds with the broker's answer in the attempt log, and the consumer
// reads the envelope with the Standard Webhooks headers, signed as for HTTP.
// The credentials are never read back.
func TestDestinationsDeliverAndRetry(t *testing.T) {
	t.Parallel()
	for broker, bc := range brokerCases {
		t.Run(broker, func(t *testing.T) {
			t.Parallel()
			needBroker(t, bc.addr)
			a, key := startApp(t, env{"AGENTHOOKS_DATABASE_URL": "sqlite:" + t.TempDir() + "/a.db", "AGENTHOOKS_RETRY_SCHEDULE": "100ms,100ms,100ms,100ms,100ms,100ms,100ms,100ms,100ms,100ms"})
			c := &client{t: t, base: a.URL(), key: key}
			name := brokerName()
			created := c.must(http.StatusCreated, "POST", "/outbound_webhook", map[string]any{"name": broker, "destination": bc.destination(t, name)})
			id, secret := created["id"].(string), created["secret"].(string)
			read := c.must(http.StatusOK, "GET", "/outbound_webhook/"+id, nil)
			dest := read["destination"].(map[string]any)
			if dest["type"] != broker || dest["credentials_set"] != (broker == "rabbitmq") || strings.Contains(dest["url"].(string), "guest:") ||
				strings.Contains(read["endpoint"].(string), "guest:") || !strings.HasPrefix(read["endpoint"].(string), strings.Split(dest["url"].(string), "/")[0]) {
				t.Errorf("read: endpoint %v destination %v", read["endpoint"], dest)
			}

			test := c.must(http.StatusOK, "POST", "/outbound_webhook/"+id+"/test", nil)
			delivery := test["delivery_id"].(string)
			if att, _ := test["attempt"].(map[string]any); att == nil || att["error"] == nil {
				t.Fatalf("first attempt to a broken destination: %v", test)
			}
			// Wait for a retry to fail too, then make the broker take it.
			deadline := time.Now().Add(30 * time.Second)
			for {
				d := c.must(http.StatusOK, "GET", "/delivery/"+delivery, nil)
				if n, _ := d["attempt_count"].(float64); n >= 2 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no retry: %v", d)
				}
				time.Sleep(20 * time.Millisecond)
			}
			bc.fix(t, name)
			d := waitDelivery(t, c, delivery, "succeeded")
			atts := d["attempts"].([]any)
			last := atts[len(atts)-1].(map[string]any)
			first := atts[0].(map[string]any)
			if body, _ := last["response_body"].(string); !strings.Contains(body, bc.answer) || last["error"] != nil {
				t.Errorf("last attempt %v, want the broker's answer %q", last, bc.answer)
			}
			if e, _ := first["error"].(string); e == "" {
				t.Errorf("first attempt has no error: %v", first)
			}

			msgs := bc.read(t, name)
			if len(msgs) != 1 {
				t.Fatalf("consumer read %d messages, want 1", len(msgs))
			}
			m := msgs[0]
			ev := test["event_id"].(string)
			if m.id != ev || m.msgID != ev || !strings.Contains(string(m.body), `"webhook.test"`) {
				t.Errorf("message id %q msg id %q body %s; want event %s", m.id, m.msgID, m.body, ev)
			}
			sk, err := signature.ParseSecret(secret)
			if err != nil {
				t.Fatal(err)
			}
			if !signatureValid(sk, m) {
				t.Errorf("signature %q does not verify", m.sig)
			}
		})
	}
}

func signatureValid(key []byte, m brokerMsg) bool {
	var ts int64
	for _, c := range m.stamp {
		ts = ts*10 + int64(c-'0')
	}
	return signature.Header([][]byte{key}, m.id, ts, m.body) == m.sig
}

// TestDestinationValidation: the API's 422s on destination fields, and the
// endpoint rules on the broker's host.
func TestDestinationValidation(t *testing.T) {
	t.Parallel()
	a, key := startApp(t, env{"AGENTHOOKS_DATABASE_URL": "sqlite:" + t.TempDir() + "/a.db", "AGENTHOOKS_ALLOW_PRIVATE_ENDPOINTS": "false"})
	c := &client{t: t, base: a.URL(), key: key}
	for _, tc := range []struct {
		name string
		dest any
		loc  string
	}{
		{"private host", map[string]any{"type": "redis", "url": "redis://127.0.0.1:6379", "stream": "s"}, "url"},
		{"localhost", map[string]any{"type": "nats", "url": "nats://localhost:4222", "subject": "s"}, "url"},
		{"wrong scheme", map[string]any{"type": "rabbitmq", "url": "http://mq.example.com", "exchange": "x", "routing_key": "k"}, "url"},
		{"no url", map[string]any{"type": "redis", "stream": "s"}, "url"},
		{"unknown type", map[string]any{"type": "kafka", "url": "kafka://x"}, "type"},
		{"no type", map[string]any{"url": "redis://x"}, "type"},
		{"no routing key", map[string]any{"type": "rabbitmq", "url": "amqp://mq.example.com", "exchange": "x"}, "routing_key"},
		{"wildcard subject", map[string]any{"type": "nats", "url": "nats://nats.example.com", "subject": "agents.>"}, "subject"},
		{"no stream", map[string]any{"type": "redis", "url": "redis://redis.example.com"}, "stream"},
		{"negative maxlen", map[string]any{"type": "redis", "url": "redis://redis.example.com", "stream": "s", "maxlen": -1}, "maxlen"},
		{"maxlen not a number", map[string]any{"type": "redis", "url": "redis://redis.example.com", "stream": "s", "maxlen": "x"}, "maxlen"},
		{"not an object", "redis://x", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, m := c.do("POST", "/outbound_webhook", map[string]any{"name": "d", "destination": tc.dest})
			if status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d: %v", status, m)
			}
			detail, _ := m["detail"].([]any)
			want := []any{"body", "destination"}
			if tc.loc != "" {
				want = append(want, tc.loc)
			}
			found := false
			for _, d := range detail {
				loc := d.(map[string]any)["loc"].([]any)
				found = found || strings.Join(strs(loc), ".") == strings.Join(strs(want), ".")
			}
			if !found {
				t.Errorf("detail %v, want loc %v", detail, want)
			}
			if tc.name == "private host" && !strings.Contains(strings.ToLower(m["detail"].([]any)[0].(map[string]any)["msg"].(string)), "not") {
				t.Errorf("msg %v", detail)
			}
		})
	}
	// A public name is accepted without an endpoint, and switching back to
	// HTTP needs one.
	w := c.must(http.StatusCreated, "POST", "/outbound_webhook", map[string]any{"name": "d",
		"destination": map[string]any{"type": "redis", "url": "rediss://:pw@redis.example.com:6380/1", "stream": "agents"}})
	id := w["id"].(string)
	if w["endpoint"] != "rediss://redis.example.com:6380/1" {
		t.Errorf("endpoint %v", w["endpoint"])
	}
	if status, m := c.do("PATCH", "/outbound_webhook/"+id, map[string]any{"destination": map[string]any{"type": "http"}}); status != http.StatusUnprocessableEntity {
		t.Errorf("to http without an endpoint: %d %v", status, m)
	}
	// Sending back the URL as read keeps the password.
	got := c.must(http.StatusOK, "PATCH", "/outbound_webhook/"+id, map[string]any{"destination": map[string]any{"type": "redis", "url": "rediss://redis.example.com:6380/1", "stream": "other"}})
	if d := got["destination"].(map[string]any); d["credentials_set"] != true || d["stream"] != "other" {
		t.Errorf("patched destination %v", d)
	}
	got = c.must(http.StatusOK, "PATCH", "/outbound_webhook/"+id, map[string]any{"destination": nil, "endpoint": "https://example.com/hook"})
	if d := got["destination"].(map[string]any); d["type"] != "http" || got["endpoint"] != "https://example.com/hook" {
		t.Errorf("back to http: %v", got)
	}
}

func strs(v []any) []string {
	out := make([]string, len(v))
	for i, x := range v {
		out[i], _ = x.(string)
	}
	return out
}
