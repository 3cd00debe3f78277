package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/egress"
	"github.com/agenthooks/agenthooks/httpapi"
	"github.com/agenthooks/agenthooks/service"
	"github.com/agenthooks/agenthooks/sqlite"
)

// downStore is a real store that can be switched to fail every call the way
// an engine does when its database is unreachable (agenthooks.Unavailable).
type downStore struct {
	agenthooks.Store
	down atomic.Bool
}

func (s *downStore) err() error {
	if s.down.Load() {
		return agenthooks.Unavailable(errors.New("injected: connection refused"))
	}
	return nil
}

func (s *downStore) Write(ctx context.Context, fn func(agenthooks.Tx) error) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.Write(ctx, fn)
}

func (s *downStore) Read(ctx context.Context, fn func(agenthooks.Tx) error) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.Read(ctx, fn)
}

func (s *downStore) ReadOne(ctx context.Context, fn func(agenthooks.Tx) error) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.ReadOne(ctx, fn)
}

// syncBuffer is a log destination safe for concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestStoreUnavailable: while the store cannot take requests, every call,
// read or write, authenticated or idempotent, answers 503 with Retry-After
// and {"detail": ...} (never 500), the log says so at warn once, not once per
// call, and nothing of those calls is stored.
func TestStoreUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	real, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "a.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer real.Close()
	store := &downStore{Store: real}
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc := service.New(store, egress.Policy{Resolver: resolver}, log)
	srv := httptest.NewServer(httpapi.New(svc, log))
	defer srv.Close()
	acct, err := svc.CreateAccount(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	call := func(method, path, body string, header ...string) (int, http.Header, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+"/api/v1"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+acct.APIKey)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, resp.Header, m
	}
	webhook := `{"name": "crm", "endpoint": "` + publicEndpoint + `"}`

	store.down.Store(true)
	cases := []struct{ method, path, body, key string }{
		{"POST", "/outbound_webhook", webhook, ""},
		{"POST", "/outbound_webhook", webhook, "k1"},
		{"GET", "/outbound_webhook", "", ""},
		{"GET", "/event", "", ""},
		{"POST", "/assistant", `{"name": "a"}`, ""},
	}
	for range 3 {
		for _, c := range cases {
			var h []string
			if c.key != "" {
				h = []string{"Idempotency-Key", c.key}
			}
			status, header, body := call(c.method, c.path, c.body, h...)
			if status != http.StatusServiceUnavailable || header.Get("Retry-After") != "5" {
				t.Errorf("%s %s with the store down: %d, Retry-After %q; want 503, 5", c.method, c.path, status, header.Get("Retry-After"))
			}
			if d, ok := body["detail"].(string); !ok || d == "" {
				t.Errorf("%s %s: body %v, want a detail", c.method, c.path, body)
			}
		}
	}
	if n := strings.Count(logs.String(), "msg=\"store unavailable"); n != 1 {
		t.Errorf("%d log lines about the outage for %d calls, want 1:\n%s", n, 3*len(cases), logs.String())
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("the outage was logged at ERROR:\n%s", logs.String())
	}

	store.down.Store(false)
	if status, _, body := call("GET", "/outbound_webhook", ""); status != http.StatusOK || body["data"].(map[string]any)["total"] != 0.0 {
		t.Errorf("after the outage: %d %v, want 200 and no webhook stored", status, body)
	}
	if status, _, _ := call("POST", "/outbound_webhook", webhook, "Idempotency-Key", "k1"); status != http.StatusCreated {
		t.Errorf("the idempotency key of a 503 after the outage: %d, want 201 (a 503 is not remembered)", status)
	}
}
