package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// vmRSSMB reads a process's resident set (VmRSS of /proc/PID/status) in
// MB; 0 when it cannot.
func vmRSSMB(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// peakRSS samples a process's VmRSS every 20 ms until stop is called, and
// returns the highest reading.
func peakRSS(pid int) (stop func() float64) {
	var mu sync.Mutex
	peak := 0.0
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			v := vmRSSMB(pid)
			mu.Lock()
			peak = max(peak, v)
			mu.Unlock()
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return func() float64 {
		close(done)
		<-finished
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

// latencies returns, for the conversations l accepted, the time from the
// close's answer to the event's first arrival at r, sorted.
func latencies(l *loadRun, r *receiver) []time.Duration {
	first := map[string]time.Time{}
	r.mu.Lock()
	for _, d := range r.got {
		data, _ := d.Event["data"].(map[string]any)
		if id, ok := data["conversation_id"].(string); ok {
			if _, seen := first[id]; !seen {
				first[id] = d.At
			}
		}
	}
	r.mu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []time.Duration
	for id, at := range l.accepted {
		if got, ok := first[id]; ok {
			out = append(out, got.Sub(at))
		}
	}
	slices.Sort(out)
	return out
}

func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[min(len(d)-1, int(q*float64(len(d))))]
}

// TestFaultHostileTransformations: webhooks whose transformation loops
// forever, allocates without end, recurses without end, throws or returns
// garbage, beside a healthy webhook under load, in one serve process. Each
// hostile attempt fails with its reason (line and column where the code
// has one), and is retried as any failed attempt; every healthy close
// arrives; the process stays up, and its memory stays bounded. The healthy
// p50 and p99 are logged, before the hostile webhooks fire and while they
// do; no time is asserted.
func TestFaultHostileTransformations(t *testing.T) {
	addr := freeAddr(t)
	p := spawn(t, faultEnv("sqlite:"+filepath.Join(t.TempDir(), "agenthooks.db"), addr), addr, true, "serve")
	base := "http://" + addr
	c := &client{t: t, base: base, key: p.apiKey}
	stopRSS := peakRSS(p.cmd.Process.Pid)

	// The baseline: healthy deliveries alone.
	r0 := newReceiver(t)
	l0 := setUpLoad(t, base, p.apiKey, r0, 150)
	l0.start(4, 5*time.Millisecond)
	waitFor(t, 120*time.Second, "the baseline load to finish", func() bool { return int(l0.next.Load()) >= len(l0.convs) })
	l0.halt()
	waitFor(t, 120*time.Second, "every baseline close delivered", func() bool { return allArrived(r0, l0.acceptedIDs()) })

	hostile := []struct {
		name, code, reason string
		line               bool // the reason carries a line and column
	}{
		{"loop", "function handler(w) {\n  for (;;) {}\n}", "timed out", true},
		{"allocation", "function handler(w) {\n  var a = [];\n  for (;;) { a.push(new Array(10000).join('x') + a.length) }\n}", "timed out", true},
		{"recursion", "function f(n) { return f(n + 1) + 1 }\nfunction handler(w) { return f(0) }", "call stack", true},
		{"throw", "function handler(w) {\n  throw new Error('hostile')\n}", "Error: hostile", true},
		{"garbage", "function handler(w) { return 42 }", "must return the webhook object", false},
		{"garbage payload", "function handler(w) { w.payload = function () {}; return w }", "JSON value", false},
		{"garbage url", "function handler(w) { w.url = 'gopher://x'; return w }", "url must be", false},
	}
	const perHostile = 2
	hooks := make([]string, len(hostile))
	var closes []string
	for i, h := range hostile {
		wh := c.must(http.StatusCreated, "POST", "/outbound_webhook", map[string]any{"name": "hostile " + h.name, "endpoint": r0.URL(),
			"events": []string{"conversation.closed"}, "transformation": map[string]any{"code": h.code}})
		hooks[i] = wh["id"].(string)
		as := c.id("POST", "/assistant", map[string]any{"name": "hostile " + h.name, "webhook_id": hooks[i]})
		wg := c.id("POST", "/widget", map[string]any{"assistant_id": as, "name": "w", "widget_type": "chat"})
		for range perHostile {
			closes = append(closes, c.id("POST", "/conversation", map[string]any{"assistant_id": as, "widget_id": wg, "device_type": "desktop"}))
		}
	}

	// The healthy load again, with the hostile deliveries failing and
	// retrying beside it (the fault tests' retry schedule is fast: they fail
	// again every second or so).
	r1 := newReceiver(t)
	l1 := setUpLoad(t, base, p.apiKey, r1, 300)
	for _, conv := range closes {
		c.must(http.StatusOK, "POST", "/conversation/"+conv+"/close", nil)
	}
	l1.start(4, 5*time.Millisecond)
	waitFor(t, 120*time.Second, "the load to finish", func() bool { return int(l1.next.Load()) >= len(l1.convs) })
	l1.halt()
	waitFor(t, 120*time.Second, "every healthy close delivered", func() bool { return allArrived(r1, l1.acceptedIDs()) })

	// Each hostile delivery has failed, with its reason, at least twice
	// (retried as any failure); none reached a receiver.
	for i, h := range hostile {
		var attempts []any
		waitFor(t, 120*time.Second, h.name+": two failed attempts per delivery", func() bool {
			ds := c.must(http.StatusOK, "GET", "/outbound_webhook/"+hooks[i]+"/deliveries", nil)["items"].([]any)
			if len(ds) != perHostile {
				return false
			}
			attempts = nil
			for _, d := range ds {
				full := c.must(http.StatusOK, "GET", "/delivery/"+d.(map[string]any)["id"].(string), nil)
				a, _ := full["attempts"].([]any)
				if len(a) < 2 || full["status"] != "pending" && full["status"] != "failed" {
					return false
				}
				attempts = append(attempts, a...)
			}
			return true
		})
		for _, a := range attempts {
			a := a.(map[string]any)
			msg, _ := a["error"].(string)
			if !strings.Contains(msg, h.reason) {
				t.Errorf("%s: attempt error %q, want %q", h.name, msg, h.reason)
			}
			if h.line && !strings.Contains(msg, "line ") {
				t.Errorf("%s: attempt error %q has no line and column", h.name, msg)
			}
			if a["status_code"] != nil {
				t.Errorf("%s: an attempt got an answer (%v): it was sent", h.name, a["status_code"])
			}
		}
		t.Logf("%s: %d attempts, e.g. %q", h.name, len(attempts), attempts[0].(map[string]any)["error"])
	}
	// Their endpoint is r0's, whose secret is another webhook's: a request
	// of theirs would be refused there.
	r0.mu.Lock()
	if len(r0.bad) > 0 {
		t.Errorf("the hostile webhooks' endpoint got requests: %v", r0.bad)
	}
	r0.mu.Unlock()

	select {
	case <-p.done:
		t.Fatalf("serve exited (%d) under hostile transformations:\n%s", p.exit, p.stderr.String())
	default:
	}
	if s := status(t, base+"/readyz"); s != http.StatusOK {
		t.Errorf("/readyz %d after the hostile transformations", s)
	}
	peak := stopRSS()
	before, during := latencies(l0, r0), latencies(l1, r1)
	// From the close's answer: an event can arrive before the client has
	// read it (a negative figure).
	t.Logf("healthy deliveries, from the close's answer to arrival: alone p50 %s p99 %s (%d); beside %d hostile webhooks p50 %s p99 %s (%d); peak RSS %.0f MB",
		quantile(before, 0.5), quantile(before, 0.99), len(before), len(hostile),
		quantile(during, 0.5), quantile(during, 0.99), len(during), peak)
	if peak > 400 {
		t.Errorf("peak RSS %.0f MB under hostile transformations, want under 400 MB", peak)
	}
	if n := l1.count(http.StatusInternalServerError) + l0.count(http.StatusInternalServerError); n > 0 {
		t.Errorf("%d calls answered 500", n)
	}
}
