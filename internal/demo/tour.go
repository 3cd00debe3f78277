package demo

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/agenthooks/agenthooks/webhook"
)

// tour sets up the world of Insighto's help article (docs/wire-format.md) through the API and plays its stories.
func (d *session) tour(ctx context.Context) error {
	w := &d.world
	d.printf("Setting up, through the HTTP API, what Insighto's help article on webhooks sets up in its dashboard:\n")

	var hook struct{ ID, Secret string }
	websiteURL := d.receiverURL + "/hooks/website"
	if err := d.api.Do(ctx, http.MethodPost, "/outbound_webhook", map[string]any{
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
	d.printf("                                 (the article's three events; its secret signs every request)\n")

	var err error
	if w.assistant, err = d.api.Create(ctx, "/assistant", map[string]any{"name": "Algoscale assistant"}); err != nil {
		return err
	}
	d.printf("  POST  /assistant               \"Algoscale assistant\"\n")
	if err := d.api.Do(ctx, http.MethodPatch, "/assistant/"+w.assistant, map[string]any{"webhook_id": w.webhook}, nil); err != nil {
		return err
	}
	d.printf("  PATCH /assistant/{id}          Assign Webhook: \"My website\"\n")
	if w.widget, err = d.api.Create(ctx, "/widget", map[string]any{"assistant_id": w.assistant, "name": "Website chat", "widget_type": "chat"}); err != nil {
		return err
	}
	d.printf("  POST  /widget                  \"Website chat\", a chat widget of the assistant\n")
	if w.form, err = d.api.Create(ctx, "/form", map[string]any{"name": "Algoscale Leads", "webhook_id": w.webhook, "fields": []map[string]any{
		{"name": "name", "type": "text", "required": true},
		{"name": "email", "type": "text", "required": true},
		{"name": "query", "type": "textarea", "required": false},
	}}); err != nil {
		return err
	}
	d.printf("  POST  /form                    \"Algoscale Leads\": name, email, query → \"My website\"\n")
	if w.intent, err = d.api.Create(ctx, "/intent", map[string]any{"name": "SALES", "description": "the visitor wants to buy or book"}); err != nil {
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
	if err := d.api.Do(ctx, http.MethodPost, "/conversation/"+conv+"/captured_form", map[string]any{"form_id": w.form, "field_values": map[string]any{
		"name": "Smith Stevens", "email": "smith@example.com", "query": "flask developer",
	}}, nil); err != nil {
		return err
	}
	if _, err := d.waitFor(ctx, "captured_form.created at \"My website\"", func(a arrival) bool {
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
	if err := d.api.Do(ctx, http.MethodPost, "/conversation/"+conv+"/captured_intent", map[string]any{"intent_id": w.intent}, nil); err != nil {
		return err
	}
	if _, err := d.waitFor(ctx, "captured_intent.created at \"My website\"", func(a arrival) bool {
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
	if err := d.api.Do(ctx, http.MethodPost, "/conversation/"+conv+"/close", nil, nil); err != nil {
		return err
	}
	a, err := d.waitFor(ctx, "conversation.closed at \"My website\"", func(a arrival) bool {
		return a.hook == "website" && a.typ == webhook.EventConversationClosed && a.conv == conv
	})
	if err != nil {
		return err
	}
	w.lastEvent = a.id

	// 4. Retries.
	d.printf("\n4. Retries: the form also sends its leads to a CRM, whose endpoint fails twice before it recovers.\n")
	crmURL := d.receiverURL + "/hooks/crm"
	if err := d.api.Do(ctx, http.MethodPost, "/outbound_webhook", map[string]any{
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
	if err := d.api.Do(ctx, http.MethodPatch, "/form/"+w.form, map[string]any{"webhook_id": w.crm}, nil); err != nil {
		return err
	}
	d.printf("   PATCH /form/{id}              the form's webhook is now \"CRM\"; the assistant's is still \"My website\"\n")
	d.printf("   A second visitor fills in the form: one event, two deliveries, each retried on its own.\n")
	if conv, err = d.conversation(ctx, "tablet", nil, "user: Do you also do Django?", "bot: We do! Leave your details, please."); err != nil {
		return err
	}
	if err := d.api.Do(ctx, http.MethodPost, "/conversation/"+conv+"/captured_form", map[string]any{"form_id": w.form, "field_values": map[string]any{
		"name": "Ann Lee", "email": "ann@example.com", "query": "django developer",
	}}, nil); err != nil {
		return err
	}
	websiteGot, crmOK := false, false
	if a, err = d.waitFor(ctx, "the CRM's third attempt", func(a arrival) bool {
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
func (d *session) showRetried(ctx context.Context, id string) error {
	var ev struct {
		Deliveries []struct {
			ID        string `json:"id"`
			WebhookID string `json:"webhook_id"`
		} `json:"deliveries"`
	}
	if err := d.api.Do(ctx, http.MethodGet, "/event/"+id, nil, &ev); err != nil {
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
		if err := d.api.Do(ctx, http.MethodGet, "/delivery/"+d.world.retried, nil, &del); err != nil {
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
func (d *session) conversation(ctx context.Context, device string, attributes map[string]any, messages ...string) (string, error) {
	body := map[string]any{"assistant_id": d.world.assistant, "widget_id": d.world.widget, "device_type": device}
	if attributes != nil {
		body["attributes"] = attributes
	}
	id, err := d.api.Create(ctx, "/conversation", body)
	if err != nil {
		return "", err
	}
	for _, m := range messages {
		sender, text, _ := strings.Cut(m, ": ")
		if err := d.api.Do(ctx, http.MethodPost, "/conversation/"+id+"/message", map[string]any{"sender_type": sender, "text": text}, nil); err != nil {
			return "", err
		}
		d.printf("   %-5s %s\n", strings.ToUpper(sender[:1])+sender[1:]+":", text)
	}
	return id, nil
}

// waitFor reads arrivals until done reports true for one, for at most 30s.
func (d *session) waitFor(ctx context.Context, what string, done func(a arrival) bool) (arrival, error) {
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for {
		select {
		case a := <-d.arrivals:
			if done(a) {
				return a, nil
			}
		case <-timeout.C:
			return arrival{}, fmt.Errorf("waited 30s for %s; see GET /event and GET /delivery/{id}", what)
		case <-ctx.Done():
			return arrival{}, ctx.Err()
		}
	}
}
