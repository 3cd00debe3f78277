package dashboard_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/service"
)

// idIn returns the id after prefix in a Location header.
func idIn(t *testing.T, p page, prefix string) string {
	t.Helper()
	loc := p.Header.Get("Location")
	rest, ok := strings.CutPrefix(loc, prefix)
	if !ok {
		t.Fatalf("Location %q, want %s...", loc, prefix)
	}
	id, _, _ := strings.Cut(rest, "?")
	id, _, _ = strings.Cut(id, "/")
	return id
}

func webhookForm(name, endpoint string) url.Values {
	return url.Values{"name": {name}, "endpoint": {endpoint}, "ordering": {"none"}}
}

func TestWebhookScreens(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.signedIn(b.keyA)

	empty := br.get("/webhooks")
	contains(t, empty, "No webhooks yet", `href="/webhooks/new">Add a Webhook</a>`)

	t.Run("AddFormLabels", func(t *testing.T) {
		p := br.get("/webhooks/new")
		expectStatus(t, p, http.StatusOK)
		contains(t, p, "<h1>Add a Webhook</h1>", `<label for="name">Name</label>`, `<label for="endpoint">Endpoint</label>`,
			`>Submit</button>`, `name="events" value="captured_form.created"`, `<label for="ordering">Ordering</label>`,
			`<label for="headers">Extra headers</label>`, `<label for="rate_limit">Rate limit (requests per second)</label>`)
		// Every input, select and textarea has a label for it.
		for _, m := range regexp.MustCompile(`<(?:input|select|textarea)[^>]*\sid="([^"]+)"`).FindAllStringSubmatch(p.Body, -1) {
			if !strings.Contains(p.Body, `for="`+m[1]+`"`) {
				t.Errorf("input %s has no <label for>", m[1])
			}
		}
	})

	t.Run("ValidationErrors", func(t *testing.T) {
		tests := []struct {
			name   string
			form   url.Values
			field  string
			substr string
		}{
			{"NameRequired", webhookForm("  ", "https://hooks.example.com/x"), "name", "Enter a name, such as CRM"},
			{"EndpointPrivate", webhookForm("crm", "http://127.0.0.1:9/x"), "endpoint", "AGENTHOOKS_ALLOW_PRIVATE_ENDPOINTS=true"},
			{"EndpointMissing", webhookForm("crm", ""), "endpoint", "Enter the URL that receives the webhooks"},
			{"BothEmptyName", webhookForm("", ""), "name", "Enter a name"},
			{"BothEmptyEndpoint", webhookForm("", ""), "endpoint", "Enter the URL that receives the webhooks"},
			{"EndpointNotURL", webhookForm("crm", "hooks.example.com"), "endpoint", "That is not a web address"},
			{"EndpointSpaces", webhookForm("crm", "not a url"), "endpoint", "cannot contain spaces"},
			{"OnlyCheckedNoneChecked", func() url.Values {
				v := webhookForm("crm", "https://hooks.example.com/x")
				v.Set("events_mode", "some") // none checked is not "all"
				return v
			}(), "events", "or choose All events"},
			{"BadHeaderLine", func() url.Values {
				v := webhookForm("crm", "https://hooks.example.com/x")
				v.Set("headers", "X-Ok: 1\nno colon here")
				return v
			}(), "headers", "Line 2"},
			{"ReservedHeader", func() url.Values {
				v := webhookForm("crm", "https://hooks.example.com/x")
				v.Set("headers", "webhook-signature: forged")
				return v
			}(), "headers", "set by agenthooks"},
			{"RateLimitText", func() url.Values {
				v := webhookForm("crm", "https://hooks.example.com/x")
				v.Set("rate_limit", "fast")
				return v
			}(), "rate_limit", "number"},
			{"RateLimitNegative", func() url.Values {
				v := webhookForm("crm", "https://hooks.example.com/x")
				v.Set("rate_limit", "-1")
				return v
			}(), "rate_limit", "greater than 0"},
			{"Ordering", func() url.Values {
				v := webhookForm("crm", "https://hooks.example.com/x")
				v.Set("ordering", "random")
				return v
			}(), "ordering", "'none' or 'conversation'"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				p := br.post("/webhooks", tt.form)
				expectStatus(t, p, http.StatusUnprocessableEntity)
				msg := fieldError(p, tt.field)
				if msg == "" || !strings.Contains(msg, tt.substr) {
					t.Fatalf("error next to %s = %q, want one containing %q", tt.field, msg, tt.substr)
				}
				// What was typed comes back.
				if n := tt.form.Get("name"); strings.TrimSpace(n) != "" {
					contains(t, p, `value="`+n+`"`)
				}
			})
		}
	})

	form := webhookForm("CRM leads", "https://hooks.example.com/in")
	form["events"] = []string{agenthooks.EventCapturedFormCreated, agenthooks.EventConversationClosed}
	form.Set("headers", "Authorization: Bearer t0ken\nX-Team: sales")
	form.Set("rate_limit", "2.5")
	form.Set("ordering", "conversation")
	p := br.post("/webhooks", form)
	expectStatus(t, p, http.StatusSeeOther)
	id := idIn(t, p, "/webhooks/")
	wh, err := b.svc.GetWebhook(context.Background(), b.acctA, id)
	must(t, err)
	if wh.Name != "CRM leads" || len(wh.Events) != 2 || wh.Ordering != "conversation" || wh.Headers["X-Team"] != "sales" || wh.RateLimit == nil || *wh.RateLimit != 2.5 {
		t.Fatalf("created %+v", wh)
	}
	detail := br.follow(p)
	contains(t, detail, "Webhook created.", `Next: assign it to an assistant, in <a href="/assistants">`, "CRM leads", "Enabled", "Reveal secret", "Rotate secret", "Send test event", "Recover", ">Save</button>", "Delete webhook")
	lacks(t, detail, wh.Secret)

	t.Run("List", func(t *testing.T) {
		p := br.get("/webhooks")
		contains(t, p, "CRM leads", "https://hooks.example.com/in", "Enabled", "Success rate (24 h)", "Last delivery", "none in 24 h")
		lacks(t, p, wh.Secret)
	})

	t.Run("RevealSecret", func(t *testing.T) {
		p := br.get("/webhooks/" + id + "?reveal=secret")
		contains(t, p, wh.Secret, "Hide secret")
		if cc := p.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control %q on a page with the secret", cc)
		}
	})

	t.Run("Rotate", func(t *testing.T) {
		p := br.follow(br.post("/webhooks/"+id+"/rotate", nil))
		contains(t, p, "Secret rotated", "The previous secret still signs alongside the new one until")
		got, err := b.svc.GetWebhook(context.Background(), b.acctA, id)
		must(t, err)
		if got.PreviousSecret != wh.Secret || !strings.Contains(html.UnescapeString(p.Body), got.Secret) {
			t.Fatal("rotation did not keep the old secret or show the new one")
		}
	})

	t.Run("Edit", func(t *testing.T) {
		f := webhookForm("CRM renamed", "https://hooks.example.com/v2")
		p := br.post("/webhooks/"+id, f)
		expectStatus(t, p, http.StatusSeeOther)
		got, err := b.svc.GetWebhook(context.Background(), b.acctA, id)
		must(t, err)
		if got.Name != "CRM renamed" || got.Endpoint != "https://hooks.example.com/v2" || got.RateLimit != nil || len(got.Headers) != 0 {
			t.Fatalf("after edit: %+v", got)
		}
		var domain []string
		for _, e := range agenthooks.EventTypes {
			if !strings.HasPrefix(e, "webhook.") && !strings.HasPrefix(e, "delivery.") {
				domain = append(domain, e)
			}
		}
		if strings.Join(got.Events, ",") != strings.Join(domain, ",") {
			t.Errorf("no event checked: events %v, want every type but the operational ones, %v", got.Events, domain)
		}
		bad := br.post("/webhooks/"+id, webhookForm("", "https://hooks.example.com/v2"))
		expectStatus(t, bad, http.StatusUnprocessableEntity)
		if fieldError(bad, "name") == "" {
			t.Error("no error next to Name on the edit form")
		}
	})

	t.Run("DisableEnable", func(t *testing.T) {
		p := br.follow(br.post("/webhooks/"+id+"/disable", nil))
		contains(t, p, "Disabled by hand", ">Enable</button>")
		lacks(t, p, ">Send test event</button>")
		expectStatus(t, br.post("/webhooks/"+id+"/test", nil), http.StatusConflict)
		p = br.follow(br.post("/webhooks/"+id+"/enable", nil))
		contains(t, p, "Webhook enabled", ">Disable</button>")
	})

	t.Run("TestEvent", func(t *testing.T) {
		p := br.post("/webhooks/"+id+"/test", nil)
		expectStatus(t, p, http.StatusSeeOther)
		dp := br.follow(p)
		contains(t, dp, "Test event sent.", "webhook.test", "pending", ">Retry</button>", `hx-trigger="every 2s"`)
	})

	t.Run("Recover", func(t *testing.T) {
		bad := br.post("/webhooks/"+id+"/recover", url.Values{"since": {"yesterday"}})
		expectStatus(t, bad, http.StatusUnprocessableEntity)
		if fieldError(bad, "since") == "" {
			t.Error("no error next to Since")
		}
		contains(t, bad, "Enter a date and time in UTC, such as 2026-03-01 14:30")
		for _, since := range []string{"2026-01-01T00:00", "2026-01-01 00:00", "2026-01-01 00:00 UTC"} {
			p := br.follow(br.post("/webhooks/"+id+"/recover", url.Values{"since": {since}}))
			contains(t, p, "0 failed deliveries queued again.")
		}
		// A text field with an ISO example, never the browser's date picker
		// (which shows the browser's locale and zone under "(UTC)").
		page := br.get("/webhooks/" + id)
		contains(t, page, `<label for="since">Since (UTC)</label>`, `id="since" name="since" type="text"`, `placeholder="2026-03-01 14:30"`,
			`value="`+time.Now().UTC().Add(-24*time.Hour).Format("2006-01-02 "))
		lacks(t, page, "datetime-local")
	})

	t.Run("Delete", func(t *testing.T) {
		confirm := br.get("/webhooks/" + id + "/delete")
		contains(t, confirm, "Delete CRM renamed?", ">Delete</button>", "Cancel")
		if _, err := b.svc.GetWebhook(context.Background(), b.acctA, id); err != nil {
			t.Fatal("the confirmation page deleted the webhook")
		}
		p := br.follow(br.post("/webhooks/"+id+"/delete", nil))
		contains(t, p, "Webhook deleted.", "No webhooks yet")
		expectStatus(t, br.get("/webhooks/"+id), http.StatusNotFound)
	})
}

func TestAssistantScreens(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.signedIn(b.keyA)
	ctx := context.Background()

	list := br.get("/assistants")
	contains(t, list, `>AI Agents</a>`, `href="/assistants" class="active" aria-current="page">Assistants</a>`, `href="/forms" >Forms</a>`, "No assistants yet")

	bad := br.post("/assistants", url.Values{"name": {""}, "assistant_type": {"chat"}})
	expectStatus(t, bad, http.StatusUnprocessableEntity)
	if fieldError(bad, "name") == "" {
		t.Error("no error next to the assistant's Name")
	}
	p := br.post("/assistants", url.Values{"name": {"Sales bot"}, "assistant_type": {"chat"}})
	expectStatus(t, p, http.StatusSeeOther)
	asID := idIn(t, p, "/assistants/")
	page := br.follow(p)
	contains(t, page, "Sales bot", ">Widgets</a>", ">Operations</a>", "No widgets yet", "Web call (voice)", "Facebook Messenger")

	t.Run("Widgets", func(t *testing.T) {
		bad := br.post("/assistants/"+asID+"/widgets", url.Values{"name": {"site"}, "widget_type": {"carrier-pigeon"}})
		expectStatus(t, bad, http.StatusUnprocessableEntity)
		if fieldError(bad, "widget_type") == "" {
			t.Error("no error next to Widget type")
		}
		p := br.follow(br.post("/assistants/"+asID+"/widgets", url.Values{"name": {"Website chat"}, "widget_type": {"chat"}}))
		contains(t, p, "Widget added.", "Website chat", "<td>Chat</td>")
	})

	wh, err := b.svc.CreateWebhook(ctx, b.acctA, service.WebhookInput{Name: "CRM", Endpoint: "https://hooks.example.com/crm"})
	must(t, err)

	t.Run("AssignWebhook", func(t *testing.T) {
		ops := br.get("/assistants/" + asID + "/operations")
		contains(t, ops, ">Assign Webhook</button>", ">Create Webhook</a>", "no webhook")
		lacks(t, ops, `<label for="webhook_id">Webhook</label>`)
		shown := br.get("/assistants/" + asID + "/operations?assign=1")
		contains(t, shown, `<label for="webhook_id">Webhook</label>`, `<option value="" selected>None</option>`, `<option value="`+wh.ID+`" >CRM</option>`, ">Save</button>")
		p := br.post("/assistants/"+asID+"/webhook", url.Values{"webhook_id": {wh.ID}})
		expectStatus(t, p, http.StatusSeeOther)
		a, err := b.svc.GetAssistant(ctx, b.acctA, asID)
		must(t, err)
		if a.WebhookID != wh.ID {
			t.Fatalf("assistant's webhook = %q, want %q", a.WebhookID, wh.ID)
		}
		contains(t, br.follow(p), `href="/webhooks/`+wh.ID+`">CRM</a>`)

		// Another account's webhook is refused next to the drop-down.
		other, err := b.svc.CreateWebhook(ctx, b.acctB, service.WebhookInput{Name: "B", Endpoint: "https://hooks.example.com/b"})
		must(t, err)
		bad := br.post("/assistants/"+asID+"/webhook", url.Values{"webhook_id": {other.ID}})
		expectStatus(t, bad, http.StatusUnprocessableEntity)
		if fieldError(bad, "webhook_id") == "" {
			t.Error("no error next to Webhook")
		}
		// None unassigns.
		br.post("/assistants/"+asID+"/webhook", url.Values{"webhook_id": {""}})
		a, err = b.svc.GetAssistant(ctx, b.acctA, asID)
		must(t, err)
		if a.WebhookID != "" {
			t.Fatalf("None left webhook %q", a.WebhookID)
		}
	})

	t.Run("CreateWebhookAndBack", func(t *testing.T) {
		ret := "/assistants/" + asID + "/operations"
		form := br.get("/webhooks/new?return=" + url.QueryEscape(ret))
		contains(t, form, `name="return" value="`+ret+`"`)
		f := webhookForm("New from assistant", "https://hooks.example.com/new")
		f.Set("return", ret)
		p := br.post("/webhooks", f)
		expectStatus(t, p, http.StatusSeeOther)
		loc := p.Header.Get("Location")
		if !strings.HasPrefix(loc, ret+"?") {
			t.Fatalf("after Submit: Location %q, want back to %s", loc, ret)
		}
		back := br.follow(p)
		newID := regexp.MustCompile(`<option value="([^"]+)" selected>New from assistant</option>`).FindStringSubmatch(back.Body)
		if newID == nil {
			t.Fatalf("the new webhook is not chosen in the drop-down:\n%s", back.Body)
		}
		expectStatus(t, br.post("/assistants/"+asID+"/webhook", url.Values{"webhook_id": {newID[1]}}), http.StatusSeeOther)
		// A return path elsewhere is ignored.
		f.Set("return", "https://evil.example.com/")
		f.Set("name", "another")
		p = br.post("/webhooks", f)
		if loc := p.Header.Get("Location"); !strings.HasPrefix(loc, "/webhooks/") {
			t.Fatalf("return to another site: Location %q", loc)
		}
	})
}

func TestFormScreens(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.signedIn(b.keyA)
	ctx := context.Background()
	wh, err := b.svc.CreateWebhook(ctx, b.acctA, service.WebhookInput{Name: "Leads", Endpoint: "https://hooks.example.com/leads"})
	must(t, err)

	list := br.get("/forms")
	contains(t, list, "No forms yet", `href="/forms" class="active" aria-current="page">Forms</a>`, `<label for="field_0_name">Field 1 name</label>`)

	bad := br.post("/forms", url.Values{"name": {"Leads form"}, "field_0_name": {"email"}, "field_0_type": {"text"}, "field_2_name": {"email"}, "field_2_type": {"text"}})
	expectStatus(t, bad, http.StatusUnprocessableEntity)
	if msg := fieldError(bad, "field_2_required"); !strings.Contains(msg, "Duplicate") {
		t.Errorf("error at the third row = %q, want Duplicate", msg)
	}
	contains(t, bad, `value="Leads form"`)
	badType := br.post("/forms", url.Values{"name": {"x"}, "field_0_name": {"a"}, "field_0_type": {"colour"}})
	expectStatus(t, badType, http.StatusUnprocessableEntity)
	if fieldError(badType, "field_0_required") == "" {
		t.Error("no error at the row with the bad type")
	}

	p := br.post("/forms", url.Values{"name": {"Leads form"}, "field_0_name": {"email"}, "field_0_type": {"text"}, "field_0_required": {"1"},
		"field_1_name": {"phone"}, "field_1_type": {"tel"}, "webhook_id": {""}})
	expectStatus(t, p, http.StatusSeeOther)
	formID := idIn(t, p, "/forms/")
	f, err := b.svc.GetForm(ctx, b.acctA, formID)
	must(t, err)
	if len(f.Fields) != 2 || !f.Fields[0].Required || f.Fields[1].Type != "tel" || f.WebhookID != "" {
		t.Fatalf("created %+v", f)
	}
	page := br.follow(p)
	contains(t, page, "Leads form", `<label for="webhook_id">Webhook</label>`, `<option value="" selected>None</option>`, ">Save</button>", "email", "tel")
	expectStatus(t, br.post("/forms/"+formID+"/webhook", url.Values{"webhook_id": {wh.ID}}), http.StatusSeeOther)
	f, err = b.svc.GetForm(ctx, b.acctA, formID)
	must(t, err)
	if f.WebhookID != wh.ID {
		t.Fatalf("form webhook %q, want %q", f.WebhookID, wh.ID)
	}
	contains(t, br.get("/forms/"+formID), `<option value="`+wh.ID+`" selected>Leads</option>`)
	bad = br.post("/forms/"+formID+"/webhook", url.Values{"webhook_id": {"nope"}})
	expectStatus(t, bad, http.StatusUnprocessableEntity)
	contains(t, br.get("/forms"), "Leads form", "Leads")
}

// conversationWorld reports a conversation through the service: a message,
// a captured form and intent, and the close, to a webhook.
type conversationWorld struct {
	webhook, assistant, form, intent, conversation string
}

func (b *testBundle) conversationWorld(t *testing.T) conversationWorld {
	t.Helper()
	ctx := context.Background()
	wh, err := b.svc.CreateWebhook(ctx, b.acctA, service.WebhookInput{Name: "Sink", Endpoint: "https://hooks.example.com/sink"})
	must(t, err)
	as, err := b.svc.CreateAssistant(ctx, b.acctA, service.AssistantInput{Name: "Support", WebhookID: wh.ID})
	must(t, err)
	wg, err := b.svc.CreateWidget(ctx, b.acctA, service.WidgetInput{AssistantID: as.ID, Name: "site", WidgetType: "chat"})
	must(t, err)
	fm, err := b.svc.CreateForm(ctx, b.acctA, service.FormInput{Name: "Callback", Fields: []agenthooks.FormField{{Name: "phone", Type: "tel", Required: true}}})
	must(t, err)
	in, err := b.svc.CreateIntent(ctx, b.acctA, "SALES", "", nil)
	must(t, err)
	c, err := b.svc.CreateConversation(ctx, b.acctA, service.ConversationInput{AssistantID: as.ID, WidgetID: wg.ID, DeviceType: "mobile"})
	must(t, err)
	_, err = b.svc.AddMessage(ctx, b.acctA, c.ID, service.MessageInput{SenderType: "user", Text: "How much is a flu jab? <b>now</b>"})
	must(t, err)
	_, err = b.svc.CaptureForm(ctx, b.acctA, c.ID, fm.ID, map[string]any{"phone": "+49 30 123"})
	must(t, err)
	_, err = b.svc.CaptureIntent(ctx, b.acctA, c.ID, in.ID)
	must(t, err)
	_, err = b.svc.CloseConversation(ctx, b.acctA, c.ID)
	must(t, err)
	return conversationWorld{webhook: wh.ID, assistant: as.ID, form: fm.ID, intent: in.ID, conversation: c.ID}
}

func TestActivityScreens(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := b.conversationWorld(t)
	br := b.signedIn(b.keyA)
	ctx := context.Background()

	t.Run("Conversations", func(t *testing.T) {
		p := br.get("/conversations")
		contains(t, p, "/conversations/"+w.conversation, "Support", "How much is a flu jab? &lt;b&gt;now&lt;/b&gt;", "closed")
		lacks(t, p, "<b>now</b>")
		for _, q := range []string{"?state=open", "?assistant_id=" + w.assistant + "&state=open", "?from=2999-01-01", "?to=2000-01-01"} {
			lacks(t, br.get("/conversations"+q), "/conversations/"+w.conversation)
		}
		for _, q := range []string{"?state=closed", "?assistant_id=" + w.assistant, "?from=2000-01-01&to=" + time.Now().UTC().Format("2006-01-02")} {
			contains(t, br.get("/conversations"+q), "/conversations/"+w.conversation)
		}
		bad := br.get("/conversations?from=soon&state=maybe&page=x")
		expectStatus(t, bad, http.StatusOK)
		if fieldError(bad, "from") == "" {
			t.Error("no error next to From")
		}
		d := br.get("/conversations/" + w.conversation)
		contains(t, d, "Transcript", "How much is a flu jab?", "Captured forms", "Callback", "+49 30 123", "Captured intents", "SALES",
			"Events fired", "conversation.updated", "captured_form.created", "captured_intent.created", "conversation.closed")
	})

	t.Run("Events", func(t *testing.T) {
		p := br.get("/events")
		contains(t, p, "conversation.closed", "captured_form.created")
		closed := br.get("/events?type=conversation.closed")
		contains(t, closed, "conversation.closed")
		lacks(t, closed, "<code>captured_form.created</code></td>")
		lacks(t, br.get("/events?assistant_id=nope"), "/events/0")
		contains(t, br.get("/events?conversation_id="+w.conversation+"&from=2000-01-01T00:00"), "conversation.updated")
		lacks(t, br.get("/events?to=2000-01-01T00:00"), "conversation.updated</code>")
		contains(t, br.get("/events?"+url.Values{"from": {"2000-01-01 00:00 UTC"}}.Encode()), "conversation.updated")
		lacks(t, br.get("/events"), "datetime-local")
		lacks(t, br.get("/conversations"), `type="date"`)
		l, err := b.svc.QueryEvents(ctx, b.acctA, agenthooks.EventQuery{Type: agenthooks.EventConversationClosed}, agenthooks.Page{Page: 1, Size: 1})
		must(t, err)
		e := l.Items[0]
		d := br.get("/events/" + e.ID)
		contains(t, d, "Body as sent", `&#34;event&#34;: &#34;conversation.closed&#34;`, `&#34;first_message&#34;`, "Deliveries", "Sink")
	})

	t.Run("Deliveries", func(t *testing.T) {
		p := br.get("/deliveries")
		contains(t, p, "pending", "Sink", "<code>conversation.closed</code>", "<code>captured_intent.created</code>")
		contains(t, br.get("/deliveries?status=pending&webhook_id="+w.webhook), "pending")
		lacks(t, br.get("/deliveries?status=failed"), "/deliveries/0")
		// canceled (a transformation's cancel = true) is a status to filter by.
		contains(t, br.get("/deliveries?status=canceled"), `<option value="canceled" selected>`)
		expectStatus(t, br.get("/deliveries?status=bogus&webhook_id=%ff"), http.StatusNotFound)
		l, err := b.svc.ListDeliveries(ctx, b.acctA, agenthooks.DeliveryFilter{}, agenthooks.Page{Page: 1, Size: 1})
		must(t, err)
		d := br.get("/deliveries/" + l.Items[0].ID)
		contains(t, d, "No attempt yet", ">Retry</button>", `hx-get="/deliveries/`+l.Items[0].ID+`"`)
		// htmx asks for the attempts panel only.
		req, _ := http.NewRequest("GET", b.srv.URL+"/deliveries/"+l.Items[0].ID, nil)
		req.Header.Set("HX-Request", "true")
		partial := br.do(req)
		if strings.Contains(partial.Body, "<html") || !strings.Contains(partial.Body, `id="attempts"`) {
			t.Errorf("the htmx request got a whole page or no attempts panel")
		}
		p = br.post("/deliveries/"+l.Items[0].ID+"/retry", nil)
		expectStatus(t, p, http.StatusSeeOther)
		contains(t, br.follow(p), "Retry queued")
	})

	t.Run("Overview", func(t *testing.T) {
		p := br.get("/")
		contains(t, p, "Delivery attempts per 10 minutes", "Failure rate", "Backlog", "<svg", "Webhooks that need attention",
			`href="/?range=1h"`, `href="/?range=7d"`, `href="/?range=24h" class="active" aria-current="page"`)
		lacks(t, p, "No webhooks yet", "No deliveries in the last")
		// The Deliveries card counts deliveries, not attempts: the world's
		// events each made one delivery and none was attempted yet.
		ds, err := b.svc.ListDeliveries(ctx, b.acctA, agenthooks.DeliveryFilter{}, agenthooks.Page{Page: 1, Size: 100})
		must(t, err)
		contains(t, p, fmt.Sprintf(`Deliveries (24 h)</div><div class="stat-value">%d</div>`, ds.Total))
		for key, want := range map[string]string{"1h": "Delivery attempts per minute over the last hour", "7d": "Delivery attempts per hour over the last 7 days",
			"bogus": "Delivery attempts per 10 minutes over the last 24 hours"} {
			contains(t, br.get("/?range="+key), want)
		}
	})
}

func TestOverviewEmpty(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.signedIn(b.keyA)
	p := br.get("/")
	contains(t, p, "No webhooks yet", `href="/webhooks/new">Add a Webhook</a>`, "<svg", "None: there are no webhooks yet.")
	lacks(t, p, "every webhook is enabled", `text-anchor="start">0.`)
	_, err := b.svc.CreateWebhook(context.Background(), b.acctA, service.WebhookInput{Name: "Sink", Endpoint: "https://hooks.example.com/sink"})
	must(t, err)
	p = br.get("/?range=1h")
	contains(t, p, "No deliveries in the last hour", "None: every webhook is enabled and none is failing.")
	lacks(t, p, "No webhooks yet")
}

func TestOtherAccountIsNotFound(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := b.conversationWorld(t)
	ctx := context.Background()
	f, err := b.svc.CreateForm(ctx, b.acctA, service.FormInput{Name: "F"})
	must(t, err)
	ev, err := b.svc.QueryEvents(ctx, b.acctA, agenthooks.EventQuery{}, agenthooks.Page{Page: 1, Size: 1})
	must(t, err)
	ds, err := b.svc.ListDeliveries(ctx, b.acctA, agenthooks.DeliveryFilter{}, agenthooks.Page{Page: 1, Size: 1})
	must(t, err)
	br := b.signedIn(b.keyB)
	missing := br.get("/webhooks/01900000-0000-7000-8000-000000000000")
	expectStatus(t, missing, http.StatusNotFound)
	paths := []string{
		"/webhooks/" + w.webhook, "/webhooks/" + w.webhook + "/delete", "/assistants/" + w.assistant, "/assistants/" + w.assistant + "/operations",
		"/forms/" + f.ID, "/conversations/" + w.conversation, "/events/" + ev.Items[0].ID, "/deliveries/" + ds.Items[0].ID,
	}
	for _, path := range paths {
		p := br.get(path)
		expectStatus(t, p, http.StatusNotFound)
		if p.Body != missing.Body {
			t.Errorf("GET %s (another account's) differs from a missing id's page", path)
		}
	}
	for _, path := range []string{"/webhooks/" + w.webhook, "/webhooks/" + w.webhook + "/delete", "/webhooks/" + w.webhook + "/rotate",
		"/webhooks/" + w.webhook + "/disable", "/assistants/" + w.assistant + "/webhook", "/assistants/" + w.assistant + "/widgets",
		"/forms/" + f.ID + "/webhook", "/deliveries/" + ds.Items[0].ID + "/retry", "/webhooks/" + w.webhook + "/test"} {
		p := br.post(path, url.Values{"name": {"x"}, "endpoint": {"https://hooks.example.com/x"}, "widget_type": {"chat"}, "since": {"2026-01-01"}})
		expectStatus(t, p, http.StatusNotFound)
	}
	// Lists show none of A's things.
	for _, path := range []string{"/webhooks", "/assistants", "/forms", "/conversations", "/events", "/deliveries", "/"} {
		p := br.get(path)
		lacks(t, p, w.webhook, w.assistant, w.conversation, "Sink", "Support")
	}
	if _, err := b.svc.GetWebhook(ctx, b.acctA, w.webhook); err != nil {
		t.Fatal("another account's POST deleted the webhook")
	}
}

func TestNoServerErrorFromURLs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.signedIn(b.keyA)
	paths := []string{
		"/webhooks?page=-1", "/webhooks?page=99999999999999999999", "/webhooks?page=1e9", "/events?page=2000000",
		"/webhooks/%ff", "/webhooks/%00", "/webhooks/" + strings.Repeat("a", 5000), "/events?type=%ff", "/events?conversation_id=%00",
		"/events?from=2026-13-45T99:99", "/conversations?to=0000-01-01", "/deliveries?webhook_id=' OR 1=1 --", "/webhooks/new?return=%0d%0aX:1",
		"/assistants/x/operations?webhook_id=y&assign=1", "/forms/x?webhook_id=y", "/nothing/here", "/static/../../etc/passwd", "/portal/",
		"/deliveries/x", "/webhooks/x/delete", "/events/x", "/conversations/x", "/?flash=<script>",
	}
	for _, v := range []string{"\xff", "a\x00b"} {
		p := br.post("/webhooks", webhookForm(v, "https://hooks.example.com/"+v))
		expectStatus(t, p, http.StatusUnprocessableEntity)
	}
	for _, path := range paths {
		req, err := http.NewRequest("GET", b.srv.URL+path, nil)
		if err != nil {
			continue
		}
		p := br.do(req)
		if p.Status >= 500 {
			t.Errorf("GET %s: %d", path, p.Status)
		}
		lacks(t, p, "<script>")
	}
}

// portalURL makes a portal link and returns its path.
func (b *testBundle) portalPath(t *testing.T, expiresIn time.Duration, readOnly bool) string {
	t.Helper()
	u, _, err := b.svc.CreatePortalSession(context.Background(), b.acctA, expiresIn, readOnly)
	must(t, err)
	return strings.TrimPrefix(u, b.srv.URL)
}

func TestPortalLink(t *testing.T) {
	t.Parallel()
	b := setup(t)
	path := b.portalPath(t, 0, false)
	if !strings.HasPrefix(path, "/portal/") {
		t.Fatalf("portal path %q", path)
	}
	br := b.browser()
	// A HEAD (a link previewer, a mail scanner) uses nothing and signs in nobody.
	for range 2 {
		scanner := b.browser()
		req, err := http.NewRequest(http.MethodHead, b.srv.URL+path, nil)
		must(t, err)
		h := scanner.do(req)
		expectStatus(t, h, http.StatusOK)
		if h.Header.Get("Set-Cookie") != "" {
			t.Fatalf("HEAD set a cookie: %q", h.Header.Get("Set-Cookie"))
		}
	}
	p := br.get(path)
	expectStatus(t, p, http.StatusSeeOther)
	if p.Header.Get("Location") != "/" || !strings.Contains(p.Header.Get("Set-Cookie"), "HttpOnly") {
		t.Fatalf("first visit: Location %q, Set-Cookie %q", p.Header.Get("Location"), p.Header.Get("Set-Cookie"))
	}
	home := br.get("/")
	contains(t, home, "Acme", "Overview")
	lacks(t, home, "Read-only")

	again := b.browser().get(path)
	expectStatus(t, again, http.StatusGone)
	contains(t, again, "This link cannot be used")
	if again.Header.Get("Set-Cookie") != "" {
		t.Error("a second visit set a cookie")
	}
	expectStatus(t, b.browser().get("/portal/pt_made-up"), http.StatusGone)

	expiring := b.portalPath(t, time.Minute, false)
	b.clock.Add(time.Minute)
	expectStatus(t, b.browser().get(expiring), http.StatusGone)
}

func TestReadOnlySession(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := b.conversationWorld(t)
	ctx := context.Background()
	f, err := b.svc.CreateForm(ctx, b.acctA, service.FormInput{Name: "F"})
	must(t, err)
	ds, err := b.svc.ListDeliveries(ctx, b.acctA, agenthooks.DeliveryFilter{}, agenthooks.Page{Page: 1, Size: 1})
	must(t, err)
	br := b.browser()
	expectStatus(t, br.get(b.portalPath(t, time.Hour, true)), http.StatusSeeOther)

	pages := []string{"/", "/webhooks", "/webhooks/" + w.webhook, "/webhooks/" + w.webhook + "/delete", "/webhooks/new",
		"/assistants", "/assistants/" + w.assistant, "/assistants/" + w.assistant + "/operations", "/assistants/" + w.assistant + "/operations?assign=1",
		"/forms", "/forms/" + f.ID, "/conversations", "/conversations/" + w.conversation, "/events", "/deliveries", "/deliveries/" + ds.Items[0].ID}
	controls := []string{"Add a Webhook</a>", ">Submit</button>", ">Save</button>", ">Delete</button>", "Delete webhook", ">Retry</button>",
		"Assign Webhook", "Create Webhook</a>", "Rotate secret", "Send test event", ">Disable</button>", ">Enable</button>", ">Recover</button>",
		"Create assistant", "Add widget", "Create form"}
	for _, path := range pages {
		p := br.get(path)
		if p.Status != http.StatusOK {
			t.Errorf("GET %s: status %d", path, p.Status)
			continue
		}
		for _, c := range controls {
			if strings.Contains(p.Body, c) {
				t.Errorf("GET %s in a read-only session shows %q", path, c)
			}
		}
		if forms := regexp.MustCompile(`<form method="post" action="([^"]+)"`).FindAllStringSubmatch(p.Body, -1); len(forms) != 1 || forms[0][1] != "/sign-out" {
			t.Errorf("GET %s: POST forms %v, want only Sign out", path, forms)
		}
	}
	contains(t, br.get("/"), "Read-only", "Sign out")

	// The signing secret is never shown: asking for it answers 403, and the
	// page offers no way to.
	secretOf, err := b.svc.GetWebhook(ctx, b.acctA, w.webhook)
	must(t, err)
	p := br.get("/webhooks/" + w.webhook + "?reveal=secret")
	expectStatus(t, p, http.StatusForbidden)
	lacks(t, p, secretOf.Secret)
	lacks(t, br.get("/webhooks/"+w.webhook), secretOf.Secret, "Reveal secret")

	// Forged changes, with a valid form token, answer 403 and change nothing.
	posts := map[string]url.Values{
		"/webhooks":                               webhookForm("forged", "https://hooks.example.com/f"),
		"/webhooks/" + w.webhook:                  webhookForm("forged", "https://hooks.example.com/f"),
		"/webhooks/" + w.webhook + "/disable":     nil,
		"/webhooks/" + w.webhook + "/delete":      nil,
		"/webhooks/" + w.webhook + "/rotate":      nil,
		"/webhooks/" + w.webhook + "/test":        nil,
		"/webhooks/" + w.webhook + "/recover":     {"since": {"2026-01-01"}},
		"/assistants":                             {"name": {"forged"}},
		"/assistants/" + w.assistant + "/webhook": {"webhook_id": {""}},
		"/assistants/" + w.assistant + "/widgets": {"name": {"forged"}, "widget_type": {"chat"}},
		"/forms":                      {"name": {"forged"}},
		"/forms/" + f.ID + "/webhook": {"webhook_id": {w.webhook}},
		"/deliveries/" + ds.Items[0].ID + "/retry": nil,
	}
	for path, values := range posts {
		p := br.post(path, values)
		expectStatus(t, p, http.StatusForbidden)
	}
	wh, err := b.svc.GetWebhook(ctx, b.acctA, w.webhook)
	must(t, err)
	a, err := b.svc.GetAssistant(ctx, b.acctA, w.assistant)
	must(t, err)
	if wh.Name != "Sink" || !wh.Enabled || wh.PreviousSecret != "" || a.WebhookID != w.webhook {
		t.Fatalf("a read-only session changed something: %+v %+v", wh, a)
	}
	p = br.post("/sign-out", nil)
	expectStatus(t, p, http.StatusSeeOther)
	contains(t, br.get("/"), "API key")
}

func TestEveryInputHasALabel(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := b.conversationWorld(t)
	ctx := context.Background()
	f, err := b.svc.CreateForm(ctx, b.acctA, service.FormInput{Name: "F"})
	must(t, err)
	ev, err := b.svc.QueryEvents(ctx, b.acctA, agenthooks.EventQuery{}, agenthooks.Page{Page: 1, Size: 1})
	must(t, err)
	ds, err := b.svc.ListDeliveries(ctx, b.acctA, agenthooks.DeliveryFilter{}, agenthooks.Page{Page: 1, Size: 1})
	must(t, err)
	br := b.signedIn(b.keyA)
	pages := []string{"/", "/webhooks", "/webhooks/new", "/webhooks/" + w.webhook, "/webhooks/" + w.webhook + "?reveal=secret", "/webhooks/" + w.webhook + "/delete",
		"/assistants", "/assistants/" + w.assistant, "/assistants/" + w.assistant + "/operations?assign=1", "/forms", "/forms/" + f.ID,
		"/conversations", "/conversations/" + w.conversation, "/events", "/events/" + ev.Items[0].ID, "/deliveries", "/deliveries/" + ds.Items[0].ID}
	input := regexp.MustCompile(`<(input|select|textarea)\b([^>]*)>`)
	for _, path := range pages {
		p := br.get(path)
		expectStatus(t, p, http.StatusOK)
		for _, m := range input.FindAllStringSubmatch(p.Body, -1) {
			if strings.Contains(m[2], `type="hidden"`) {
				continue
			}
			id := regexp.MustCompile(`\sid="([^"]+)"`).FindStringSubmatch(m[2])
			if id == nil {
				t.Errorf("GET %s: <%s%s> has no id for a label", path, m[1], m[2])
				continue
			}
			if !strings.Contains(p.Body, `<label for="`+id[1]+`"`) {
				t.Errorf("GET %s: #%s has no <label for>", path, id[1])
			}
		}
	}
	contains(t, b.browser().get("/"), `<label for="api_key">API key</label>`)
}

func TestSearch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.conversationWorld(t)
	br := b.signedIn(b.keyA)
	ctx := context.Background()
	evs, err := b.svc.QueryEvents(ctx, b.acctA, agenthooks.EventQuery{Type: agenthooks.EventConversationClosed}, agenthooks.Page{Page: 1, Size: 1})
	must(t, err)
	ev := evs.Items[0]
	ds, err := b.svc.ListDeliveries(ctx, b.acctA, agenthooks.DeliveryFilter{EventID: ev.ID}, agenthooks.Page{Page: 1, Size: 1})
	must(t, err)
	del := ds.Items[0]
	search := func(path, q string) page { return br.get(path + "?" + url.Values{"q": {q}}.Encode()) }

	t.Run("Text", func(t *testing.T) {
		p := search("/events", "FLU JAB")
		contains(t, p, `<label for="q">Search</label>`, `value="FLU JAB"`, "conversation.closed", "text in the payload (last 7 days)")
		lacks(t, p, "<code>captured_intent.created</code>")
		contains(t, search("/events", "<b>now</b>"), "conversation.closed", `value="&lt;b&gt;now&lt;/b&gt;"`)
		contains(t, search("/deliveries", "flu jab"), "/deliveries/"+del.ID, "Sink")
		none := search("/events", "no such words")
		contains(t, none, "No events match this search", "<q>no such words</q>")
		lacks(t, none, "/events/0")
		contains(t, search("/deliveries", "no such words"), "No deliveries match this search")
		long := search("/events", strings.Repeat("x", 201))
		contains(t, long, "Search for at most 200 characters")
	})

	t.Run("ID", func(t *testing.T) {
		for _, c := range []struct{ path, q, to string }{
			{"/events", ev.ID, "/events/" + ev.ID},
			{"/events", del.ID, "/deliveries/" + del.ID},
			{"/deliveries", del.ID, "/deliveries/" + del.ID},
		} {
			p := search(c.path, " "+c.q+" ")
			expectStatus(t, p, http.StatusSeeOther)
			if got := p.Header.Get("Location"); got != c.to {
				t.Errorf("search %s for %s goes to %q, want %q", c.path, c.q, got, c.to)
			}
		}
		// An event's id on Deliveries lists its deliveries.
		p := search("/deliveries", ev.ID)
		expectStatus(t, p, http.StatusOK)
		contains(t, p, "The deliveries of event", "/deliveries/"+del.ID)
		// An id of nothing, or of another account's event, is not found.
		other := b.signedIn(b.keyB)
		for _, pg := range []page{search("/events", "01900000-0000-7000-8000-000000000000"), other.get("/events?q=" + ev.ID), other.get("/deliveries?q=" + del.ID)} {
			expectStatus(t, pg, http.StatusOK)
			contains(t, pg, "Not found", "of this account has the id")
			lacks(t, pg, "/deliveries/"+del.ID, "Sink</")
		}
	})
}

// TestWebhookIDsAndDisableCountdown: ids and the secret come with copy
// buttons (hidden until the script finds the Clipboard API), and a failing
// webhook's page says when it will be disabled.
func TestWebhookIDsAndDisableCountdown(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	wh, err := b.svc.CreateWebhook(ctx, b.acctA, service.WebhookInput{Name: "CRM", Endpoint: "https://hooks.example.com/crm"})
	must(t, err)
	br := b.signedIn(b.keyA)
	p := br.get("/webhooks/" + wh.ID)
	contains(t, p, `<code id="webhook-id" class="breakall">`+wh.ID+`</code>`, `data-copy="webhook-id" aria-label="Copy webhook id" aria-live="polite" hidden>Copy</button>`,
		`<script src="/static/copy.js?v=`)
	lacks(t, p, "disabled automatically", "AGENTHOOKS_DISABLE_AFTER")
	contains(t, br.get("/webhooks/"+wh.ID+"?reveal=secret"), `data-copy="secret"`)
	contains(t, br.get("/webhooks"), "https://hooks.example.com/crm")

	for _, c := range []struct {
		since time.Duration
		want  string
	}{
		{2 * time.Hour, "disabled automatically at " + fmtUTC(time.Now().Add(-2 * time.Hour).Add(120 * time.Hour))[:16]},
		{121 * time.Hour, "due to be disabled now"},
	} {
		since := time.Now().Add(-c.since).Truncate(time.Second)
		must(t, b.store.Write(ctx, func(tx agenthooks.Tx) error {
			if err := tx.ClearWebhooksFailing([]string{wh.ID}); err != nil {
				return err
			}
			return tx.MarkWebhooksFailing([]string{wh.ID}, since)
		}))
		p = br.get("/webhooks/" + wh.ID)
		contains(t, p, "Every delivery has failed since "+fmtUTC(since), c.want, "all fail for 5 days is disabled", "<code>AGENTHOOKS_DISABLE_AFTER</code>")
	}
}

func fmtUTC(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") + " UTC" }
