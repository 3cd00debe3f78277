package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedOutput is an io.Writer that a test may read while a command, in
// another goroutine, writes to it.
type lockedOutput struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *lockedOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *lockedOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// waitOutput polls o until it matches re, or fails after timeout.
func waitOutput(t *testing.T, o *lockedOutput, re *regexp.Regexp, timeout time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if m := re.FindStringSubmatch(o.String()); m != nil {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %q in the output:\n%s", re, o.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDemoTour runs the whole tour, as a newcomer would, and reads its
// output: every seed event verified by the receiver, and the CRM's delivery
// failing twice and then succeeding, as GET /delivery confirms.
func TestDemoTour(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, []string{"demo", "--exit-after-tour"}, &out, &errOut, env{}.get)
	stdout := out.String()
	if code != 0 {
		t.Fatalf("demo exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout, errOut.String())
	}
	t.Log(stdout)

	const id = `[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}`
	for _, want := range []string{
		// The setup, through the API.
		`API +http://127\.0\.0\.1:\d+/api/v1`,
		`API key +ak_\S+`,
		`dashboard +http://127\.0\.0\.1:\d+/ +\(sign in with the API key above\)`,
		`Look around in the dashboard, http://127\.0\.0\.1:\d+/ \(API key ak_\S+\)`,
		`POST +/outbound_webhook +"My website" → http://127\.0\.0\.1:\d+/hooks/website`,
		`PATCH /assistant/\{id\} +Assign Webhook`,
		`POST +/form +"Algoscale Leads": name, email, query`,
		`POST +/intent +"SALES"`,
		// The three stories of Insighto's help article (docs/wire-format.md), each verified by the SDK, with its gist.
		`✓ captured_form.created ` + id + `  verified, to "My website"\n.*"Algoscale Leads".*on desktop\n +email +smith@example\.com\n +name +Smith Stevens\n +query +flask developer\n`,
		`✓ captured_intent.created ` + id + `  verified, to "My website"\n +intent SALES after 2 messages, on mobile`,
		`✓ conversation.closed ` + id + `  verified, to "My website"\n.*2 messages, on desktop, no contact\n +first_message "User: hi may i know how much is flu jab"\n +User: hi may i know how much is flu jab\n +Bot: +A flu jab costs £15`,
		// The retried delivery.
		`✗ captured_form.created (` + id + `)  verified, to "CRM", attempt 1 \(at once\): the CRM is down, answered 500; agenthooks will retry in about 1s`,
		`✗ captured_form.created ` + id + `  verified, to "CRM", attempt 2 \([\d.]+s after the first\): the CRM is down, answered 500; agenthooks will retry in about 2s`,
		`✓ captured_form.created ` + id + `  verified, to "CRM", attempt 3 \([\d.]+s after the first\): stored, answered 200`,
		`GET /delivery/\{id\}: succeeded after 3 attempts: 500 \(\d+ms\), 500 \(\d+ms\), 200 \(\d+ms\)`,
		// What to do next.
		`curl -s "\$API/event\?api_key=\$KEY"`,
		`curl -s "\$API/delivery/` + id + `\?api_key=\$KEY"`,
		`--exit-after-tour: stopping\.`,
	} {
		if !regexp.MustCompile(want).MatchString(stdout) {
			t.Errorf("the output lacks %s", want)
		}
	}
	// The second visitor's event reached "My website" once, untouched by the
	// CRM's failures, and the CRM three times with the same id.
	first := regexp.MustCompile(`(` + id + `)  verified, to "CRM", attempt 1 `).FindStringSubmatch(stdout)
	if first == nil {
		t.Fatal("no first attempt to the CRM")
	}
	eventID := first[1]
	if n := strings.Count(stdout, eventID+`  verified, to "CRM"`); n != 3 {
		t.Errorf("the CRM got event %s %d times, want 3", eventID, n)
	}
	if n := strings.Count(stdout, eventID+`  verified, to "My website"`); n != 1 {
		t.Errorf("My website got event %s %d times, want 1", eventID, n)
	}
	if strings.Contains(stdout, "refused a request") {
		t.Error("the receiver refused a request")
	}
	// The temporary database is gone.
	dir := regexp.MustCompile(`database +(\S+)/demo\.db`).FindStringSubmatch(stdout)
	if dir == nil {
		t.Fatal("the output does not show the database")
	}
	if _, err := os.Stat(dir[1]); !os.IsNotExist(err) {
		t.Errorf("the demo's temporary directory %s is still there (%v)", dir[1], err)
	}
}

// TestDemoRunsUntilInterrupted: without --exit-after-tour the demo keeps its
// server and receiver up after the tour, the printed URL and key work, an
// event sent then is printed, and cancelling (Ctrl-C) stops it with 0.
func TestDemoRunsUntilInterrupted(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut lockedOutput
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--retry-schedule", "100ms,200ms"}, &out, &errOut, env{}.get)
	}()
	m := waitOutput(t, &out, regexp.MustCompile(`export API=(\S+) KEY=(\S+)\n +export ASSISTANT=(\S+) WIDGET=(\S+)`), 90*time.Second)
	waitOutput(t, &out, regexp.MustCompile(`Press Ctrl-C to stop`), 5*time.Second)
	c := &client{t: t, base: strings.TrimSuffix(m[1], "/api/v1"), key: m[2]}

	evs := c.must(http.StatusOK, "GET", "/event", nil)
	if total, _ := evs["total"].(float64); total < 4 {
		t.Errorf("GET /event total %v, want at least the tour's 4 events", evs["total"])
	}
	conv := c.id("POST", "/conversation", map[string]any{"assistant_id": m[3], "widget_id": m[4], "device_type": "desktop"})
	c.must(http.StatusCreated, "POST", "/conversation/"+conv+"/message", map[string]any{"sender_type": "user", "text": "one more question"})
	c.must(http.StatusOK, "POST", "/conversation/"+conv+"/close", nil)
	waitOutput(t, &out, regexp.MustCompile(`✓ conversation.closed \S+  verified, to "My website"\n +conversation `+conv+`: 1 message, on desktop`), 30*time.Second)

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("demo exited %d after Ctrl-C, want 0; stderr:\n%s", code, errOut.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not stop after its context was cancelled")
	}
	if !strings.Contains(out.String(), "Stopped; removed") {
		t.Errorf("the output does not say it stopped:\n%s", out.String())
	}
	var probe map[string]any
	if resp, err := http.Get(m[1] + "/event?api_key=" + m[2]); err == nil {
		_ = json.NewDecoder(resp.Body).Decode(&probe)
		resp.Body.Close()
		t.Errorf("the API still answers after the demo stopped: %d %v", resp.StatusCode, probe)
	}
}

func TestDemoArguments(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		args   []string
		stderr string
	}{
		{"OneRetry", []string{"demo", "--retry-schedule", "1s"}, "at least two retries"},
		{"BadSchedule", []string{"demo", "--retry-schedule", "soon"}, "--retry-schedule"},
		{"Arguments", []string{"demo", "now"}, "takes no arguments"},
		{"UnknownFlag", []string{"demo", "--fast"}, "flag provided but not defined"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := runCLI(t, env{}, tt.args...)
			if code != 2 || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.stderr)
			}
		})
	}
}
