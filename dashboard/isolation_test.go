package dashboard_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/dashboard"
	"github.com/agenthooks/agenthooks/service"
)

// The dashboard's isolation matrix: every route of the dashboard's own route
// table (dashboard.RegisteredRoutes) is called by a browser signed in as
// account B, with account A's ids in the path, the query and the form (and
// B's valid form token, so no POST is refused for CSRF reasons). A route that
// names a resource in its path must answer exactly what the same route
// answers for a missing id; no answer may hold an id or a secret of A's that
// B did not send itself. A route the matrix does not know how to fill fails
// the test, so a route added later cannot escape it: teach it here.

// missingID is an id no account has.
const missingID = "01900000-0000-7000-8000-000000000000"

// dashKinds names the kind of resource a path parameter holds: "{id}" by the
// path segment before it, any other parameter by its own name.
var dashKinds = map[string]string{
	"webhooks": "webhook", "assistants": "assistant", "forms": "form", "conversations": "conversation",
	"events": "event", "deliveries": "delivery", "api-keys": "api_key", "token": "portal",
	"name": "event_type",
}

// isoWorld is account A's things, one of each kind, and the secrets B must
// never see.
type isoWorld struct {
	ids     map[string]string // kind → A's id
	secrets []string          // A's API key, webhook secret, portal token
	names   []string          // names only A's things carry
}

// dashForms are the forms (for account A's ids) of the routes that take one;
// a POST route missing here fails the matrix.
var dashForms = map[string]func(w isoWorld) url.Values{
	"POST /sign-in":               func(isoWorld) url.Values { return url.Values{"api_key": {""}} },
	"POST /sign-out":              func(isoWorld) url.Values { return nil },
	"POST /webhooks":              func(isoWorld) url.Values { return webhookForm("B's", "https://hooks.example.com/b") },
	"POST /webhooks/{id}":         func(isoWorld) url.Values { return webhookForm("renamed", "https://hooks.example.com/x") },
	"POST /webhooks/{id}/enable":  func(isoWorld) url.Values { return nil },
	"POST /webhooks/{id}/disable": func(isoWorld) url.Values { return nil },
	"POST /webhooks/{id}/delete":  func(isoWorld) url.Values { return nil },
	"POST /webhooks/{id}/rotate":  func(isoWorld) url.Values { return nil },
	"POST /webhooks/{id}/test":    func(isoWorld) url.Values { return nil },
	"POST /webhooks/{id}/recover": func(isoWorld) url.Values { return url.Values{"since": {"2000-01-01T00:00"}} },
	"POST /webhooks/{id}/filter": func(isoWorld) url.Values {
		return url.Values{"action": {"save"}, "filter": {`{"event": "conversation.closed"}`}}
	},
	"POST /webhooks/{id}/transformation": func(isoWorld) url.Values {
		return url.Values{"action": {"save"}, "transformation": {"function handler(w) { return w }"}, "transformation_enabled": {"1"}}
	},
	"POST /assistants":              func(w isoWorld) url.Values { return url.Values{"name": {"B's"}, "webhook_id": {w.ids["webhook"]}} },
	"POST /assistants/{id}/widgets": func(isoWorld) url.Values { return url.Values{"name": {"w"}, "widget_type": {"chat"}} },
	"POST /assistants/{id}/webhook": func(w isoWorld) url.Values { return url.Values{"webhook_id": {w.ids["webhook"]}} },
	"POST /forms": func(w isoWorld) url.Values {
		return url.Values{"name": {"B's"}, "field_0_name": {"email"}, "field_0_type": {"text"}, "webhook_id": {w.ids["webhook"]}}
	},
	"POST /forms/{id}/webhook":             func(w isoWorld) url.Values { return url.Values{"webhook_id": {w.ids["webhook"]}} },
	"POST /deliveries/{id}/retry":          func(isoWorld) url.Values { return nil },
	"POST /settings/api-keys":              func(isoWorld) url.Values { return url.Values{"name": {"B's key"}} },
	"POST /settings/api-keys/{id}/revoke":  func(isoWorld) url.Values { return nil },
	"POST /settings/sign-out-everywhere":   func(isoWorld) url.Values { return nil },
	"POST /event-types":                    func(isoWorld) url.Values { return url.Values{"name": {"b.created"}} },
	"POST /event-types/{name}":             func(isoWorld) url.Values { return url.Values{"description": {"hijacked"}} },
	"POST /event-types/{name}/deprecate":   func(isoWorld) url.Values { return nil },
	"POST /event-types/{name}/undeprecate": func(isoWorld) url.Values { return nil },
	"POST /event-types/{name}/delete":      func(isoWorld) url.Values { return nil },
}

// dashQueries are query strings naming A's ids, sent with a route.
var dashQueries = map[string]func(w isoWorld) string{
	"GET /conversations": func(w isoWorld) string { return "?assistant_id=" + w.ids["assistant"] },
	"GET /events": func(w isoWorld) string {
		return "?assistant_id=" + w.ids["assistant"] + "&conversation_id=" + w.ids["conversation"]
	},
	"GET /deliveries":                 func(w isoWorld) string { return "?webhook_id=" + w.ids["webhook"] },
	"GET /assistants/{id}/operations": func(w isoWorld) string { return "?assign=1&webhook_id=" + w.ids["webhook"] },
	"GET /forms/{id}":                 func(w isoWorld) string { return "?webhook_id=" + w.ids["webhook"] },
	"GET /webhooks/{id}":              func(isoWorld) string { return "?reveal=secret" },
}

// dashPlain are the paths to call for the routes whose pattern is not a path
// of its own (a prefix, the catch-all).
var dashPlain = map[string]string{"GET /static/": "/static/style.css", "/": "/webhooks/" + missingID + "/nowhere"}

// isoSnapshot is what B's requests must not change of A's.
type isoSnapshot struct {
	Webhook    *agenthooks.Webhook
	Assistant  *agenthooks.Assistant
	Widgets    int
	Form       *agenthooks.Form
	Deliveries []*agenthooks.Delivery
	Keys       []*agenthooks.APIKey
	Sessions   bool
}

func (b *testBundle) isoSnapshot(t *testing.T, w isoWorld) isoSnapshot {
	t.Helper()
	ctx := context.Background()
	var s isoSnapshot
	var err error
	s.Webhook, err = b.svc.GetWebhook(ctx, b.acctA, w.ids["webhook"])
	must(t, err)
	s.Assistant, err = b.svc.GetAssistant(ctx, b.acctA, w.ids["assistant"])
	must(t, err)
	wl, err := b.svc.ListWidgets(ctx, b.acctA, agenthooks.Page{Page: 1, Size: 100})
	must(t, err)
	s.Widgets = wl.Total
	s.Form, err = b.svc.GetForm(ctx, b.acctA, w.ids["form"])
	must(t, err)
	dl, err := b.svc.ListDeliveries(ctx, b.acctA, agenthooks.DeliveryFilter{}, agenthooks.Page{Page: 1, Size: 100})
	must(t, err)
	s.Deliveries = dl.Items
	kl, err := b.svc.ListAPIKeys(ctx, b.acctA, agenthooks.Page{Page: 1, Size: 100})
	must(t, err)
	s.Keys = kl.Items
	return s
}

// isoSetup builds A's world: every kind a dashboard route can name.
func (b *testBundle) isoWorld(t *testing.T) isoWorld {
	t.Helper()
	ctx := context.Background()
	cw := b.conversationWorld(t)
	ev, err := b.svc.QueryEvents(ctx, b.acctA, agenthooks.EventQuery{}, agenthooks.Page{Page: 1, Size: 1})
	must(t, err)
	ds, err := b.svc.ListDeliveries(ctx, b.acctA, agenthooks.DeliveryFilter{}, agenthooks.Page{Page: 1, Size: 1})
	must(t, err)
	keys, err := b.svc.ListAPIKeys(ctx, b.acctA, agenthooks.Page{Page: 1, Size: 1})
	must(t, err)
	wh, err := b.svc.GetWebhook(ctx, b.acctA, cw.webhook)
	must(t, err)
	if len(ev.Items) == 0 || len(ds.Items) == 0 || len(keys.Items) == 0 {
		t.Fatalf("A's world lacks an event, a delivery or a key: %d %d %d", len(ev.Items), len(ds.Items), len(keys.Items))
	}
	// A's portal link, already used: a link is a bearer credential (whoever
	// holds an unused one is A by design), so the matrix checks that a used
	// one answers as a missing one does, whoever's browser sends it.
	// A's own event type, named as only A's things are.
	_, err = b.svc.CreateEventType(ctx, b.acctA, service.EventTypeInput{Name: "acme.call_ended", Description: "Acme's calls"})
	must(t, err)
	link := b.portalPath(t, 0, false)
	expectStatus(t, b.browser().get(link), http.StatusSeeOther)
	token := strings.TrimPrefix(link, "/portal/")
	return isoWorld{
		ids: map[string]string{"webhook": cw.webhook, "assistant": cw.assistant, "form": cw.form, "conversation": cw.conversation,
			"event": ev.Items[0].ID, "delivery": ds.Items[0].ID, "api_key": keys.Items[0].ID, "portal": token, "event_type": "acme.call_ended"},
		secrets: []string{b.keyA, wh.Secret, token},
		names:   []string{"Acme", "Sink", "Support", "Callback", "flu jab", "+49 30 123"},
	}
}

// fillPath replaces each path parameter by A's id of its kind, or (mine
// false) by an id nobody has; ok is false (and the test fails) for a
// parameter the matrix does not know.
func fillPath(t *testing.T, w isoWorld, path string, mine bool) (string, bool) {
	t.Helper()
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		if !strings.HasPrefix(seg, "{") || !strings.HasSuffix(seg, "}") {
			continue
		}
		name := strings.TrimSuffix(strings.Trim(seg, "{}"), "...")
		if name == "$" {
			segs[i] = ""
			continue
		}
		key := name
		if name == "id" && i > 0 {
			key = segs[i-1]
		}
		kind, ok := dashKinds[key]
		if _, known := w.ids[kind]; !ok || !known {
			t.Errorf("the dashboard's isolation matrix does not know what {%s} in %s names: add it to dashKinds (and isoWorld)", name, path)
			return "", false
		}
		segs[i] = missingID
		if mine {
			segs[i] = w.ids[kind]
		}
	}
	return strings.Join(segs, "/"), true
}

// TestDashboardIsolationMatrix calls every dashboard route as B with A's ids.
func TestDashboardIsolationMatrix(t *testing.T) {
	t.Parallel()
	b := setup(t)
	d, err := dashboard.New(dashboard.Options{Service: b.svc, TestWait: time.Millisecond})
	must(t, err)
	routes := dashboard.RegisteredRoutes(d)
	if len(routes) < 30 {
		t.Fatalf("only %d routes registered: %v", len(routes), routes)
	}
	w := b.isoWorld(t)
	before := b.isoSnapshot(t, w)
	br := b.signedIn(b.keyB)

	// Sign-out ends B's session: it goes last.
	var last []string
	for _, pattern := range routes {
		if pattern == "POST /sign-out" || pattern == "POST /settings/sign-out-everywhere" {
			last = append(last, pattern)
			continue
		}
		b.isoCall(t, br, w, pattern)
	}
	for _, pattern := range last {
		b.isoCall(t, br, w, pattern)
	}

	if after := b.isoSnapshot(t, w); !reflect.DeepEqual(before, after) {
		t.Errorf("B's requests changed A's things:\nbefore %+v\nafter  %+v", before, after)
	}
}

// isoCall calls one route as B: with A's ids, and (for a route that names a
// resource) with a missing id, whose answer A's ids must get too.
func (b *testBundle) isoCall(t *testing.T, br *browser, w isoWorld, pattern string) {
	t.Helper()
	method, path, found := strings.Cut(pattern, " ")
	if !found {
		method, path = http.MethodGet, pattern
	}
	if method != http.MethodGet && method != http.MethodPost {
		t.Errorf("%s: the matrix calls GET and POST only: teach it %s", pattern, method)
		return
	}
	var form url.Values
	if method == http.MethodPost {
		mk, ok := dashForms[pattern]
		if !ok {
			t.Errorf("%s: the dashboard's isolation matrix has no form for this route: add it to dashForms", pattern)
			return
		}
		form = mk(w)
	}
	query := ""
	if q, ok := dashQueries[pattern]; ok {
		query = q(w)
	}
	send := func(p string) page {
		if method == http.MethodPost {
			// A fresh url.Values each time: post adds the form token.
			v := url.Values{}
			for k, vs := range form {
				v[k] = append([]string(nil), vs...)
			}
			if br.csrf == "" {
				t.Fatalf("%s: B has no form token", pattern)
			}
			return br.post(p+query, v)
		}
		return br.get(p + query)
	}
	var theirs page
	if plain, ok := dashPlain[pattern]; ok {
		theirs = send(plain)
	} else {
		filled, ok := fillPath(t, w, path, true)
		if !ok {
			return
		}
		theirs = send(filled)
		if strings.Contains(strings.ReplaceAll(path, "{$}", ""), "{") {
			missing, _ := fillPath(t, w, path, false)
			want := send(missing)
			if want.Status < 400 || want.Status >= 500 {
				t.Errorf("%s with a missing id: status %d, want a 4xx", pattern, want.Status)
			}
			if theirs.Status != want.Status || theirs.Body != want.Body {
				t.Errorf("%s %s with A's ids: status %d, want %d and the same page as a missing id's:\n%s", method, filled, theirs.Status, want.Status, theirs.Body)
			}
		}
	}
	if theirs.Status >= 500 {
		t.Errorf("%s: status %d", pattern, theirs.Status)
	}
	sent := form.Encode() + query
	body := theirs.Body + "\n" + html.UnescapeString(theirs.Body)
	for kind, id := range w.ids {
		if strings.Contains(body, id) && !strings.Contains(sent, id) {
			t.Errorf("%s: the answer holds A's %s id %s", pattern, kind, id)
		}
	}
	for _, s := range append(append([]string(nil), w.secrets...), w.names...) {
		if strings.Contains(body, s) && !strings.Contains(sent, s) {
			t.Errorf("%s: the answer holds A's %q", pattern, s)
		}
	}
}
