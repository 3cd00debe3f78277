package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/service"
)

type acct = *agenthooks.Account

func listOf[T, V any](w http.ResponseWriter, r *http.Request, fetch func(p agenthooks.Page) (*service.List[T], error), view func(T) V) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	l, err := fetch(p)
	if err != nil {
		return err
	}
	return writePage(w, r, l, view)
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request, a acct) error {
	b, err := decodeBody(r)
	if err != nil {
		return err
	}
	var in service.WebhookInput
	in.Name, _ = b.str("name", true)
	in.Endpoint, _ = b.str("endpoint", !b.brokerDestination())
	in.Endpoint = trimmed(in.Endpoint)
	_, in.Destination = b.destination()
	in.Enabled = b.optBool("enabled")
	var events []string
	if get(b, "events", false, kList, &events) {
		in.Events = events
		if len(events) == 0 {
			b.fail("events", "List should have at least 1 item after validation, not 0", "too_short")
		}
	}
	if o := b.optStr("ordering"); o != nil {
		in.Ordering = *o
	}
	var headers map[string]string
	if get(b, "headers", false, kDict, &headers) {
		in.Headers = headers
	}
	var rate float64
	if get(b, "rate_limit", false, kNumber, &rate) {
		in.RateLimit = &rate
	}
	_, in.TLS = b.webhookTLS()
	_, in.Transformation = b.webhookTransformation()
	if raw := b.webhookFilter(); raw != nil {
		in.Filter = *raw
	}
	if err := b.err(); err != nil {
		return err
	}
	wh, err := s.svc.CreateWebhook(r.Context(), a.ID, in)
	if err != nil {
		return err
	}
	ok(w, http.StatusCreated, "Webhook created", newWebhookView(wh, true))
	return nil
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request, a acct) error {
	return listOf(w, r, func(p agenthooks.Page) (*service.List[*agenthooks.Webhook], error) {
		return s.svc.ListWebhooks(r.Context(), a.ID, p)
	},
		func(wh *agenthooks.Webhook) webhookView { return newWebhookView(wh, false) })
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request, a acct) error {
	wh, err := s.svc.GetWebhook(r.Context(), a.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	ok(w, http.StatusOK, "OK", newWebhookView(wh, false))
	return nil
}

func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request, a acct) error {
	b, err := decodeBody(r)
	if err != nil {
		return err
	}
	var p service.WebhookPatch
	p.Name = b.optStr("name")
	p.Endpoint = b.optStr("endpoint")
	if p.Endpoint != nil {
		e := trimmed(*p.Endpoint)
		p.Endpoint = &e
	}
	p.Enabled = b.optBool("enabled")
	p.Destination.Set, p.Destination.Value = b.destination()
	var events []string
	if get(b, "events", false, kList, &events) {
		p.Events = &events
		if len(events) == 0 {
			b.fail("events", "List should have at least 1 item after validation, not 0", "too_short")
		}
	} else if b.present("events") && isNull(b.fields["events"]) {
		b.fail("events", kList.msg, kList.typ)
	}
	p.Ordering = b.optStr("ordering")
	var headers map[string]string
	if get(b, "headers", false, kDict, &headers) {
		p.Headers = &headers
	}
	if b.present("rate_limit") {
		p.RateLimit.Set = true
		var rate float64
		if get(b, "rate_limit", false, kNumber, &rate) {
			p.RateLimit.Value = &rate
		}
	}
	p.TLS.Set, p.TLS.Value = b.webhookTLS()
	p.Transformation.Set, p.Transformation.Value = b.webhookTransformation()
	p.Filter = b.webhookFilter()
	if err := b.err(); err != nil {
		return err
	}
	wh, err := s.svc.UpdateWebhook(r.Context(), a.ID, r.PathValue("id"), p)
	if err != nil {
		return err
	}
	ok(w, http.StatusOK, "Webhook updated", newWebhookView(wh, false))
	return nil
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request, a acct) error {
	id := r.PathValue("id")
	if err := s.svc.DeleteWebhook(r.Context(), a.ID, id); err != nil {
		return err
	}
	ok(w, http.StatusOK, "Webhook deleted", map[string]string{"id": id})
	return nil
}

func (s *Server) getWebhookSecret(w http.ResponseWriter, r *http.Request, a acct) error {
	wh, err := s.svc.GetWebhook(r.Context(), a.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	ok(w, http.StatusOK, "OK", map[string]string{"secret": wh.Secret})
	return nil
}

func (s *Server) rotateSecret(w http.ResponseWriter, r *http.Request, a acct) error {
	wh, err := s.svc.RotateSecret(r.Context(), a.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	ok(w, http.StatusOK, "Secret rotated", newWebhookView(wh, true))
	return nil
}

func (s *Server) listWebhookDeliveries(w http.ResponseWriter, r *http.Request, a acct) error {
	if st := r.URL.Query().Get("status"); st != "" && !agenthooks.IsDeliveryStatus(st) {
		return queryError("status", agenthooks.DeliveryStatusMsg, "enum")
	}
	return listOf(w, r, func(p agenthooks.Page) (*service.List[*agenthooks.Delivery], error) {
		return s.svc.ListWebhookDeliveries(r.Context(), a.ID, r.PathValue("id"), r.URL.Query().Get("status"), p)
	}, newDeliveryView)
}

func (s *Server) createAssistant(w http.ResponseWriter, r *http.Request, a acct) error {
	b, err := decodeBody(r)
	if err != nil {
		return err
	}
	var in service.AssistantInput
	in.Name, _ = b.str("name", false)
	in.AssistantType, _ = b.str("assistant_type", false)
	if _, id := b.nullableID("webhook_id"); id != nil {
		in.WebhookID = *id
	}
	in.Description, _ = b.str("description", false)
	in.LLMModel, _ = b.str("llm_model", false)
	in.SystemPrompt, _ = b.str("system_prompt", false)
	get(b, "voice", false, kBool, &in.Voice)
	in.VoiceName, _ = b.str("voice_name", false)
	get(b, "voice_languages", false, kList, &in.VoiceLanguages)
	in.Attributes = b.object("attributes")
	in.Profile = b.profile(agenthooks.AssistantProfile{})
	if err := b.err(); err != nil {
		return err
	}
	as, err := s.svc.CreateAssistant(r.Context(), a.ID, in)
	if err != nil {
		return err
	}
	ok(w, http.StatusCreated, "Assistant created", newAssistantView(as))
	return nil
}

func (s *Server) listAssistants(w http.ResponseWriter, r *http.Request, a acct) error {
	return listOf(w, r, func(p agenthooks.Page) (*service.List[*agenthooks.Assistant], error) {
		return s.svc.ListAssistants(r.Context(), a.ID, p)
	}, newAssistantView)
}

func (s *Server) getAssistant(w http.ResponseWriter, r *http.Request, a acct) error {
	as, err := s.svc.GetAssistant(r.Context(), a.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	ok(w, http.StatusOK, "OK", newAssistantView(as))
	return nil
}

func (s *Server) updateAssistant(w http.ResponseWriter, r *http.Request, a acct) error {
	b, err := decodeBody(r)
	if err != nil {
		return err
	}
	var p service.AssistantPatch
	p.Name = b.optStr("name")
	p.AssistantType = b.optStr("assistant_type")
	p.WebhookID.Set, p.WebhookID.Value = b.nullableID("webhook_id")
	p.Description = b.clearableStr("description")
	p.LLMModel = b.clearableStr("llm_model")
	p.SystemPrompt = b.clearableStr("system_prompt")
	p.Voice = b.optBool("voice")
	p.VoiceName = b.clearableStr("voice_name")
	p.VoiceLanguages = b.clearableList("voice_languages")
	p.Attributes = b.clearableObject("attributes")
	p.Profile = b.profile(agenthooks.AssistantProfile{})
	if err := b.err(); err != nil {
		return err
	}
	as, err := s.svc.UpdateAssistant(r.Context(), a.ID, r.PathValue("id"), p)
	if err != nil {
		return err
	}
	ok(w, http.StatusOK, "Assistant updated", newAssistantView(as))
	return nil
}

func (s *Server) deleteAssistant(w http.ResponseWriter, r *http.Request, a acct) error {
	id := r.PathValue("id")
	if err := s.svc.DeleteAssistant(r.Context(), a.ID, id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, deletedWithDetails{Message: "Assistant deleted", Data: map[string]string{"id": id},
		Details: "The assistant and its assistant-intent records were deleted; the intents themselves stay."})
	return nil
}

func (s *Server) createWidget(w http.ResponseWriter, r *http.Request, a acct) error {
	b, err := decodeBody(r)
	if err != nil {
		return err
	}
	var in service.WidgetInput
	if _, id := b.nullableID("assistant_id"); id != nil {
		in.AssistantID = *id
	}
	in.Name, _ = b.str("name", false)
	in.WidgetType, _ = b.str("widget_type", true)
	in.Profile = b.profile(agenthooks.WidgetProfile{})
	if err := b.err(); err != nil {
		return err
	}
	wg, err := s.svc.CreateWidget(r.Context(), a.ID, in)
	if err != nil {
		return err
	}
	ok(w, http.StatusCreated, "Widget created", newWidgetView(wg))
	return nil
}

func (s *Server) listWidgets(w http.ResponseWriter, r *http.Request, a acct) error {
	return listOf(w, r, func(p agenthooks.Page) (*service.List[*agenthooks.Widget], error) {
		return s.svc.ListWidgets(r.Context(), a.ID, p)
	}, newWidgetView)
}

func (s *Server) getWidget(w http.ResponseWriter, r *http.Request, a acct) error {
	wg, err := s.svc.GetWidget(r.Context(), a.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	ok(w, http.StatusOK, "OK", newWidgetView(wg))
	return nil
}

// formFields reads "fields": a list of {name, type, required}.
func formFields(b *body) ([]agenthooks.FormField, bool) {
	var raw []json.RawMessage
	if !get(b, "fields", false, kList, &raw) {
		if b.present("fields") && isNull(b.fields["fields"]) {
			b.fail("fields", kList.msg, kList.typ)
		}
		return nil, false
	}
	fields := make([]agenthooks.FormField, 0, len(raw))
	for i, item := range raw {
		fb := &body{}
		if err := json.Unmarshal(item, &fb.fields); err != nil || fb.fields == nil {
			b.errs = append(b.errs, agenthooks.FieldError{Loc: []any{"fields", i}, Msg: kDict.msg, Type: kDict.typ})
			continue
		}
		var f agenthooks.FormField
		f.Name, _ = fb.str("name", true)
		f.Type, _ = fb.str("type", false)
		if f.Type == "" && !fb.present("type") {
			f.Type = "text"
		}
		var req bool
		if get(fb, "required", false, kBool, &req) {
			f.Required = req
		}
		for _, e := range fb.errs {
			e.Loc = append([]any{"fields", i}, e.Loc...)
			b.errs = append(b.errs, e)
		}
		fields = append(fields, f)
	}
	return fields, true
}

func (s *Server) createForm(w http.ResponseWriter, r *http.Request, a acct) error {
	b, err := decodeBody(r)
	if err != nil {
		return err
	}
	var in service.FormInput
	in.Name, _ = b.str("name", true)
	in.Fields, _ = formFields(b)
	if _, id := b.nullableID("webhook_id"); id != nil {
		in.WebhookID = *id
	}
	if err := b.err(); err != nil {
		return err
	}
	f, err := s.svc.CreateForm(r.Context(), a.ID, in)
	if err != nil {
		return err
	}
	ok(w, http.StatusCreated, "Form created", newFormView(f))
	return nil
}

func (s *Server) listForms(w http.ResponseWriter, r *http.Request, a acct) error {
	return listOf(w, r, func(p agenthooks.Page) (*service.List[*agenthooks.Form], error) {
		return s.svc.ListForms(r.Context(), a.ID, p)
	}, newFormView)
}

func (s *Server) getForm(w http.ResponseWriter, r *http.Request, a acct) error {
	f, err := s.svc.GetForm(r.Context(), a.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	ok(w, http.StatusOK, "OK", newFormView(f))
	return nil
}

func (s *Server) updateForm(w http.ResponseWriter, r *http.Request, a acct) error {
	b, err := decodeBody(r)
	if err != nil {
		return err
	}
	var p service.FormPatch
	p.Name = b.optStr("name")
	if fields, ok := formFields(b); ok {
		p.Fields = &fields
	}
	p.WebhookID.Set, p.WebhookID.Value = b.nullableID("webhook_id")
	if err := b.err(); err != nil {
		return err
	}
	f, err := s.svc.UpdateForm(r.Context(), a.ID, r.PathValue("id"), p)
	if err != nil {
		return err
	}
	ok(w, http.StatusOK, "Form updated", newFormView(f))
	return nil
}

func (s *Server) createIntent(w http.ResponseWriter, r *http.Request, a acct) error {
	b, err := decodeBody(r)
	if err != nil {
		return err
	}
	name, _ := b.str("name", false)
	desc, _ := b.str("description", false)
	profile := b.profile(agenthooks.IntentProfile{})
	if err := b.err(); err != nil {
		return err
	}
	i, err := s.svc.CreateIntent(r.Context(), a.ID, name, desc, profile)
	if err != nil {
		return err
	}
	ok(w, http.StatusCreated, "Intent created", newIntentView(i))
	return nil
}

func (s *Server) listIntents(w http.ResponseWriter, r *http.Request, a acct) error {
	return listOf(w, r, func(p agenthooks.Page) (*service.List[*agenthooks.Intent], error) {
		return s.svc.ListIntents(r.Context(), a.ID, p)
	}, newIntentView)
}

func (s *Server) getIntent(w http.ResponseWriter, r *http.Request, a acct) error {
	i, err := s.svc.GetIntent(r.Context(), a.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	ok(w, http.StatusOK, "OK", newIntentView(i))
	return nil
}

func (s *Server) createContact(w http.ResponseWriter, r *http.Request, a acct) error {
	b, err := decodeBody(r)
	if err != nil {
		return err
	}
	var c agenthooks.Contact
	c.FirstName, _ = b.str("first_name", false)
	c.LastName, _ = b.str("last_name", false)
	c.Email, _ = b.str("email", false)
	c.PhoneNumber, _ = b.str("phone_number", false)
	profile := b.profile(agenthooks.ContactProfile{})
	if err := b.err(); err != nil {
		return err
	}
	if err := agenthooks.ApplyProfile(&c.Profile, profile); err != nil {
		return err
	}
	ct, err := s.svc.CreateContact(r.Context(), a.ID, c)
	if err != nil {
		return err
	}
	ok(w, http.StatusCreated, "Contact created", newContactView(ct))
	return nil
}

func (s *Server) listContacts(w http.ResponseWriter, r *http.Request, a acct) error {
	return listOf(w, r, func(p agenthooks.Page) (*service.List[*agenthooks.Contact], error) {
		return s.svc.ListContacts(r.Context(), a.ID, p)
	}, newContactView)
}

func (s *Server) getContact(w http.ResponseWriter, r *http.Request, a acct) error {
	c, err := s.svc.GetContact(r.Context(), a.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	ok(w, http.StatusOK, "OK", newContactView(c))
	return nil
}

func (s *Server) createConversation(w http.ResponseWriter, r *http.Request, a acct) error {
	b, err := decodeBody(r)
	if err != nil {
		return err
	}
	var in service.ConversationInput
	in.AssistantID, _ = b.str("assistant_id", true)
	in.WidgetID, _ = b.str("widget_id", true)
	in.DeviceType, _ = b.str("device_type", true)
	if _, id := b.nullableID("contact_id"); id != nil {
		in.ContactID = *id
	}
	in.Attributes = b.object("attributes")
	in.UniqueDeviceID, _ = b.str("unique_device_id", false)
	if err := b.err(); err != nil {
		return err
	}
	c, err := s.svc.CreateConversation(r.Context(), a.ID, in)
	if err != nil {
		return err
	}
	ok(w, http.StatusCreated, "Conversation created", newConversationView(c))
	return nil
}

// dateParam reads date_from / date_to: RFC 3339 or YYYY-MM-DD (a date_to date
// covers that whole day).
func dateParam(r *http.Request, name string, endOfDay bool) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		if endOfDay {
			t = t.Add(24*time.Hour - time.Microsecond)
		}
		return t, nil
	}
	return time.Time{}, queryError(name, "Input should be a valid datetime or date (RFC 3339 or YYYY-MM-DD)", "datetime_parsing")
}

func (s *Server) listConversations(w http.ResponseWriter, r *http.Request, a acct) error {
	var f agenthooks.ConversationFilter
	var err error
	if f.From, err = dateParam(r, "date_from", false); err != nil {
		return err
	}
	if f.To, err = dateParam(r, "date_to", true); err != nil {
		return err
	}
	if err := s.conversationFilterParams(r, a, &f); err != nil {
		return err
	}
	f.AssistantID = r.URL.Query().Get("assistant_id")
	return listOf(w, r, func(p agenthooks.Page) (*service.List[*agenthooks.Conversation], error) {
		return s.svc.ListConversations(r.Context(), a.ID, f, p)
	}, newConversationRowView)
}

func (s *Server) getConversation(w http.ResponseWriter, r *http.Request, a acct) error {
	c, err := s.svc.GetConversation(r.Context(), a.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	ok(w, http.StatusOK, "OK", newConversationDetail(c.Conversation, c.Transcript))
	return nil
}

func (s *Server) addMessage(w http.ResponseWriter, r *http.Request, a acct) error {
	b, err := decodeBody(r)
	if err != nil {
		return err
	}
	var in service.MessageInput
	in.SenderType, _ = b.str("sender_type", true)
	in.Text, _ = b.str("text", true)
	in.MessageType, _ = b.str("message_type", false)
	if err := b.err(); err != nil {
		return err
	}
	m, err := s.svc.AddMessage(r.Context(), a.ID, r.PathValue("id"), in)
	if err != nil {
		return err
	}
	ok(w, http.StatusCreated, "Message added", newMessageView(m))
	return nil
}

func (s *Server) captureForm(w http.ResponseWriter, r *http.Request, a acct) error {
	b, err := decodeBody(r)
	if err != nil {
		return err
	}
	formID, _ := b.str("form_id", true)
	var values map[string]any
	get(b, "field_values", true, kDict, &values)
	if err := b.err(); err != nil {
		return err
	}
	cf, err := s.svc.CaptureForm(r.Context(), a.ID, r.PathValue("id"), formID, values)
	if err != nil {
		return err
	}
	ok(w, http.StatusCreated, "Form captured", newCapturedFormView(cf))
	return nil
}

func (s *Server) updateCapturedForm(w http.ResponseWriter, r *http.Request, a acct) error {
	b, err := decodeBody(r)
	if err != nil {
		return err
	}
	var values map[string]any
	get(b, "field_values", true, kDict, &values)
	if err := b.err(); err != nil {
		return err
	}
	cf, err := s.svc.UpdateCapturedForm(r.Context(), a.ID, r.PathValue("id"), values)
	if err != nil {
		return err
	}
	ok(w, http.StatusOK, "Captured form updated", newCapturedFormView(cf))
	return nil
}

func (s *Server) captureIntent(w http.ResponseWriter, r *http.Request, a acct) error {
	b, err := decodeBody(r)
	if err != nil {
		return err
	}
	intentID, _ := b.str("intent_id", true)
	if err := b.err(); err != nil {
		return err
	}
	ci, err := s.svc.CaptureIntent(r.Context(), a.ID, r.PathValue("id"), intentID)
	if err != nil {
		return err
	}
	ok(w, http.StatusCreated, "Intent captured", capturedIntentView{ID: ci.ID, ConversationID: ci.ConversationID, IntentID: ci.IntentID, CreatedAt: rfc3339(ci.CreatedAt)})
	return nil
}

// closeConversation takes an optional {summary}: the conversation's summary,
// shown in GET /conversation's rows.
func (s *Server) closeConversation(w http.ResponseWriter, r *http.Request, a acct) error {
	b, err := decodeBody(r)
	if err != nil {
		return err
	}
	summary, _ := b.str("summary", false)
	if err := b.err(); err != nil {
		return err
	}
	c, err := s.svc.CloseConversationWithSummary(r.Context(), a.ID, r.PathValue("id"), summary)
	if err != nil {
		return err
	}
	ok(w, http.StatusOK, "Conversation closed", newConversationView(c))
	return nil
}

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request, a acct) error {
	f := agenthooks.EventFilter{Type: r.URL.Query().Get("event")}
	if f.Type != "" {
		known, err := s.svc.CheckEventFilter(r.Context(), a.ID, f.Type)
		if err != nil {
			return err
		}
		if !known {
			return queryError("event", "Input should be a known event type (a built-in one or one of this account's)", "enum")
		}
	}
	return s.streamEvents(w, r, a, f)
}

func (s *Server) getEvent(w http.ResponseWriter, r *http.Request, a acct) error {
	e, err := s.svc.GetEvent(r.Context(), a.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	ok(w, http.StatusOK, "OK", newEventDetail(e.Event, e.Deliveries))
	return nil
}

func (s *Server) getDelivery(w http.ResponseWriter, r *http.Request, a acct) error {
	d, err := s.svc.GetDelivery(r.Context(), a.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	ok(w, http.StatusOK, "OK", newDeliveryDetail(d.Delivery, d.Attempts))
	return nil
}

func (s *Server) retryDelivery(w http.ResponseWriter, r *http.Request, a acct) error {
	if _, err := readBody(r); err != nil {
		return err
	}
	d, err := s.svc.RetryDelivery(r.Context(), a.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	ok(w, http.StatusAccepted, "Retry queued", newDeliveryView(d))
	return nil
}
