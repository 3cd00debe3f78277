package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/internal/heapmeter"
	"github.com/agenthooks/agenthooks/payload"
	"github.com/agenthooks/agenthooks/service"
)

// maxAnswer is the contract's bound on any answer (section 3).
const maxAnswer = 32 << 20

// maxValueHeap bounds the heap of an answer that is one value rather than a
// list: the largest, GET /conversation/{id} with its last 100 messages of
// 32 KiB, is a 3.2 MB answer built whole (its view, then its JSON).
const maxValueHeap = 32 << 20

// TestEveryReadBounded walks every GET route of the routes table (which
// TestRoutesCoverServer holds to every route the server registers, so a new
// route is walked here without being named) over an account seeded with
// rows of the most the API accepts: 100 of each list's items at their size
// limits (names 255 characters, descriptions 4 KiB, attributes 16 KiB), a
// transcript of 100 messages of 32 KiB and 100 events of 256 KiB. Each
// answer, asked with size=100, must be at most 32 MiB and take at most
// maxListHeap of heap while it is written (lists are written as they are
// read). It does not run in parallel: nothing else may allocate while it
// measures.
func TestEveryReadBounded(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	w := b.world(b.keyA)
	key := b.keyA
	name := func(i int) string { return fmt.Sprintf("%03d", i) + strings.Repeat("n", 252) }
	desc := strings.Repeat("<", 2048) + strings.Repeat("d", 2048)
	attrs := map[string]any{"notes": strings.Repeat("a", 16<<10-64)}
	headers := map[string]any{}
	for h := range 20 {
		headers[fmt.Sprintf("X-H%02d", h)] = strings.Repeat("v", 4096/20-8)
	}
	for i := range 99 {
		b.expect(http.StatusCreated, key, "POST", "/api/v1/outbound_webhook", map[string]any{"name": name(i), "endpoint": publicEndpoint, "headers": headers})
		b.expect(http.StatusCreated, key, "POST", "/api/v1/intent", map[string]any{"name": name(i), "description": desc})
		a := str(t, b.expect(http.StatusCreated, key, "POST", "/api/v1/assistant", map[string]any{"name": name(i), "webhook_id": w.webhook}).data(t), "id")
		wg := str(t, b.expect(http.StatusCreated, key, "POST", "/api/v1/widget", map[string]any{"assistant_id": a, "name": name(i), "widget_type": "chat"}).data(t), "id")
		b.expect(http.StatusCreated, key, "POST", "/api/v1/form", map[string]any{"name": name(i), "fields": []any{
			map[string]any{"name": name(i), "type": "text", "required": true}}})
		b.expect(http.StatusCreated, key, "POST", "/api/v1/contact", map[string]any{"first_name": name(i), "last_name": name(i), "email": fmt.Sprintf("c%d@example.com", i)})
		b.expect(http.StatusCreated, key, "POST", "/api/v1/conversation", map[string]any{"assistant_id": a, "widget_id": wg, "device_type": "desktop",
			"contact_id": w.contact, "attributes": attrs})
		b.expect(http.StatusCreated, key, "POST", "/api/v1/api_key", map[string]any{"name": name(i)})
	}
	// The transcript and the events, in the store (as AddMessage leaves
	// them, faster): 100 messages of 32 KiB and 100 maximal envelopes.
	acct, err := b.svc.Authenticate(ctx, key)
	must(t, err)
	err = b.store.Write(ctx, func(tx agenthooks.Tx) error {
		for i := range 100 {
			text := fmt.Sprintf("m%03d ", i)
			text += strings.Repeat("<", (service.MaxTextLen-len(text))/2)
			text += strings.Repeat("x", service.MaxTextLen-len(text))
			m := &agenthooks.Message{ID: service.NewID(), AccountID: acct.ID, ConversationID: w.conversation, SenderType: "user", MessageType: "text", Text: text, CreatedAt: tx.Now()}
			id := service.NewID()
			env := fmt.Sprintf(`{"id":%q,"object":"event","event":"conversation.updated","data":{"text":"`, id)
			env += strings.Repeat("<", payload.MaxEnvelopeBytes-len(env)-3) + `"}}`
			e := &agenthooks.Event{ID: id, AccountID: acct.ID, Type: agenthooks.EventConversationUpdated, ConversationID: w.conversation, Payload: json.RawMessage(env), CreatedAt: tx.Now()}
			d := &agenthooks.Delivery{ID: service.NewID(), AccountID: acct.ID, EventID: id, WebhookID: w.webhook, Status: agenthooks.DeliveryPending,
				NextAttemptAt: tx.Now().Add(24 * 3600e9), CreatedAt: tx.Now(), UpdatedAt: tx.Now()}
			if err := errors.Join(tx.CreateMessage(m), tx.CreateEvent(e), tx.CreateDelivery(d)); err != nil {
				return err
			}
		}
		return nil
	})
	must(t, err)

	for _, rt := range routes {
		if rt.method != "GET" {
			continue
		}
		t.Run(rt.pattern, func(t *testing.T) {
			path := rt.path("", w)
			if rt.kind != "" {
				path = rt.path(w.id(rt.kind), w)
			}
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			var status int
			var n int64
			heap := heapmeter.Peak(func() {
				req, err := http.NewRequest("GET", b.srv.URL+path+sep+"size=100", nil)
				must(t, err)
				req.Header.Set("Authorization", "Bearer "+key)
				resp, err := b.srv.Client().Do(req)
				must(t, err)
				defer resp.Body.Close()
				status = resp.StatusCode
				n, err = io.Copy(io.Discard, resp.Body)
				must(t, err)
			})
			t.Logf("%s: %d, %.2f MiB, peak heap %.1f MiB", path, status, float64(n)/(1<<20), float64(heap)/(1<<20))
			if status != http.StatusOK {
				t.Errorf("status %d", status)
			}
			if n > maxAnswer {
				t.Errorf("answer of %d bytes, over 32 MiB", n)
			}
			bound := maxValueHeap
			if slices.Contains(rt.keys, "list") {
				bound = maxListHeap
			}
			if heap > uint64(bound) {
				t.Errorf("peak heap %.1f MiB, over %d MiB", float64(heap)/(1<<20), bound>>20)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
