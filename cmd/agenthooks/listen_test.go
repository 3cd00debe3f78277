package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks/webhook/signature"
)

// listenBundle is a running `agenthooks listen` and what it needs to be
// sent deliveries.
type listenBundle struct {
	url    string // http://host:port/
	secret string
	out    *lockedOutput
}

// startListen runs `agenthooks listen` on a free port with a new secret and
// the extra arguments, until the end of the test.
func startListen(t *testing.T, extra ...string) *listenBundle {
	t.Helper()
	secret, err := signature.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &listenBundle{secret: secret, out: &lockedOutput{}}
	var errOut lockedOutput
	done := make(chan int, 1)
	args := append([]string{"listen", "--secret", secret, "--addr", "127.0.0.1:0"}, extra...)
	go func() { done <- run(ctx, args, b.out, &errOut, env{}.get) }()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("listen exited %d; stderr %s", code, errOut.String())
			}
		case <-time.After(10 * time.Second):
			t.Error("listen did not stop when its context was cancelled")
		}
	})
	m := waitOutput(t, b.out, regexp.MustCompile(`Listening on (http://\S+/)`), 10*time.Second)
	b.url = m[1]
	return b
}

// signedDelivery is a delivery as agenthooks sends it, signed with secret.
func signedDelivery(t *testing.T, url, secret, id string, body []byte) *http.Request {
	t.Helper()
	key, err := signature.ParseSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Now().Unix()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(signature.HeaderID, id)
	req.Header.Set(signature.HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(signature.HeaderSignature, signature.Header([][]byte{key}, id, ts, body))
	return req
}

func sendDelivery(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

const listenEventID = "01a21135-93e1-7813-8edf-5a924f88a0ac"

var listenBody = []byte(`{"id": "` + listenEventID + `", "object": "event", "event": "captured_form.created", "created_at": "2024-04-05 22:26:08",
 "data": {"form_id": "f", "form_name": "Algoscale Leads", "field_values": {"name": "Smith Stevens", "email": "smith@example.com", "query": "flask developer"}}}`)

func TestListen(t *testing.T) {
	t.Parallel()

	t.Run("Verified", func(t *testing.T) {
		t.Parallel()
		l := startListen(t)
		status, _ := sendDelivery(t, signedDelivery(t, l.url, l.secret, listenEventID, listenBody))
		if status != http.StatusOK {
			t.Fatalf("a correctly signed delivery answered %d, want 200", status)
		}
		waitOutput(t, l.out, regexp.MustCompile(`✓ captured_form.created `+listenEventID+` verified\n`), 5*time.Second)
		waitOutput(t, l.out, regexp.MustCompile(`"form_name": "Algoscale Leads"`), time.Second)

		// The platform's retry of the same event is printed as such.
		status, _ = sendDelivery(t, signedDelivery(t, l.url, l.secret, listenEventID, listenBody))
		if status != http.StatusOK {
			t.Fatalf("the retry answered %d, want 200", status)
		}
		waitOutput(t, l.out, regexp.MustCompile(`✓ captured_form.created `+listenEventID+` verified \(attempt 2\)`), 5*time.Second)
	})

	t.Run("BadSignature", func(t *testing.T) {
		t.Parallel()
		l := startListen(t)
		other, err := signature.NewSecret()
		if err != nil {
			t.Fatal(err)
		}
		for name, req := range map[string]*http.Request{
			"other secret":  signedDelivery(t, l.url, other, listenEventID, listenBody),
			"tampered body": signedDelivery(t, l.url, l.secret, listenEventID, listenBody),
			"no signature":  signedDelivery(t, l.url, l.secret, listenEventID, listenBody),
		} {
			switch name {
			case "tampered body":
				tampered := bytes.Replace(listenBody, []byte("Smith"), []byte("Smyth"), 1)
				req.Body = io.NopCloser(bytes.NewReader(tampered))
				req.ContentLength = int64(len(tampered))
			case "no signature":
				req.Header.Del(signature.HeaderSignature)
			}
			if status, _ := sendDelivery(t, req); status != http.StatusUnauthorized {
				t.Errorf("%s: answered %d, want 401", name, status)
			}
		}
		waitOutput(t, l.out, regexp.MustCompile(`(?s)(✗ rejected `+listenEventID+`: .*){3}`), 5*time.Second)
		if strings.Contains(l.out.String(), "✓") {
			t.Errorf("listen accepted a badly signed request:\n%s", l.out.String())
		}
		// Only POST is a delivery.
		resp, err := http.Get(l.url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET answered %d, want 405", resp.StatusCode)
		}
	})

	t.Run("ForwardTo", func(t *testing.T) {
		t.Parallel()
		type forwarded struct {
			body   []byte
			header http.Header
		}
		var (
			mu     sync.Mutex
			got    []forwarded
			answer = http.StatusAccepted
		)
		app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			got = append(got, forwarded{b, r.Header.Clone()})
			status := answer
			mu.Unlock()
			w.WriteHeader(status)
		}))
		t.Cleanup(app.Close)
		l := startListen(t, "--forward-to", app.URL+"/webhooks")

		req := signedDelivery(t, l.url, l.secret, listenEventID, listenBody)
		status, _ := sendDelivery(t, req)
		if status != http.StatusAccepted {
			t.Errorf("listen answered %d, want the app's 202", status)
		}
		mu.Lock()
		if len(got) != 1 {
			t.Fatalf("the app got %d requests, want 1", len(got))
		}
		f := got[0]
		mu.Unlock()
		if !bytes.Equal(f.body, listenBody) {
			t.Errorf("forwarded body %q, want the delivered bytes %q", f.body, listenBody)
		}
		for _, h := range []string{signature.HeaderID, signature.HeaderTimestamp, signature.HeaderSignature, "Content-Type"} {
			if f.header.Get(h) != req.Header.Get(h) || f.header.Get(h) == "" {
				t.Errorf("forwarded %s %q, want %q", h, f.header.Get(h), req.Header.Get(h))
			}
		}
		waitOutput(t, l.out, regexp.MustCompile(`→ `+regexp.QuoteMeta(app.URL)+`/webhooks: 202`), 5*time.Second)

		// The app's failure is the platform's failure, so its retries reach the app.
		mu.Lock()
		answer = http.StatusInternalServerError
		mu.Unlock()
		if status, _ := sendDelivery(t, signedDelivery(t, l.url, l.secret, listenEventID, listenBody)); status != http.StatusInternalServerError {
			t.Errorf("listen answered %d, want the app's 500", status)
		}
		// A badly signed request is not forwarded.
		bad := signedDelivery(t, l.url, l.secret, listenEventID, listenBody)
		bad.Header.Set(signature.HeaderSignature, "v1,"+strings.Repeat("A", 43)+"=")
		if status, _ := sendDelivery(t, bad); status != http.StatusUnauthorized {
			t.Errorf("a bad signature answered %d, want 401", status)
		}
		mu.Lock()
		if len(got) != 2 {
			t.Errorf("the app got %d requests, want 2 (the bad one is not forwarded)", len(got))
		}
		mu.Unlock()
	})

	t.Run("ForwardToDown", func(t *testing.T) {
		t.Parallel()
		app := httptest.NewServer(http.NotFoundHandler())
		url := app.URL
		app.Close() // nothing listens there any more
		l := startListen(t, "--forward-to", url)
		if status, _ := sendDelivery(t, signedDelivery(t, l.url, l.secret, listenEventID, listenBody)); status != http.StatusBadGateway {
			t.Errorf("listen answered %d with its app down, want 502", status)
		}
	})
}
