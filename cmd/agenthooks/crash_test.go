package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds the agenthooks command once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "agenthooks-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "agenthooks")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serverProc is an agenthooks serve process.
type serverProc struct {
	cmd    *exec.Cmd
	apiKey string
}

func startProc(t *testing.T, databaseURL, addr string, first bool) *serverProc {
	t.Helper()
	cmd := exec.Command(binary(t), "serve")
	cmd.Env = append(os.Environ(),
		"AGENTHOOKS_DATABASE_URL="+databaseURL,
		"AGENTHOOKS_ADDR="+addr,
		"AGENTHOOKS_ALLOW_PRIVATE_ENDPOINTS=true",
		"AGENTHOOKS_RETRY_SCHEDULE=100ms,200ms,400ms,800ms,1s,1s,1s,1s",
		"AGENTHOOKS_DELIVERY_TIMEOUT=2s",
		"AGENTHOOKS_LOG_LEVEL=warn",
	)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = testWriter{t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serverProc{cmd: cmd}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	if first {
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil {
			t.Fatalf("reading the first account from serve: %v", err)
		}
		var acc struct {
			APIKey string `json:"api_key"`
		}
		if err := json.Unmarshal([]byte(line), &acc); err != nil {
			t.Fatalf("serve printed %q: %v", line, err)
		}
		p.apiKey = acc.APIKey
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server on %s did not become healthy", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCrashLosesNothing SIGKILLs the server while events are being accepted
// and delivered, restarts it on the same database, and checks that every
// event whose API call got a 2xx reaches the receiver at least once.
func TestCrashLosesNothing(t *testing.T) {
	t.Parallel()
	for engine, url := range engineURLs(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			dbURL := url(t)
			addr := freeAddr(t)
			p := startProc(t, dbURL, addr, true)
			c := &client{t: t, base: "http://" + addr, key: p.apiKey}

			r := newReceiver(t)
			r.status = func(string, int) int {
				time.Sleep(2 * time.Millisecond) // keep attempts in flight when the kill comes
				return http.StatusOK
			}
			wh := c.must(http.StatusCreated, "POST", "/outbound_webhook", map[string]any{"name": "crm", "endpoint": r.URL(), "events": []string{"conversation.closed"}})
			r.setSecret(wh["secret"].(string))
			as := c.id("POST", "/assistant", map[string]any{"name": "a", "webhook_id": wh["id"]})
			wg := c.id("POST", "/widget", map[string]any{"assistant_id": as, "name": "w", "widget_type": "phone"})
			const n = 600
			convs := make([]string, n)
			for i := range convs {
				convs[i] = c.id("POST", "/conversation", map[string]any{"assistant_id": as, "widget_id": wg, "device_type": "phone"})
			}

			// Close them from 8 clients; kill the server once 150 closes were accepted.
			var accepted sync.Map
			var count atomic.Int64
			killed := make(chan struct{})
			var once sync.Once
			var closers sync.WaitGroup
			httpc := &http.Client{Timeout: 5 * time.Second}
			for w := range 8 {
				closers.Add(1)
				go func() {
					defer closers.Done()
					for i := w; i < n; i += 8 {
						req, _ := http.NewRequest("POST", c.base+"/api/v1/conversation/"+convs[i]+"/close", nil)
						req.Header.Set("Authorization", "Bearer "+p.apiKey)
						resp, err := httpc.Do(req)
						if err != nil {
							return // the server is gone
						}
						resp.Body.Close()
						if resp.StatusCode == http.StatusOK {
							accepted.Store(convs[i], true)
							if count.Add(1) >= 150 {
								once.Do(func() {
									_ = p.cmd.Process.Signal(syscall.SIGKILL)
									close(killed)
								})
							}
						}
					}
				}()
			}
			select {
			case <-killed:
			case <-time.After(60 * time.Second):
				t.Fatal("150 closes were not accepted within 60s")
			}
			closers.Wait()
			_ = p.cmd.Wait()
			var want []string
			accepted.Range(func(k, _ any) bool { want = append(want, k.(string)); return true })
			r.mu.Lock()
			before := len(r.got)
			r.mu.Unlock()
			t.Logf("%d closes accepted before SIGKILL; %d deliveries had arrived", len(want), before)

			startProc(t, dbURL, addr, false)
			r.wait(90*time.Second, "every accepted event after the restart", func(got []received) bool {
				seen := map[string]bool{}
				for _, d := range got {
					data, _ := d.Event["data"].(map[string]any)
					if id, ok := data["conversation_id"].(string); ok {
						seen[id] = true
					}
				}
				for _, id := range want {
					if !seen[id] {
						return false
					}
				}
				return true
			})
		})
	}
}
