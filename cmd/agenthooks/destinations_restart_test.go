//go:build linux

package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/redis/go-redis/v9"
)

// brokerProc is a throwaway broker process of the test's own, on a free
// port: the shared brokers are never stopped.
type brokerProc struct {
	t    *testing.T
	args []string
	env  []string            // added to the test's environment
	wait time.Duration       // how long it may take to listen (default 20s)
	cred *syscall.Credential // run as this user (nil: the test's)
	addr string
	cmd  *exec.Cmd
}

// freePort is a loopback port nothing listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// brokerSpec says how to start a throwaway broker: args and env are made
// from the free port chosen for it.
type brokerSpec struct {
	bin       string
	args, env func(port string) []string // either may be nil
	wait      time.Duration              // how long it may take to listen (default 20s)
	cred      *syscall.Credential        // run as this user (nil: the test's)
}

// newBrokerProc starts the broker of spec on a free loopback port, and
// kills it when the test ends.
func newBrokerProc(t *testing.T, spec brokerSpec) *brokerProc {
	bin := spec.bin
	path, err := exec.LookPath(bin)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	port := freePort(t)
	p := &brokerProc{t: t, args: []string{path}, addr: "127.0.0.1:" + port, wait: spec.wait, cred: spec.cred}
	if spec.args != nil {
		p.args = append(p.args, spec.args(port)...)
	}
	if spec.env != nil {
		p.env = spec.env(port)
	}
	p.start()
	t.Cleanup(p.kill)
	return p
}

func (p *brokerProc) start() {
	p.t.Helper()
	p.cmd = exec.Command(p.args[0], p.args[1:]...)
	if p.env != nil {
		p.cmd.Env = append(os.Environ(), p.env...)
	}
	// A group of its own, which kill ends whole: rabbitmq-server runs the
	// Erlang VM as a child.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: p.cred}
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	wait := p.wait
	if wait == 0 {
		wait = 20 * time.Second
	}
	deadline := time.Now().Add(wait)
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
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		_ = p.cmd.Wait()
		// Until the group's last process is gone its port may still be
		// bound: the next start must not find the old broker.
		for end := time.Now().Add(10 * time.Second); syscall.Kill(-p.cmd.Process.Pid, 0) == nil && time.Now().Before(end); {
			time.Sleep(10 * time.Millisecond)
		}
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
		slow  bool // the broker takes seconds to start (RabbitMQ's Erlang VM)
	}{
		{"nats", func(t *testing.T) (*brokerProc, map[string]any, func() []string) {
			p := newBrokerProc(t, brokerSpec{bin: "nats-server", args: func(port string) []string {
				return []string{"-a", "127.0.0.1", "-p", port, "-js", "-sd", filepath.Join(t.TempDir(), "js")}
			}})
			url := "nats://" + p.addr
			js := func(fn func(js jetstream.JetStream) error) { withJetStreamAt(t, url, fn) }
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
		}, false},
		{"redis", func(t *testing.T) (*brokerProc, map[string]any, func() []string) {
			// An XADD is confirmed once it is in the append-only file.
			p := newBrokerProc(t, brokerSpec{bin: "redis-server", args: func(port string) []string {
				return []string{"--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", t.TempDir()}
			}})
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
		}, false},
		{"rabbitmq", startRabbitMQ, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			proc, dest, read := tc.start(t)
			retry, retries := "200ms", 60 // the broker is down for well under 12s
			if tc.slow {
				retry, retries = "2s", 90 // RabbitMQ may take a minute to start on a busy machine
			}
			schedule := retry
			for range retries - 1 {
				schedule += "," + retry
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

			deadline := time.Now().Add(time.Duration(retries) * 2 * time.Second)
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

// startRabbitMQ starts a RabbitMQ node of the test's own (its own node
// name, ports, data and log directories, no plugins) with a durable topic
// exchange R and a durable queue R bound to it; read takes every message
// off the queue. The package's script runs the node as the rabbitmq user,
// so the directory is handed to it when the test runs as root.
func startRabbitMQ(t *testing.T) (*brokerProc, map[string]any, func() []string) {
	dir, err := os.MkdirTemp("", "agenthooks-rabbitmq-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	name := fmt.Sprintf("agenthooks-test-%d@localhost", time.Now().UnixNano())
	dist := freePort(t)
	env := func(port string) []string {
		return []string{"RABBITMQ_NODENAME=" + name, "RABBITMQ_NODE_IP_ADDRESS=127.0.0.1", "RABBITMQ_NODE_PORT=" + port,
			"RABBITMQ_DIST_PORT=" + dist, "RABBITMQ_MNESIA_BASE=" + filepath.Join(dir, "mnesia"), "RABBITMQ_LOG_BASE=" + filepath.Join(dir, "log"),
			"RABBITMQ_ENABLED_PLUGINS_FILE=" + filepath.Join(dir, "enabled_plugins"), "RABBITMQ_CONFIG_FILE=" + filepath.Join(dir, "rabbitmq.conf"),
			"RABBITMQ_FEATURE_FLAGS_FILE=" + filepath.Join(dir, "feature_flags"), "RABBITMQ_PID_FILE=" + filepath.Join(dir, "pid"),
			"ERL_CRASH_DUMP=" + filepath.Join(dir, "erl_crash.dump"), "HOME=" + dir}
	}
	if err := os.WriteFile(filepath.Join(dir, "enabled_plugins"), []byte("[].\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rabbitmq.conf"), []byte("loopback_users = none\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Debian's /usr/sbin/rabbitmq-server runs the node through su, in a
	// session of its own that a kill of the group would not reach: run
	// the script it wraps, as the rabbitmq user, directly.
	bin, cred := "rabbitmq-server", (*syscall.Credential)(nil)
	if _, err := os.Stat("/usr/lib/rabbitmq/bin/rabbitmq-server"); err == nil {
		bin = "/usr/lib/rabbitmq/bin/rabbitmq-server"
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("rabbitmq")
		if err != nil {
			t.Fatalf("RabbitMQ runs as the rabbitmq user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := filepath.Walk(dir, func(path string, _ os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			return os.Chown(path, uid, gid)
		}); err != nil {
			t.Fatal(err)
		}
	}
	p := newBrokerProc(t, brokerSpec{bin: bin, env: env, wait: 3 * time.Minute, cred: cred})
	url := "amqp://guest:guest@" + p.addr + "/"
	// The listener opens a moment before the node takes connections.
	waitFor(t, time.Minute, "RabbitMQ takes a connection", func() bool {
		conn, err := amqp.Dial(url)
		if err == nil {
			_ = conn.Close()
		}
		return err == nil
	})
	withRabbitAt(t, url, func(ch *amqp.Channel) error {
		if err := ch.ExchangeDeclare("R", "topic", true, false, false, false, nil); err != nil {
			return err
		}
		if _, err := ch.QueueDeclare("R", true, false, false, false, nil); err != nil {
			return err
		}
		return ch.QueueBind("R", "#", "R", false, nil)
	})
	read := func() []string {
		var ids []string
		withRabbitAt(t, url, func(ch *amqp.Channel) error {
			for {
				m, ok, err := ch.Get("R", true)
				if err != nil || !ok {
					return err
				}
				id, _ := m.Headers["webhook-id"].(string)
				ids = append(ids, id)
			}
		})
		return ids
	}
	return p, map[string]any{"type": "rabbitmq", "url": url, "exchange": "R", "routing_key": "R.{event}"}, read
}
