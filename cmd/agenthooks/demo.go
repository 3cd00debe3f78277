package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/agenthooks/agenthooks/delivery"
	"github.com/agenthooks/agenthooks/webhook"
)

// demoCmd is the newcomer's first command: a server on a temporary SQLite
// database, a receiver on loopback that verifies every request with the
// webhook SDK, the seed article's set-up made through the HTTP API, its three
// stories played, and a webhook that fails twice to show retries. Then it keeps
// running, printing whatever else arrives, until ctx ends (Ctrl-C), or exits
// once the tour is done with --exit-after-tour.
func demoCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen address of the API (port 0: a free one)")
	receiverAddr := fs.String("receiver-addr", "127.0.0.1:0", "listen address of the demo's receiver")
	schedule := fs.String("retry-schedule", "1s,2s,4s", "retry delays after the first attempt")
	exitAfter := fs.Bool("exit-after-tour", false, "exit once the tour is done instead of running until Ctrl-C")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: agenthooks demo [flags]\n\nA self-contained tour: a server on a temporary database, a local receiver,\nand simulated conversations, printing verified events as they arrive.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "agenthooks demo: takes no arguments, got %q\n", fs.Args())
		return 2
	}
	delays, err := delivery.ParseSchedule(*schedule)
	if err != nil {
		fmt.Fprintf(stderr, "agenthooks demo: --retry-schedule %q: %v\n", *schedule, err)
		return 2
	}
	if len(delays) < 2 {
		fmt.Fprintf(stderr, "agenthooks demo: --retry-schedule %q: the tour needs at least two retries\n", *schedule)
		return 2
	}

	dir, err := os.MkdirTemp("", "agenthooks-demo-")
	if err != nil {
		fmt.Fprintf(stderr, "agenthooks demo: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	dbPath := filepath.Join(dir, "demo.db")

	// The demo's own settings, whatever the environment says (a user's
	// AGENTHOOKS_DATABASE_URL must not receive the tour), except the log level.
	// Its receiver is on loopback, so private endpoints are allowed: egress
	// has no finer switch than that, and the server listens on loopback too.
	logLevel := "warn"
	if l := getenv("AGENTHOOKS_LOG_LEVEL"); l != "" {
		logLevel = l
	}
	demoEnv := map[string]string{
		"AGENTHOOKS_DATABASE_URL":            "sqlite:" + dbPath,
		"AGENTHOOKS_ADDR":                    *addr,
		"AGENTHOOKS_RETRY_SCHEDULE":          *schedule,
		"AGENTHOOKS_ALLOW_PRIVATE_ENDPOINTS": "true",
		"AGENTHOOKS_DELIVERY_TIMEOUT":        "5s",
		"AGENTHOOKS_SHUTDOWN_TIMEOUT":        "2s",
		"AGENTHOOKS_LOG_LEVEL":               logLevel,
	}
	cfgFlags := flag.NewFlagSet("demo", flag.ContinueOnError)
	load := configFlags(cfgFlags, func(k string) string { return demoEnv[k] })
	cfg, err := load()
	if err != nil {
		fmt.Fprintf(stderr, "agenthooks demo: %v\n", err)
		return 2
	}

	var first bytes.Buffer
	a, err := newApp(ctx, cfg, newLogger(cfg, stderr), &first)
	if err != nil {
		fmt.Fprintf(stderr, "agenthooks demo: %v\n", err)
		return 1
	}
	var acct struct {
		APIKey string `json:"api_key"`
	}
	if err := json.Unmarshal(first.Bytes(), &acct); err != nil || acct.APIKey == "" {
		a.ln.Close()
		a.store.Close()
		fmt.Fprintf(stderr, "agenthooks demo: the new server did not create its first account\n")
		return 1
	}
	a.start()
	defer a.stop()

	d := &demo{
		out:      &demoWriter{w: stdout},
		api:      &demoAPI{base: a.URL() + "/api/v1", key: acct.APIKey, client: &http.Client{Timeout: 30 * time.Second}},
		schedule: delays,
		arrivals: make(chan demoArrival, 256),
		hooks:    map[string]http.Handler{},
		seen:     map[string]int{},
		firstTry: map[string]time.Time{},
	}
	ln, err := net.Listen("tcp", *receiverAddr)
	if err != nil {
		fmt.Fprintf(stderr, "agenthooks demo: receiver: %v\n", err)
		return 1
	}
	d.receiverURL = "http://" + ln.Addr().String()
	rsrv := &http.Server{Handler: d, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = rsrv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = rsrv.Shutdown(sctx)
	}()

	d.printf("agenthooks demo: webhooks for AI chat agents, end to end, on this machine.\n\n")
	d.printf("  API        %s\n", d.api.base)
	d.printf("  API key    %s   (the first account of this demo's server)\n", acct.APIKey)
	d.printf("  receiver   %s   (verifies every request with the webhook Go SDK)\n", d.receiverURL)
	d.printf("  database   %s   (temporary: removed on exit)\n", dbPath)
	d.printf("  retries    1 attempt now, then after %s (±20%%)\n\n", *schedule)

	tctx, cancelTour := context.WithTimeout(ctx, 2*time.Minute)
	err = d.tour(tctx)
	cancelTour()
	if err != nil {
		if ctx.Err() != nil {
			d.printf("\nStopped.\n")
			return 0
		}
		d.printf("\n✗ the tour failed: %v\n", err)
		return 1
	}

	d.printf("\nTour done. The server and the receiver keep running: whatever else is sent to the\n")
	d.printf("receiver is printed here. Look around with curl:\n\n")
	d.printf("  export API=%s KEY=%s\n", d.api.base, acct.APIKey)
	d.printf("  export ASSISTANT=%s WIDGET=%s FORM=%s\n", d.world.assistant, d.world.widget, d.world.form)
	d.printf("  curl -s \"$API/event?api_key=$KEY\"                  # every event sent\n")
	d.printf("  curl -s \"$API/event/%s?api_key=$KEY\"        # the conversation.closed above\n", d.world.lastEvent)
	d.printf("  curl -s \"$API/delivery/%s?api_key=$KEY\"   # the retried delivery, attempt by attempt\n", d.world.retried)
	d.printf("  # a conversation of your own (with jq); its conversation.closed is printed below:\n")
	d.printf("  CONV=$(curl -s \"$API/conversation?api_key=$KEY\" -d \"{\\\"assistant_id\\\": \\\"$ASSISTANT\\\", \\\"widget_id\\\": \\\"$WIDGET\\\", \\\"device_type\\\": \\\"desktop\\\"}\" | jq -r .data.id)\n")
	d.printf("  curl -s \"$API/conversation/$CONV/message?api_key=$KEY\" -d '{\"sender_type\": \"user\", \"text\": \"hello\"}'\n")
	d.printf("  curl -s -X POST \"$API/conversation/$CONV/close?api_key=$KEY\"\n\n")
	if *exitAfter {
		d.printf("--exit-after-tour: stopping.\n")
		return 0
	}
	d.printf("Press Ctrl-C to stop (the temporary database is removed).\n\n")
	<-ctx.Done()
	d.printf("\nStopped; removed %s.\n", dir)
	return 0
}

// demo is the tour's state: the API client, the receiver's endpoints and what
// arrived.
type demo struct {
	out         *demoWriter
	api         *demoAPI
	schedule    []time.Duration
	receiverURL string
	arrivals    chan demoArrival

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

// demoArrival is one verified request that reached a receiver endpoint.
type demoArrival struct {
	hook    string // "website" or "crm"
	typ     string
	id      string
	conv    string // conversation id from the data, if any
	attempt int
	ok      bool // answered 2xx
}

func (d *demo) printf(format string, args ...any) { d.out.printf(format, args...) }

// ServeHTTP is the receiver: each path is one webhook's endpoint, served by
// webhook.NewHandler with that webhook's secret; requests it refuses are
// printed too.
func (d *demo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	h := d.hooks[r.URL.Path]
	d.mu.Unlock()
	if h == nil {
		http.NotFound(w, r)
		return
	}
	sw := &demoStatusWriter{ResponseWriter: w}
	h.ServeHTTP(sw, r)
	if sw.status == http.StatusUnauthorized || sw.status == http.StatusBadRequest || sw.status == http.StatusRequestEntityTooLarge {
		d.printf("   ✗ %s refused a request (%d): its signature or body is wrong\n", r.URL.Path, sw.status)
	}
}

// demoStatusWriter remembers the status a handler answered.
type demoStatusWriter struct {
	http.ResponseWriter
	status int
}

func (w *demoStatusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *demoStatusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// endpoint registers a webhook's endpoint on the receiver: a webhook SDK
// handler verifying with secret, calling fn once per attempt that verified.
func (d *demo) endpoint(path, secret string, fn func(ctx context.Context, e *webhook.Event) error) error {
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
func (d *demo) attempt(hook, id string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seen[hook+" "+id]++
	return d.seen[hook+" "+id]
}

func (d *demo) arrive(a demoArrival) {
	select {
	case d.arrivals <- a:
	default: // nobody waits once the tour is over
	}
}

// website is the endpoint of "My website": it prints every event it gets.
func (d *demo) website(_ context.Context, e *webhook.Event) error {
	n := d.attempt("website", e.ID)
	d.out.block(func(w io.Writer) {
		fmt.Fprintf(w, "   ✓ %s %s  verified, to \"My website\"%s\n", e.Type, e.ID, attemptNote(n))
		summarizeEvent(w, e)
	})
	d.arrive(demoArrival{hook: "website", typ: e.Type, id: e.ID, conv: conversationIDOf(e), attempt: n, ok: true})
	return nil
}

// crm is the endpoint of the "CRM" webhook: down for the first two attempts
// of each event (the handler then answers 500), up from the third.
func (d *demo) crm(_ context.Context, e *webhook.Event) error {
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
		d.arrive(demoArrival{hook: "crm", typ: e.Type, id: e.ID, conv: conversationIDOf(e), attempt: n})
		return errors.New("the CRM is down (on purpose: this is the demo of retries)")
	}
	d.printf("   ✓ %s %s  verified, to \"CRM\", attempt %d (%s): stored, answered 200\n", e.Type, e.ID, n, when)
	d.arrive(demoArrival{hook: "crm", typ: e.Type, id: e.ID, conv: conversationIDOf(e), attempt: n, ok: true})
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
	if err != nil {
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

// tour sets up the seed's world through the API and plays its stories.
func (d *demo) tour(ctx context.Context) error {
	w := &d.world
	d.printf("Setting up, through the HTTP API, what the seed article sets up in Insighto's dashboard:\n")

	var hook struct{ ID, Secret string }
	websiteURL := d.receiverURL + "/hooks/website"
	if err := d.api.call(ctx, "POST", "/outbound_webhook", map[string]any{
		"name": "My website", "endpoint": websiteURL,
		"events": []string{webhook.EventCapturedFormCreated, webhook.EventCapturedIntentCreated, webhook.EventConversationClosed},
	}, &hook); err != nil {
		return err
	}
	if err := d.endpoint("/hooks/website", hook.Secret, d.website); err != nil {
		return err
	}
	w.webhook = hook.ID
	d.printf("  POST  /outbound_webhook        \"My website\" → %s\n", websiteURL)
	d.printf("                                 (the seed's three events; its secret signs every request)\n")

	var err error
	if w.assistant, err = d.api.create(ctx, "/assistant", map[string]any{"name": "Algoscale assistant"}); err != nil {
		return err
	}
	d.printf("  POST  /assistant               \"Algoscale assistant\"\n")
	if err := d.api.call(ctx, "PATCH", "/assistant/"+w.assistant, map[string]any{"webhook_id": w.webhook}, nil); err != nil {
		return err
	}
	d.printf("  PATCH /assistant/{id}          Assign Webhook: \"My website\"\n")
	if w.widget, err = d.api.create(ctx, "/widget", map[string]any{"assistant_id": w.assistant, "name": "Website chat", "widget_type": "chat"}); err != nil {
		return err
	}
	d.printf("  POST  /widget                  \"Website chat\", a chat widget of the assistant\n")
	if w.form, err = d.api.create(ctx, "/form", map[string]any{"name": "Algoscale Leads", "webhook_id": w.webhook, "fields": []map[string]any{
		{"name": "name", "type": "text", "required": true},
		{"name": "email", "type": "text", "required": true},
		{"name": "query", "type": "textarea", "required": false},
	}}); err != nil {
		return err
	}
	d.printf("  POST  /form                    \"Algoscale Leads\": name, email, query → \"My website\"\n")
	if w.intent, err = d.api.create(ctx, "/intent", map[string]any{"name": "SALES", "description": "the visitor wants to buy or book"}); err != nil {
		return err
	}
	d.printf("  POST  /intent                  \"SALES\"\n")

	// 1. captured_form.created
	d.printf("\n1. A visitor asks for a flask developer and fills in the \"Algoscale Leads\" form.\n")
	d.printf("   POST /conversation, POST /conversation/{id}/message, POST /conversation/{id}/captured_form\n")
	conv, err := d.conversation(ctx, "desktop", map[string]any{"utm_source": "demo"},
		"user: Hi, I need a flask developer for a two-month project.",
		"bot: Happy to help! Please leave your details and our team will get back to you.")
	if err != nil {
		return err
	}
	if err := d.api.call(ctx, "POST", "/conversation/"+conv+"/captured_form", map[string]any{"form_id": w.form, "field_values": map[string]any{
		"name": "Smith Stevens", "email": "smith@example.com", "query": "flask developer",
	}}, nil); err != nil {
		return err
	}
	if _, err := d.waitFor(ctx, "captured_form.created at \"My website\"", func(a demoArrival) bool {
		return a.hook == "website" && a.typ == webhook.EventCapturedFormCreated && a.conv == conv
	}); err != nil {
		return err
	}

	// 2. captured_intent.created
	d.printf("\n2. A visitor on a mobile phone books a hotel room: the assistant captures the SALES intent.\n")
	d.printf("   POST /conversation, POST /conversation/{id}/message, POST /conversation/{id}/captured_intent\n")
	if conv, err = d.conversation(ctx, "mobile", nil,
		"user: I'd like to book a double room for two nights from Friday.",
		"bot: We have one left at $120 a night. Shall I reserve it?"); err != nil {
		return err
	}
	if err := d.api.call(ctx, "POST", "/conversation/"+conv+"/captured_intent", map[string]any{"intent_id": w.intent}, nil); err != nil {
		return err
	}
	if _, err := d.waitFor(ctx, "captured_intent.created at \"My website\"", func(a demoArrival) bool {
		return a.hook == "website" && a.typ == webhook.EventCapturedIntentCreated && a.conv == conv
	}); err != nil {
		return err
	}

	// 3. conversation.closed
	d.printf("\n3. \"hi may i know how much is flu jab\": the assistant answers and the conversation is closed.\n")
	d.printf("   POST /conversation, POST /conversation/{id}/message, POST /conversation/{id}/close\n")
	if conv, err = d.conversation(ctx, "desktop", nil,
		"user: hi may i know how much is flu jab",
		"bot: A flu jab costs £15 at any of our pharmacies; no appointment needed."); err != nil {
		return err
	}
	if err := d.api.call(ctx, "POST", "/conversation/"+conv+"/close", nil, nil); err != nil {
		return err
	}
	a, err := d.waitFor(ctx, "conversation.closed at \"My website\"", func(a demoArrival) bool {
		return a.hook == "website" && a.typ == webhook.EventConversationClosed && a.conv == conv
	})
	if err != nil {
		return err
	}
	w.lastEvent = a.id

	// 4. Retries.
	d.printf("\n4. Retries: the form also sends its leads to a CRM, whose endpoint fails twice before it recovers.\n")
	crmURL := d.receiverURL + "/hooks/crm"
	if err := d.api.call(ctx, "POST", "/outbound_webhook", map[string]any{
		"name": "CRM", "endpoint": crmURL,
		"events": []string{webhook.EventCapturedFormCreated, webhook.EventCapturedFormUpdated},
	}, &hook); err != nil {
		return err
	}
	if err := d.endpoint("/hooks/crm", hook.Secret, d.crm); err != nil {
		return err
	}
	w.crm = hook.ID
	d.printf("   POST  /outbound_webhook       \"CRM\" → %s\n", crmURL)
	if err := d.api.call(ctx, "PATCH", "/form/"+w.form, map[string]any{"webhook_id": w.crm}, nil); err != nil {
		return err
	}
	d.printf("   PATCH /form/{id}              the form's webhook is now \"CRM\"; the assistant's is still \"My website\"\n")
	d.printf("   A second visitor fills in the form: one event, two deliveries, each retried on its own.\n")
	if conv, err = d.conversation(ctx, "tablet", nil, "user: Do you also do Django?", "bot: We do! Leave your details, please."); err != nil {
		return err
	}
	if err := d.api.call(ctx, "POST", "/conversation/"+conv+"/captured_form", map[string]any{"form_id": w.form, "field_values": map[string]any{
		"name": "Ann Lee", "email": "ann@example.com", "query": "django developer",
	}}, nil); err != nil {
		return err
	}
	websiteGot, crmOK := false, false
	if a, err = d.waitFor(ctx, "the CRM's third attempt", func(a demoArrival) bool {
		if a.conv == conv && a.typ == webhook.EventCapturedFormCreated {
			websiteGot = websiteGot || a.hook == "website"
			crmOK = crmOK || (a.hook == "crm" && a.ok)
		}
		return websiteGot && crmOK
	}); err != nil {
		return err
	}
	return d.showRetried(ctx, a.id)
}

// showRetried reads the CRM's delivery of event id back from the API and
// prints its attempts.
func (d *demo) showRetried(ctx context.Context, id string) error {
	var ev struct {
		Deliveries []struct {
			ID        string `json:"id"`
			WebhookID string `json:"webhook_id"`
		} `json:"deliveries"`
	}
	if err := d.api.call(ctx, "GET", "/event/"+id, nil, &ev); err != nil {
		return err
	}
	for _, dv := range ev.Deliveries {
		if dv.WebhookID == d.world.crm {
			d.world.retried = dv.ID
		}
	}
	if d.world.retried == "" {
		return fmt.Errorf("event %s has no delivery to the CRM", id)
	}
	// The worker records the outcome just after the receiver answers.
	var del struct {
		Status   string `json:"status"`
		Attempts []struct {
			StatusCode *int  `json:"status_code"`
			DurationMS int64 `json:"duration_ms"`
		} `json:"attempts"`
	}
	for {
		if err := d.api.call(ctx, "GET", "/delivery/"+d.world.retried, nil, &del); err != nil {
			return err
		}
		if del.Status == "succeeded" {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("delivery %s is still %s", d.world.retried, del.Status)
		case <-time.After(50 * time.Millisecond):
		}
	}
	codes := make([]string, len(del.Attempts))
	for i, at := range del.Attempts {
		codes[i] = "error"
		if at.StatusCode != nil {
			codes[i] = fmt.Sprint(*at.StatusCode)
		}
		codes[i] += fmt.Sprintf(" (%dms)", at.DurationMS)
	}
	d.printf("   GET /delivery/{id}: %s after %d attempts: %s\n", del.Status, len(del.Attempts), strings.Join(codes, ", "))
	return nil
}

// conversation starts a conversation on the demo's widget and posts its
// messages, each written "sender: text".
func (d *demo) conversation(ctx context.Context, device string, attributes map[string]any, messages ...string) (string, error) {
	body := map[string]any{"assistant_id": d.world.assistant, "widget_id": d.world.widget, "device_type": device}
	if attributes != nil {
		body["attributes"] = attributes
	}
	id, err := d.api.create(ctx, "/conversation", body)
	if err != nil {
		return "", err
	}
	for _, m := range messages {
		sender, text, _ := strings.Cut(m, ": ")
		if err := d.api.call(ctx, "POST", "/conversation/"+id+"/message", map[string]any{"sender_type": sender, "text": text}, nil); err != nil {
			return "", err
		}
		d.printf("   %-5s %s\n", strings.ToUpper(sender[:1])+sender[1:]+":", text)
	}
	return id, nil
}

// waitFor reads arrivals until done reports true for one, for at most 30s.
func (d *demo) waitFor(ctx context.Context, what string, done func(a demoArrival) bool) (demoArrival, error) {
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for {
		select {
		case a := <-d.arrivals:
			if done(a) {
				return a, nil
			}
		case <-timeout.C:
			return demoArrival{}, fmt.Errorf("waited 30s for %s; see GET /event and GET /delivery/{id}", what)
		case <-ctx.Done():
			return demoArrival{}, ctx.Err()
		}
	}
}

// demoAPI calls the agenthooks API with one account's key.
type demoAPI struct {
	base   string
	key    string
	client *http.Client
}

// call sends body as JSON and decodes the response's data into out (if not
// nil); a status other than 2xx is an error carrying the API's detail.
func (c *demoAPI) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(raw))
	}
	if out == nil {
		return nil
	}
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	return nil
}

// create POSTs body and returns the new resource's id.
func (c *demoAPI) create(ctx context.Context, path string, body any) (string, error) {
	var r struct {
		ID string `json:"id"`
	}
	if err := c.call(ctx, "POST", path, body, &r); err != nil {
		return "", err
	}
	return r.ID, nil
}

// demoWriter serialises the output of the tour and the receiver's goroutines.
type demoWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *demoWriter) printf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.w, format, args...)
}

// block writes several lines at once, so they are not interleaved.
func (s *demoWriter) block(fn func(w io.Writer)) {
	var b bytes.Buffer
	fn(&b)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _ = s.w.Write(b.Bytes())
}
