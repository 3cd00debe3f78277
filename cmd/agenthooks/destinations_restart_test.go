package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
)

// brokerProc is a throwaway broker process of the test's own, on a free
// port: the shared brokers are never stopped.
type brokerProc struct {
	t    *testing.T
	args []string
	addr string
	cmd  *exec.Cmd
}

func newBrokerProc(t *testing.T, bin string, args func(port string) []string) *brokerProc {
	path, err := exec.LookPath(bin)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	_ = l.Close()
	p := &brokerProc{t: t, args: append([]string{path}, args(port)...), addr: "127.0.0.1:" + port}
	p.start()
	t.Cleanup(p.kill)
	return p
}

func (p *brokerProc) start() {
	p.t.Helper()
	p.cmd = exec.Command(p.args[0], p.args[1:]...)
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", p.addr, time.Second)
		if err == nil {
			_ = c.Close()
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s did not start: %v", p.args[0], err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill stops the broker at once (SIGKILL): what it confirmed must survive.
func (p *brokerProc) kill() {
	if p.cmd != nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	}
}

// TestDestinationBrokerRestart: events keep coming while the webhook's
// broker is killed and started again. Every event reaches the stream once
// the broker is back (nothing lost), and the stream holds at most the
// webhook's in-flight cap of duplicates (JetStream drops them itself on
// Nats-Msg-Id).
func TestDestinationBrokerRestart(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		start func(t *testing.T) (*brokerProc, map[string]any, func() []string)
	}{
		{"nats", func(t *testing.T) (*brokerProc, map[string]any, func() []string) {
			p := newBrokerProc(t, "nats-server", func(port string) []string {
				return []string{"-a", "127.0.0.1", "-p", port, "-js", "-sd", filepath.Join(t.TempDir(), "js")}
			})
			url := "nats://" + p.addr
			js := func(fn func(js jetstream.JetStream) error) {
				nc, err := nats.Connect(url)
				if err != nil {
					t.Fatal(err)
				}
				defer nc.Close()
				j, _ := jetstream.New(nc)
				if err := fn(j); err != nil {
					t.Fatal(err)
				}
			}
			js(func(j jetstream.JetStream) error {
				_, err := j.CreateStream(context.Background(), jetstream.StreamConfig{Name: "R", Subjects: []string{"R.>"}})
				return err
			})
			read := func() []string {
				var ids []string
				js(func(j jetstream.JetStream) error {
					s, err := j.Stream(context.Background(), "R")
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
						ids = append(ids, m.Header.Get("webhook-id"))
					}
					return nil
				})
				return ids
			}
			return p, map[string]any{"type": "nats", "url": url, "subject": "R.{event}"}, read
		}},
		{"redis", func(t *testing.T) (*brokerProc, map[string]any, func() []string) {
			// An XADD is confirmed once it is in the append-only file.
			p := newBrokerProc(t, "redis-server", func(port string) []string {
				return []string{"--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", t.TempDir()}
			})
			read := func() []string {
				rc := redis.NewClient(&redis.Options{Addr: p.addr})
				defer rc.Close()
				entries, err := rc.XRange(context.Background(), "r", "-", "+").Result()
				if err != nil {
					t.Fatal(err)
				}
				var ids []string
				for _, e := range entries {
					id, _ := e.Values["webhook-id"].(string)
					ids = append(ids, id)
				}
				return ids
			}
			return p, map[string]any{"type": "redis", "url": "redis://" + p.addr, "stream": "r"}, read
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			proc, dest, read := tc.start(t)
			schedule := "200ms" // 60 retries: the broker is down for well under 12s
			for range 59 {
				schedule += ",200ms"
			}
			a, key := startApp(t, env{"AGENTHOOKS_DATABASE_URL": "sqlite:" + t.TempDir() + "/a.db", "AGENTHOOKS_RETRY_SCHEDULE": schedule,
				"AGENTHOOKS_DELIVERY_TIMEOUT": "1s"})
			c := &client{t: t, base: a.URL(), key: key}
			wh := c.must(http.StatusCreated, "POST", "/outbound_webhook", map[string]any{"name": "broker", "destination": dest, "events": []string{"conversation.closed"}})
			asst := c.id("POST", "/assistant", map[string]any{"name": "a"})
			c.must(http.StatusOK, "PATCH", "/assistant/"+asst, map[string]any{"webhook_id": wh["id"]})
			widget := c.id("POST", "/widget", map[string]any{"assistant_id": asst, "name": "w", "widget_type": "chat"})

			const events = 200
			convs := make([]string, events)
			for i := range convs {
				convs[i] = c.id("POST", "/conversation", map[string]any{"assistant_id": asst, "widget_id": widget, "device_type": "phone"})
			}
			var wg sync.WaitGroup
			closed := make(chan int, events)
			for w := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := w; i < events; i += 4 {
						c.must(http.StatusOK, "POST", "/conversation/"+convs[i]+"/close", nil)
						closed <- i
						time.Sleep(5 * time.Millisecond)
					}
				}()
			}
			// Kill the broker a quarter of the way in, start it again
			// halfway: events are closed before, during and after.
			for range events / 4 {
				<-closed
			}
			proc.kill()
			for range events / 4 {
				<-closed
			}
			retrying(t, c, wh["id"].(string)) // the restart is tested only once attempts failed
			proc.start()
			wg.Wait()

			deadline := time.Now().Add(60 * time.Second)
			for {
				d := c.must(http.StatusOK, "GET", fmt.Sprintf("/outbound_webhook/%s/deliveries?status=succeeded&size=1", wh["id"]), nil)
				if n, _ := d["total"].(float64); int(n) == events {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%v of %d deliveries succeeded", d["total"], events)
				}
				time.Sleep(50 * time.Millisecond)
			}
			ids := read()
			distinct := map[string]int{}
			for _, id := range ids {
				distinct[id]++
			}
			if len(distinct) != events {
				t.Errorf("the stream holds %d distinct events, want %d (lost some)", len(distinct), events)
			}
			if dup := len(ids) - len(distinct); dup > 32 {
				t.Errorf("%d duplicates, more than the in-flight cap (32)", dup)
			}
			t.Logf("%s: %d messages, %d distinct events", tc.name, len(ids), len(distinct))
		})
	}
}

// retrying waits until a delivery of the webhook is pending after a failed
// attempt.
func retrying(t *testing.T, c *client, webhookID string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		d := c.must(http.StatusOK, "GET", "/outbound_webhook/"+webhookID+"/deliveries?status=pending&size=100", nil)
		items, _ := d["items"].([]any)
		for _, it := range items {
			if n, _ := it.(map[string]any)["attempt_count"].(float64); n >= 1 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no delivery failed while the broker was down: %v", d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
