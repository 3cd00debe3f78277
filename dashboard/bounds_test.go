package dashboard_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/dashboard"
	"github.com/agenthooks/agenthooks/internal/heapmeter"
	"github.com/agenthooks/agenthooks/payload"
	"github.com/agenthooks/agenthooks/service"
)

// maxConversationPage and maxConversationHeap bound the dashboard's page of
// a conversation at the API's limits: 100 messages of 32 KiB. Rendered whole
// it was a 13 MB page (issue 25), several times that in heap while it was
// built; paged it is a few hundred KiB per page whatever the text holds.
const (
	maxConversationPage = 4 << 20
	maxConversationHeap = 12 << 20
)

// TestConversationPageBounded measures GET /conversations/{id} of a
// conversation of 100 maximal messages (half of each a character HTML
// escapes to four bytes): the page holds one bounded page of the transcript,
// the latest by default, with Previous and Next links that work without
// JavaScript, and neither its size nor the heap it takes grows with the
// conversation. It does not run in parallel: nothing else may allocate
// while it measures.
func TestConversationPageBounded(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	as, err := b.svc.CreateAssistant(ctx, b.acctA, service.AssistantInput{Name: "Support"})
	must(t, err)
	wg, err := b.svc.CreateWidget(ctx, b.acctA, service.WidgetInput{AssistantID: as.ID, Name: "site", WidgetType: "chat"})
	must(t, err)
	c, err := b.svc.CreateConversation(ctx, b.acctA, service.ConversationInput{AssistantID: as.ID, WidgetID: wg.ID, DeviceType: "desktop"})
	must(t, err)
	// Seeded in the store, as AddMessage would leave them but faster: 100
	// messages of the most text, and 100 events of the conversation with
	// envelopes of the most bytes (the page lists its events).
	const n = 100
	err = b.store.Write(ctx, func(tx agenthooks.Tx) error {
		for i := range n {
			head := fmt.Sprintf("message %03d ", i)
			fill := service.MaxTextLen - len(head)
			m := &agenthooks.Message{ID: service.NewID(), AccountID: b.acctA, ConversationID: c.ID, SenderType: []string{"user", "bot"}[i%2],
				MessageType: "text", Text: head + strings.Repeat("<", fill/2) + strings.Repeat("x", fill-fill/2), CreatedAt: tx.Now()}
			id := service.NewID()
			env := fmt.Sprintf(`{"id":%q,"object":"event","event":"conversation.updated","data":{"text":"`, id)
			env += strings.Repeat("x", payload.MaxEnvelopeBytes-len(env)-3) + `"}}`
			e := &agenthooks.Event{ID: id, AccountID: b.acctA, Type: agenthooks.EventConversationUpdated, ConversationID: c.ID, Payload: json.RawMessage(env), CreatedAt: tx.Now()}
			if err := errors.Join(tx.CreateMessage(m), tx.CreateEvent(e)); err != nil {
				return err
			}
		}
		c.ChatCount = n
		return tx.UpdateConversation(c)
	})
	must(t, err)
	br := b.signedIn(b.keyA)

	get := func(path string) (int, string) {
		t.Helper()
		req, err := http.NewRequest("GET", b.srv.URL+path, nil)
		must(t, err)
		res, err := br.c.Do(req)
		must(t, err)
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		must(t, err)
		return res.StatusCode, string(body)
	}
	var status int
	var body string
	heap := heapmeter.Peak(func() { status, body = get("/conversations/" + c.ID) })
	t.Logf("conversation of %d messages of %d KiB: page of %.1f KiB, peak heap %.1f MiB", n, service.MaxTextLen>>10, float64(len(body))/1024, float64(heap)/(1<<20))
	if status != http.StatusOK {
		t.Fatalf("status %d: %.500s", status, body)
	}
	if len(body) > maxConversationPage {
		t.Errorf("page of %d bytes, over %d MiB", len(body), maxConversationPage>>20)
	}
	if heap > maxConversationHeap {
		t.Errorf("peak heap %.1f MiB, over %d MiB", float64(heap)/(1<<20), maxConversationHeap>>20)
	}
	// The default is the latest messages; Previous leads back page by page
	// to the first, and Next forward again.
	if !strings.Contains(body, "message 099") || strings.Contains(body, "message 000 ") {
		t.Errorf("the default page does not show the latest messages")
	}
	if !strings.Contains(body, `href="/conversations/`+c.ID+`?page=4"`) || !strings.Contains(body, "Page 5 of 5") {
		t.Errorf("the last page lacks its Previous link to page 4 or its position")
	}
	_, first := get("/conversations/" + c.ID + "?page=1")
	if !strings.Contains(first, "message 000 ") || strings.Contains(first, "message 020 ") || !strings.Contains(first, `href="/conversations/`+c.ID+`?page=2"`) {
		t.Errorf("page 1 does not hold the first 20 messages with a Next link")
	}
	if s, beyond := get("/conversations/" + c.ID + "?page=9"); s != http.StatusOK || !strings.Contains(beyond, "No messages on this page") || !strings.Contains(beyond, "?page=5") {
		t.Errorf("a page beyond the last: status %d, no message or link back", s)
	}
}

// TestSessionRateLimit: a session gets its burst of pages (twice the rate),
// then a 429 page in plain words with Retry-After, changing nothing; another
// session of the same account is apart, static assets are not counted, and
// the session has pages again once its bucket refills.
func TestSessionRateLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, options{sessionRate: 2})
	br := b.signedIn(b.keyA) // the sign-in's GET / takes one
	for i := range 3 {
		if p := br.get("/webhooks"); p.Status != http.StatusOK {
			t.Fatalf("page %d of the burst: status %d", i+2, p.Status)
		}
	}
	p := br.get("/webhooks")
	expectStatus(t, p, http.StatusTooManyRequests)
	contains(t, p, "Too many requests", "more than 2 pages a second", "nothing was changed")
	if p.Header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After %q, want 1", p.Header.Get("Retry-After"))
	}
	// A POST over the rate changes nothing.
	p = br.post("/webhooks", url.Values{"name": {"over"}, "endpoint": {"https://hooks.example.com/over"}})
	expectStatus(t, p, http.StatusTooManyRequests)
	l, err := b.svc.ListWebhooks(context.Background(), b.acctA, agenthooks.Page{Page: 1, Size: 10})
	must(t, err)
	if l.Total != 0 {
		t.Errorf("a POST over the rate created %d webhooks", l.Total)
	}
	if s := br.get("/static/style.css"); s.Status == http.StatusTooManyRequests {
		t.Error("a static asset was counted")
	}
	other := b.signedIn(b.keyA)
	if p := other.get("/webhooks"); p.Status != http.StatusOK {
		t.Errorf("another session of the account: status %d", p.Status)
	}
	b.advanceLimiter(2 * time.Second)
	if p := br.get("/webhooks"); p.Status != http.StatusOK {
		t.Errorf("after the bucket refilled: status %d", p.Status)
	}
}

// maxDashAnswer and maxDashHeap bound every dashboard page (contract
// sections 3 and 7: no answer over 32 MiB, every page bounded).
const (
	maxDashAnswer = 32 << 20
	maxDashHeap   = 16 << 20
)

// TestEveryPageBounded walks every GET route of the dashboard's route table
// (dashboard.RegisteredRoutes, so a new page is walked without being named),
// signed in as an account seeded at the limits: 100 messages of 32 KiB and
// 100 events of 256 KiB in one conversation, 60 webhooks with 255-character
// names and 4 KiB of headers, 60 assistants with 4 KiB descriptions. Each
// page must answer below 500, at most 32 MiB, within maxDashHeap of heap.
// The portal link route is exempt (it signs in; its token is used up by
// isoWorld). It does not run in parallel: nothing else may allocate while
// it measures.
func TestEveryPageBounded(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	w := b.isoWorld(t)
	name := func(i int) string { return fmt.Sprintf("%03d", i) + strings.Repeat("<", service.MaxNameChars-3) }
	headers := map[string]string{}
	for h := range 20 {
		headers[fmt.Sprintf("X-H%02d", h)] = strings.Repeat("&", 4096/20-8)
	}
	for i := range 60 {
		_, err := b.svc.CreateWebhook(ctx, b.acctA, service.WebhookInput{Name: name(i), Endpoint: "https://hooks.example.com/" + strconv.Itoa(i), Headers: headers})
		must(t, err)
		_, err = b.svc.CreateAssistant(ctx, b.acctA, service.AssistantInput{Name: name(i), Description: strings.Repeat("\"", service.MaxDescriptionBytes)})
		must(t, err)
	}
	conv := w.ids["conversation"]
	var maxEvent string // the event page shows a maximal envelope
	err := b.store.Write(ctx, func(tx agenthooks.Tx) error {
		for i := range 100 {
			m := &agenthooks.Message{ID: service.NewID(), AccountID: b.acctA, ConversationID: conv, SenderType: "user", MessageType: "text",
				Text: strings.Repeat("<", service.MaxTextLen), CreatedAt: tx.Now()}
			id := service.NewID()
			env := fmt.Sprintf(`{"id":%q,"object":"event","event":"conversation.updated","data":{"text":"`, id)
			env += strings.Repeat("<", payload.MaxEnvelopeBytes-len(env)-3) + `"}}`
			e := &agenthooks.Event{ID: id, AccountID: b.acctA, Type: agenthooks.EventConversationUpdated, ConversationID: conv, Payload: json.RawMessage(env), CreatedAt: tx.Now()}
			if err := errors.Join(tx.CreateMessage(m), tx.CreateEvent(e)); err != nil {
				return fmt.Errorf("seed %d: %w", i, err)
			}
			maxEvent = id
		}
		return nil
	})
	must(t, err)
	w.ids["event"] = maxEvent
	br := b.signedIn(b.keyA)
	d, err := dashboard.New(dashboard.Options{Service: b.svc})
	must(t, err)
	walked := 0
	for _, pattern := range dashboard.RegisteredRoutes(d) {
		path, ok := strings.CutPrefix(pattern, "GET ")
		if !ok || pattern == "GET /portal/{token}" {
			continue
		}
		if path == "/static/" {
			path = "/static/htmx.min.js"
		}
		filled, ok := fillPath(t, w, path, true)
		if !ok {
			continue
		}
		walked++
		var status int
		var n int
		heap := heapmeter.Peak(func() {
			req, err := http.NewRequest("GET", b.srv.URL+filled, nil)
			must(t, err)
			res, err := br.c.Do(req)
			must(t, err)
			defer res.Body.Close()
			body, err := io.ReadAll(res.Body)
			must(t, err)
			status, n = res.StatusCode, len(body)
		})
		t.Logf("%s: %d, %.2f MiB, peak heap %.1f MiB", pattern, status, float64(n)/(1<<20), float64(heap)/(1<<20))
		if status >= 500 {
			t.Errorf("%s: status %d", filled, status)
		}
		if n > maxDashAnswer {
			t.Errorf("%s: %d bytes, over 32 MiB", filled, n)
		}
		if heap > maxDashHeap {
			t.Errorf("%s: peak heap %.1f MiB, over %d MiB", filled, float64(heap)/(1<<20), maxDashHeap>>20)
		}
	}
	if walked < 20 {
		t.Errorf("only %d pages walked", walked)
	}
}
