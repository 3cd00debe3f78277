package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks/internal/testdb"
)

// The receiving examples of docs/receiving.md live in docs/receiving: a Node.js
// script on the npm standardwebhooks package and a Python one on the standard
// library. TestReceivingExamples runs both on real deliveries.

// receivingDir is docs/receiving, from this package's directory.
const receivingDir = "../../docs/receiving"

// requireTools returns the paths of node, npm and python3. When one is
// missing the test is skipped on a developer's machine and fails in CI
// (CI=true), so that a green CI run means the examples were run.
func requireTools(t *testing.T) (node, npm, python string) {
	t.Helper()
	paths := map[string]string{}
	var missing []string
	for _, tool := range []string{"node", "npm", "python3"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			missing = append(missing, tool)
			continue
		}
		paths[tool] = p
	}
	if len(missing) > 0 {
		msg := "the receiving examples need " + strings.Join(missing, ", ") + " on PATH"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return paths["node"], paths["npm"], paths["python3"]
}

var npmCI struct {
	once sync.Once
	out  []byte
	err  error
}

// ensureNodeModules installs the Node example's dependencies from its
// package-lock.json (npm ci) unless they are there already.
func ensureNodeModules(t *testing.T, npm, dir string) {
	t.Helper()
	npmCI.once.Do(func() {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "standardwebhooks", "package.json")); err == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		npmCI.out, npmCI.err = cmd.CombinedOutput()
	})
	if npmCI.err != nil {
		msg := "npm ci in " + dir + ": " + npmCI.err.Error() + "\n" + string(npmCI.out)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// capture is a webhook endpoint that keeps each request's raw body and headers.
type capture struct {
	mu   sync.Mutex
	got  []capturedRequest
	more chan struct{}
}

type capturedRequest struct {
	body   []byte
	header http.Header
}

func (c *capture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	c.got = append(c.got, capturedRequest{body, r.Header.Clone()})
	c.mu.Unlock()
	select {
	case c.more <- struct{}{}:
	default:
	}
}

// next waits for the n-th request (from 1).
func (c *capture) next(t *testing.T, n int) capturedRequest {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		c.mu.Lock()
		if len(c.got) >= n {
			r := c.got[n-1]
			c.mu.Unlock()
			return r
		}
		c.mu.Unlock()
		select {
		case <-c.more:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no delivery %d within 30s", n)
		}
	}
}

// deliveryFiles writes a delivery as the examples read it: the raw body, and
// the headers as a JSON object.
func deliveryFiles(t *testing.T, body []byte, header http.Header) (string, string) {
	t.Helper()
	dir := t.TempDir()
	h := map[string]string{}
	for k := range header {
		h[strings.ToLower(k)] = header.Get(k)
	}
	hb, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	bodyFile, headersFile := filepath.Join(dir, "body.json"), filepath.Join(dir, "headers.json")
	if err := os.WriteFile(bodyFile, body, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(headersFile, hb, 0o600); err != nil {
		t.Fatal(err)
	}
	return bodyFile, headersFile
}

// verifier is one of the examples, as a command line.
type verifier struct {
	name string
	dir  string
	argv []string // the command, to which BODY_FILE HEADERS_FILE are added
}

// run runs the example with WEBHOOK_SECRET=secrets and returns its exit code
// and output.
func (v verifier) run(t *testing.T, secrets, bodyFile, headersFile string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, v.argv[0], append(v.argv[1:], bodyFile, headersFile)...)
	cmd.Dir = v.dir
	cmd.Env = append(os.Environ(), "WEBHOOK_SECRET="+secrets)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err == nil {
		return 0, out.String()
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String()
	}
	t.Fatalf("%s: %v", v.name, err)
	return 0, ""
}

// TestReceivingExamples makes real signed deliveries (a server in-process, a
// conversation closed through the API) and checks that the Node and Python
// examples of docs/receiving accept them, and reject them once tampered with
// or checked with another secret, also during a secret rotation (two
// signatures in one header).
func TestReceivingExamples(t *testing.T) {
	t.Parallel()
	node, npm, python := requireTools(t)
	dir, err := filepath.Abs(receivingDir)
	if err != nil {
		t.Fatal(err)
	}
	ensureNodeModules(t, npm, filepath.Join(dir, "node"))
	verifiers := []verifier{
		{"node", filepath.Join(dir, "node"), []string{node, "verify.mjs"}},
		{"python", filepath.Join(dir, "python"), []string{python, "verify.py"}},
	}

	a, key := startApp(t, env{"AGENTHOOKS_DATABASE_URL": "sqlite:" + testdb.SQLitePath(t)})
	c := &client{t: t, base: a.URL(), key: key}
	endpoint := &capture{more: make(chan struct{}, 1)}
	srv := httptest.NewServer(endpoint)
	t.Cleanup(srv.Close)

	wh := c.must(http.StatusCreated, "POST", "/outbound_webhook", map[string]any{"name": "docs", "endpoint": srv.URL + "/webhooks", "events": []string{"conversation.closed"}})
	webhookID, secret := wh["id"].(string), wh["secret"].(string)
	assistant := c.id("POST", "/assistant", map[string]any{"name": "Pharmacy assistant", "webhook_id": webhookID})
	widget := c.id("POST", "/widget", map[string]any{"assistant_id": assistant, "name": "chat", "widget_type": "chat"})
	closeOne := func() {
		conv := c.id("POST", "/conversation", map[string]any{"assistant_id": assistant, "widget_id": widget, "device_type": "desktop"})
		c.must(http.StatusCreated, "POST", "/conversation/"+conv+"/message", map[string]any{"sender_type": "user", "text": "hi may i know how much is flu jab"})
		// Non-ASCII text: the examples must verify the bytes, not a re-encoding.
		c.must(http.StatusCreated, "POST", "/conversation/"+conv+"/message", map[string]any{"sender_type": "bot", "text": "A flu jab costs £15 💉, «sans rendez-vous»."})
		c.must(http.StatusOK, "POST", "/conversation/"+conv+"/close", nil)
	}

	closeOne()
	d := endpoint.next(t, 1)
	if !bytes.Contains(d.body, []byte("£15 💉")) {
		t.Fatalf("the delivery does not carry the non-ASCII text as UTF-8: %s", d.body)
	}
	other := c.must(http.StatusCreated, "POST", "/outbound_webhook", map[string]any{"name": "other", "endpoint": srv.URL + "/other"})["secret"].(string)

	tamperedHeader := d.header.Clone()
	ts, err := strconv.ParseInt(d.header.Get("webhook-timestamp"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	tamperedHeader.Set("webhook-timestamp", strconv.FormatInt(ts-1, 10))
	oldHeader := d.header.Clone()
	oldHeader.Set("webhook-timestamp", "1000000000")
	cases := []receivingCase{
		{"Verified", secret, d.body, d.header, 0},
		{"TamperedBody", secret, bytes.Replace(d.body, []byte("flu jab"), []byte("flu jabs"), 1), d.header, 1},
		{"ReencodedBody", secret, reencode(t, d.body), d.header, 1},
		{"OtherSecret", other, d.body, d.header, 1},
		{"TamperedTimestamp", secret, d.body, tamperedHeader, 1},
		{"Replayed", secret, d.body, oldHeader, 1},
		{"EitherSecret", other + "," + secret, d.body, d.header, 0},
	}

	// A rotation: the old secret keeps signing alongside the new one, so a
	// delivery then carries two signatures, and either secret verifies it.
	rotated := c.must(http.StatusOK, "POST", "/outbound_webhook/"+webhookID+"/rotate_secret", nil)["secret"].(string)
	closeOne()
	r := endpoint.next(t, 2)
	if n := len(strings.Fields(r.header.Get("webhook-signature"))); n != 2 {
		t.Fatalf("during the rotation webhook-signature has %d entries, want 2: %q", n, r.header.Get("webhook-signature"))
	}
	cases = append(cases,
		receivingCase{"RotationOldSecret", secret, r.body, r.header, 0},
		receivingCase{"RotationNewSecret", rotated, r.body, r.header, 0},
		receivingCase{"RotationTampered", rotated, bytes.Replace(r.body, []byte("£15"), []byte("£5"), 1), r.header, 1},
	)

	for _, v := range verifiers {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					bodyFile, headersFile := deliveryFiles(t, tc.body, tc.header)
					code, out := v.run(t, tc.secrets, bodyFile, headersFile)
					if code != tc.want {
						t.Errorf("%s exited %d, want %d; output:\n%s", v.name, code, tc.want, out)
					}
					if tc.want == 0 && !strings.Contains(out, "verified: conversation.closed "+tc.header.Get("webhook-id")) {
						t.Errorf("%s printed %q, want the event type and id", v.name, out)
					}
				})
			}
			t.Run("Usage", func(t *testing.T) {
				t.Parallel()
				bodyFile, headersFile := deliveryFiles(t, d.body, d.header)
				if code, out := v.run(t, "", bodyFile, headersFile); code != 2 {
					t.Errorf("without WEBHOOK_SECRET: exit %d, want 2; output:\n%s", code, out)
				}
			})
		})
	}
}

// receivingCase is a delivery given to the examples and the exit code wanted.
type receivingCase struct {
	name    string
	secrets string // WEBHOOK_SECRET
	body    []byte
	header  http.Header
	want    int
}

// reencode parses and re-serialises a JSON body: the same data, other bytes,
// which a receiver must not verify (it has to verify the raw body).
func reencode(t *testing.T, body []byte) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(b, body) {
		b = append(b, '\n')
	}
	return b
}
