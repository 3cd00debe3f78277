package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/agenthooks/agenthooks/internal/apiclient"
	"github.com/agenthooks/agenthooks/webhook"
)

// session is one run's state: the API client, the receiver's endpoints and what
// arrived.
type session struct {
	out         *output
	api         *apiclient.Client
	schedule    []time.Duration
	receiverURL string
	arrivals    chan arrival

	mu    sync.Mutex
	hooks map[string]http.Handler // receiver path → verifying handler
	seen  map[string]int          // "hook id" → attempts that reached the handler
	// firstTry is when the CRM got each event's first attempt.
	firstTry map[string]time.Time

	world struct {
		webhook, crm, assistant, widget, form, intent string
		lastEvent, retried                            string
	}
}

// arrival is one verified request that reached a receiver endpoint.
type arrival struct {
	hook    string // "website" or "crm"
	typ     string
	id      string
	conv    string // conversation id from the data, if any
	attempt int
	ok      bool // answered 2xx
}

func (d *session) printf(format string, args ...any) { d.out.printf(format, args...) }

// ServeHTTP is the receiver: each path is one webhook's endpoint, served by
// webhook.NewHandler with that webhook's secret; requests it refuses are
// printed too.
func (d *session) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	h := d.hooks[r.URL.Path]
	d.mu.Unlock()
	if h == nil {
		http.NotFound(w, r)
		return
	}
	sw := &statusWriter{ResponseWriter: w}
	h.ServeHTTP(sw, r)
	if sw.status == http.StatusUnauthorized || sw.status == http.StatusBadRequest || sw.status == http.StatusRequestEntityTooLarge {
		d.printf("   ✗ %s refused a request (%d): its signature or body is wrong\n", r.URL.Path, sw.status)
	}
}

// statusWriter remembers the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// endpoint registers a webhook's endpoint on the receiver: a webhook SDK
// handler verifying with secret, calling fn once per attempt that verified.
func (d *session) endpoint(path, secret string, fn func(ctx context.Context, e *webhook.Event) error) error {
	v, err := webhook.NewVerifier(secret)
	if err != nil {
		return fmt.Errorf("verifier for %s: %w", path, err)
	}
	d.mu.Lock()
	d.hooks[path] = webhook.NewHandler(v, fn)
	d.mu.Unlock()
	return nil
}

// attempt counts the attempts of one event at one endpoint, from 1.
func (d *session) attempt(hook, id string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seen[hook+" "+id]++
	return d.seen[hook+" "+id]
}

func (d *session) arrive(a arrival) {
	select {
	case d.arrivals <- a:
	default: // nobody waits once the tour is over
	}
}

// website is the endpoint of "My website": it prints every event it gets.
func (d *session) website(_ context.Context, e *webhook.Event) error {
	n := d.attempt("website", e.ID)
	d.out.block(func(w io.Writer) {
		fmt.Fprintf(w, "   ✓ %s %s  verified, to \"My website\"%s\n", e.Type, e.ID, attemptNote(n))
		summarizeEvent(w, e)
	})
	d.arrive(arrival{hook: "website", typ: e.Type, id: e.ID, conv: conversationIDOf(e), attempt: n, ok: true})
	return nil
}

// crm is the endpoint of the "CRM" webhook: down for the first two attempts
// of each event (the handler then answers 500), up from the third.
func (d *session) crm(_ context.Context, e *webhook.Event) error {
	n := d.attempt("crm", e.ID)
	d.mu.Lock()
	if n == 1 {
		d.firstTry[e.ID] = time.Now()
	}
	since := time.Since(d.firstTry[e.ID])
	d.mu.Unlock()
	when := "at once"
	if n > 1 {
		when = fmt.Sprintf("%.1fs after the first", since.Seconds())
	}
	if n <= 2 {
		next := "agenthooks will retry"
		if n-1 < len(d.schedule) {
			next = fmt.Sprintf("agenthooks will retry in about %s", d.schedule[n-1])
		}
		d.printf("   ✗ %s %s  verified, to \"CRM\", attempt %d (%s): the CRM is down, answered 500; %s\n", e.Type, e.ID, n, when, next)
		d.arrive(arrival{hook: "crm", typ: e.Type, id: e.ID, conv: conversationIDOf(e), attempt: n})
		return errors.New("the CRM is down (on purpose: this is the demo of retries)")
	}
	d.printf("   ✓ %s %s  verified, to \"CRM\", attempt %d (%s): stored, answered 200\n", e.Type, e.ID, n, when)
	d.arrive(arrival{hook: "crm", typ: e.Type, id: e.ID, conv: conversationIDOf(e), attempt: n, ok: true})
	return nil
}

func attemptNote(n int) string {
	if n > 1 {
		return fmt.Sprintf(", attempt %d", n)
	}
	return ""
}

func conversationIDOf(e *webhook.Event) string {
	var c struct {
		ConversationID string `json:"conversation_id"`
	}
	_ = json.Unmarshal(e.Data, &c)
	return c.ConversationID
}

// summarizeEvent prints the gist of an event's data, a few indented lines.
func summarizeEvent(w io.Writer, e *webhook.Event) {
	data, err := e.Decode()
	if _, raw := data.(json.RawMessage); err != nil || raw { // a type of the platform's own: its data as sent
		var pretty bytes.Buffer
		if json.Indent(&pretty, e.Data, "       ", "  ") == nil {
			fmt.Fprintf(w, "       %s\n", pretty.String())
		}
		return
	}
	switch d := data.(type) {
	case *webhook.CapturedForm:
		fmt.Fprintf(w, "       form %q, captured %s, on %s\n", d.FormName, d.CapturedFormID, d.DeviceType)
		names := make([]string, 0, len(d.FieldValues))
		width := 0
		for k := range d.FieldValues {
			names = append(names, k)
			width = max(width, len(k))
		}
		sort.Strings(names)
		for _, k := range names {
			fmt.Fprintf(w, "         %-*s  %v\n", width, k, d.FieldValues[k])
		}
	case *webhook.CapturedIntent:
		fmt.Fprintf(w, "       intent %s after %s, on %s, in conversation %s\n", d.IntentName, countMessages(d.ChatCount), d.DeviceType, d.ConversationID)
	case *webhook.Conversation:
		contact := "no contact"
		if d.ContactID != nil {
			contact = "contact " + *d.ContactID
		}
		fmt.Fprintf(w, "       conversation %s: %s, on %s, %s\n", d.ConversationID, countMessages(d.ChatCount), d.DeviceType, contact)
		fmt.Fprintf(w, "       first_message %q\n", d.FirstMessage)
		for _, m := range d.Transcript {
			who := m.SenderType
			if who != "" {
				who = strings.ToUpper(who[:1]) + who[1:]
			}
			fmt.Fprintf(w, "         %-5s %s\n", who+":", m.Text)
		}
	case *webhook.Test:
		fmt.Fprintf(w, "       %s\n", d.Message)
	}
}

func countMessages(n int) string {
	if n == 1 {
		return "1 message"
	}
	return fmt.Sprintf("%d messages", n)
}

// output serialises the output of the tour and the receiver's goroutines.
type output struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *output) printf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.w, format, args...)
}

// block writes several lines at once, so they are not interleaved.
func (s *output) block(fn func(w io.Writer)) {
	var b bytes.Buffer
	fn(&b)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _ = s.w.Write(b.Bytes())
}
