package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks/webhook"
	"github.com/agenthooks/agenthooks/webhook/signature"
)

type testBundle struct {
	db     *sql.DB
	url    string // the webhook endpoint
	base   string
	secret string
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	secret, err := signature.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	db, err := openDB(filepath.Join(t.TempDir(), "leads.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	v, err := webhook.NewVerifier(secret)
	if err != nil {
		t.Fatal(err)
	}
	h, err := newServer(context.Background(), db, v, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &testBundle{db: db, url: srv.URL + "/webhooks", base: srv.URL, secret: secret}
}

// event builds a captured_form delivery body as agenthooks sends it.
func event(id, typ, capturedFormID string, values map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{
		"id": id, "object": "event", "event": typ, "created_at": "2024-04-05 22:26:08",
		"data": map[string]any{
			"form_id": "018eaff3-67cb-7d86-bb5e-65c952c8dc2a", "form_name": "Algoscale Leads",
			"widget_id": "018cd9c9-a864-7de1-98c0-6478c74b9c2b", "assistant_id": "018cd9c8-e317-7079-accd-17be51784256",
			"field_values": values, "conversation_id": "018eb05d-cf6c-7631-8992-fd8377db4145",
			"captured_form_id": capturedFormID, "device_type": "desktop", "attributes": map[string]any{},
		},
	})
	return b
}

// deliver POSTs body signed with secret as an attempt of the event id, the
// way agenthooks does (a fresh timestamp on every attempt), and returns the status.
func (b *testBundle) deliver(t *testing.T, secret, id string, body []byte) int {
	t.Helper()
	status, err := b.post(secret, id, body)
	if err != nil {
		t.Fatal(err)
	}
	return status
}

// post is deliver for other goroutines than the test's.
func (b *testBundle) post(secret, id string, body []byte) (int, error) {
	key, err := signature.ParseSecret(secret)
	if err != nil {
		return 0, err
	}
	ts := time.Now().Unix()
	req, err := http.NewRequest(http.MethodPost, b.url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", signature.Header([][]byte{key}, id, ts, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func (b *testBundle) mustDeliver(t *testing.T, want int, id string, body []byte) {
	t.Helper()
	if got := b.deliver(t, b.secret, id, body); got != want {
		t.Fatalf("delivery %s answered %d, want %d", id, got, want)
	}
}

type row struct {
	Name, Email, Query, FieldValues, EventID string
}

func (b *testBundle) leads(t *testing.T) map[string]row {
	t.Helper()
	rows, err := b.db.Query(`SELECT captured_form_id, name, email, query, field_values, event_id FROM leads`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]row{}
	for rows.Next() {
		var id string
		var r row
		if err := rows.Scan(&id, &r.Name, &r.Email, &r.Query, &r.FieldValues, &r.EventID); err != nil {
			t.Fatal(err)
		}
		out[id] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Event ids are UUIDv7: they sort in creation order.
const (
	ev1 = "01a21135-0000-7000-8000-000000000001"
	ev2 = "01a21135-0000-7000-8000-000000000002"
	ev3 = "01a21135-0000-7000-8000-000000000003"
	ev4 = "01a21135-0000-7000-8000-000000000004"
	cf1 = "018eb05e-7177-7374-af12-66132614cb9f"
	cf2 = "018eb05e-7177-7374-af12-66132614cba0"
)

var smith = map[string]any{"name": "Smith Stevens", "email": "smith@example.com", "query": "flask developer"}

func TestLeads(t *testing.T) {
	t.Parallel()

	t.Run("CreatedDuplicateUpdated", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		created := event(ev1, webhook.EventCapturedFormCreated, cf1, smith)
		b.mustDeliver(t, http.StatusOK, ev1, created)
		want := row{"Smith Stevens", "smith@example.com", "flask developer", `{"email":"smith@example.com","name":"Smith Stevens","query":"flask developer"}`, ev1}
		if got := b.leads(t); !reflect.DeepEqual(got, map[string]row{cf1: want}) {
			t.Fatalf("after captured_form.created: %v", got)
		}

		// A duplicate (the same webhook-id, as when our 200 was lost) is
		// acknowledged and not stored again.
		b.mustDeliver(t, http.StatusOK, ev1, created)
		if got := b.leads(t); len(got) != 1 || got[cf1] != want {
			t.Fatalf("after the duplicate: %v", got)
		}
		var seen int
		if err := b.db.QueryRow(`SELECT count(*) FROM webhook_deliveries_seen WHERE id = $1 AND done = 1`, ev1).Scan(&seen); err != nil || seen != 1 {
			t.Errorf("the deduper recorded %s %d times (%v), want once", ev1, seen, err)
		}

		// captured_form.updated carries all values so far: the row takes them.
		updated := map[string]any{"name": "Smith Stevens", "email": "smith@stevens.dev", "query": "flask developer", "phone": "+44 20 7946 0000"}
		b.mustDeliver(t, http.StatusOK, ev2, event(ev2, webhook.EventCapturedFormUpdated, cf1, updated))
		got := b.leads(t)[cf1]
		if got.Email != "smith@stevens.dev" || got.EventID != ev2 || !strings.Contains(got.FieldValues, `"phone":"+44 20 7946 0000"`) {
			t.Errorf("after captured_form.updated: %+v", got)
		}
	})

	t.Run("RetryAfterFailure", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// The database loses the table: the handler answers 500 and
		// forgets its claim on the id, so agenthooks' retry is processed.
		if _, err := b.db.Exec(`DROP TABLE leads`); err != nil {
			t.Fatal(err)
		}
		body := event(ev1, webhook.EventCapturedFormCreated, cf1, smith)
		b.mustDeliver(t, http.StatusInternalServerError, ev1, body)
		s := &store{db: b.db}
		if err := s.migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := b.leads(t); len(got) != 0 {
			t.Fatalf("a failed delivery stored %v", got)
		}
		b.mustDeliver(t, http.StatusOK, ev1, body) // the retry: same webhook-id, new timestamp
		if got := b.leads(t); len(got) != 1 || got[cf1].Name != "Smith Stevens" {
			t.Fatalf("after the retry: %v", got)
		}
		b.mustDeliver(t, http.StatusOK, ev1, body) // and a duplicate of it
		if got := b.leads(t); len(got) != 1 || got[cf1].EventID != ev1 {
			t.Fatalf("after a duplicate of the retry: %v", got)
		}
	})

	t.Run("OutOfOrder", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// The creation failed its first attempts and arrives after the update.
		b.mustDeliver(t, http.StatusOK, ev4, event(ev4, webhook.EventCapturedFormUpdated, cf2, map[string]any{"name": "Ann", "email": "ann@new.example"}))
		b.mustDeliver(t, http.StatusOK, ev3, event(ev3, webhook.EventCapturedFormCreated, cf2, map[string]any{"name": "Ann", "email": "ann@old.example"}))
		if got := b.leads(t)[cf2]; got.Email != "ann@new.example" || got.EventID != ev4 {
			t.Errorf("the older event overwrote the newer: %+v", got)
		}
	})

	t.Run("Rejected", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		other, err := signature.NewSecret()
		if err != nil {
			t.Fatal(err)
		}
		body := event(ev1, webhook.EventCapturedFormCreated, cf1, smith)
		if got := b.deliver(t, other, ev1, body); got != http.StatusUnauthorized {
			t.Errorf("signed with another secret: %d, want 401", got)
		}
		noID := event(ev2, webhook.EventCapturedFormCreated, "", smith)
		if got := b.deliver(t, b.secret, ev2, noID); got != http.StatusBadRequest {
			t.Errorf("without captured_form_id: %d, want 400", got)
		}
		// Other event types are acknowledged and ignored.
		closed := []byte(`{"id": "` + ev3 + `", "object": "event", "event": "conversation.closed", "created_at": "2024-04-10 18:16:50", "data": {"chat_count": 2}}`)
		b.mustDeliver(t, http.StatusOK, ev3, closed)
		if got := b.leads(t); len(got) != 0 {
			t.Errorf("stored %v", got)
		}
		// The rejected delivery was not remembered: signed right, it is stored.
		b.mustDeliver(t, http.StatusOK, ev1, body)
		if got := b.leads(t); len(got) != 1 {
			t.Errorf("after the good delivery: %v", got)
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// Several copies of each of 10 events at once: one row each, no 5xx.
		var wg sync.WaitGroup
		statuses := make(chan int, 40)
		for i := range 10 {
			id := fmt.Sprintf("01a21135-0000-7000-8000-%012d", i)
			body := event(id, webhook.EventCapturedFormCreated, fmt.Sprintf("cf-%d", i), smith)
			for range 4 {
				wg.Go(func() {
					status, err := b.post(b.secret, id, body)
					if err != nil {
						t.Error(err)
					}
					statuses <- status
				})
			}
		}
		wg.Wait()
		close(statuses)
		for s := range statuses {
			if s != http.StatusOK && s != http.StatusConflict { // 409: a copy still in progress; agenthooks retries it
				t.Errorf("a concurrent copy answered %d", s)
			}
		}
		if got := b.leads(t); len(got) != 10 {
			t.Errorf("%d leads, want 10", len(got))
		}
	})

	t.Run("ListLeads", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.mustDeliver(t, http.StatusOK, ev1, event(ev1, webhook.EventCapturedFormCreated, cf1, smith))
		resp, err := http.Get(b.base + "/leads")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var leads []Lead
		if err := json.NewDecoder(resp.Body).Decode(&leads); err != nil {
			t.Fatal(err)
		}
		if len(leads) != 1 || leads[0].Name != "Smith Stevens" || leads[0].CapturedFormID != cf1 || leads[0].FormName != "Algoscale Leads" {
			t.Errorf("GET /leads: %+v", leads)
		}
	})
}

// lockedOutput lets the test read what run prints while it runs.
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

// TestRun runs the program as `go run ./examples/leads` would.
func TestRun(t *testing.T) {
	t.Parallel()
	t.Run("NeedsSecret", func(t *testing.T) {
		t.Parallel()
		var out, errOut bytes.Buffer
		if code := run(context.Background(), nil, &out, &errOut, func(string) string { return "" }); code != 2 || !strings.Contains(errOut.String(), "--secret") {
			t.Errorf("exit %d, stderr %q", code, errOut.String())
		}
	})
	t.Run("Serves", func(t *testing.T) {
		t.Parallel()
		secret, err := signature.NewSecret()
		if err != nil {
			t.Fatal(err)
		}
		dbPath := filepath.Join(t.TempDir(), "leads.db")
		ctx, cancel := context.WithCancel(context.Background())
		var out, errOut lockedOutput
		done := make(chan int, 1)
		go func() {
			done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--db", dbPath}, &out, &errOut, func(k string) string {
				if k == "WEBHOOK_SECRET" {
					return secret
				}
				return ""
			})
		}()
		re := regexp.MustCompile(`webhook_endpoint=(\S+)`)
		var endpoint string
		for deadline := time.Now().Add(10 * time.Second); endpoint == ""; time.Sleep(10 * time.Millisecond) {
			if m := re.FindStringSubmatch(out.String()); m != nil {
				endpoint = m[1]
			} else if time.Now().After(deadline) {
				cancel()
				t.Fatalf("no endpoint printed; stdout %q stderr %q", out.String(), errOut.String())
			}
		}
		b := &testBundle{url: endpoint, secret: secret}
		b.mustDeliver(t, http.StatusOK, ev1, event(ev1, webhook.EventCapturedFormCreated, cf1, smith))
		cancel()
		if code := <-done; code != 0 {
			t.Fatalf("exit %d; stderr %q", code, errOut.String())
		}
		if !strings.Contains(out.String(), `msg="lead stored"`) {
			t.Errorf("stdout %q does not log the lead", out.String())
		}
		db, err := openDB(dbPath)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var name string
		if err := db.QueryRow(`SELECT name FROM leads WHERE captured_form_id = $1`, cf1).Scan(&name); err != nil || name != "Smith Stevens" {
			t.Errorf("stored name %q (%v)", name, err)
		}
	})
}
