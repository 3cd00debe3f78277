package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/agenthooks/agenthooks"
)

// view is what every page template gets: the layout's needs and the page's
// own data in D.
type view struct {
	Title     string
	Nav       string // the sidebar item to highlight
	Account   *agenthooks.Account
	ReadOnly  bool
	CSRF      string
	Flash     string
	Next      template.HTML // the next step of the seed's article after Flash, with a link
	Asset     string        // cache-busting suffix of asset URLs
	SignedIn  bool
	D         any
	StatusMsg string
	// Embed: drawn for a platform's iframe (a portal link made with embed:
	// true), with its Theme.
	Embed bool
	Theme agenthooks.Theme
}

// nextSteps follow a flash with the next step of the seed's article
// (issue 26: after "Webhook created." nothing said what to do next). Fixed
// texts, as the flashes.
var nextSteps = map[string]template.HTML{
	"webhook-created":   `Next: assign it to an assistant, in <a href="/assistants">AI Agents → Assistants</a> → the assistant → Operations → Assign Webhook (or to a form, in <a href="/forms">Forms</a>).`,
	"assistant-saved":   `Next: its conversations' events go to the webhook; watch them arrive in <a href="/events">Events</a> and <a href="/deliveries">Deliveries</a>.`,
	"form-saved":        `Next: a captured form sends <code>captured_form.created</code> to the webhook; see <a href="/events">Events</a>.`,
	"assistant-created": `Next: give it a webhook with Operations → Assign Webhook below.`,
	"test-sent":         `Next: the attempt is below; every delivery is listed in <a href="/deliveries">Deliveries</a>.`,
}

// flashes are the messages a redirect can ask a page to show (?flash=...):
// fixed texts, so that no URL can make the dashboard say anything else.
var flashes = map[string]string{
	"webhook-created":      "Webhook created.",
	"webhook-saved":        "Webhook saved.",
	"transformation-saved": "Transformation saved.",
	"filter-saved":         "Filter saved.",
	"webhook-enabled":      "Webhook enabled: deliveries resume.",
	"webhook-disabled":     "Webhook disabled: new events are not sent to it, pending deliveries wait.",
	"webhook-deleted":      "Webhook deleted.",
	"secret-rotated":       "Secret rotated. Update your receiver: the previous secret keeps signing alongside until the time shown.",
	"recovered":            "Failed deliveries queued again.",
	"assistant-created":    "Assistant created.",
	"assistant-saved":      "Saved.",
	"widget-created":       "Widget added.",
	"form-created":         "Form created.",
	"event-type-created":   "Event type created.",
	"event-type-saved":     "Event type saved.",
	"event-type-deleted":   "Event type deleted.",
	"form-saved":           "Saved.",
	"retried":              "Retry queued: a new attempt is made now.",
	"test-sent":            "Test event sent.",
	"signed-out":           "You are signed out.",
	"key-revoked":          "API key revoked: it stops working at once.",
	"signed-out-all":       "Every session of this account is signed out, this one included.",
}

var funcs = template.FuncMap{
	"time":             fmtTime,
	"ago":              ago,
	"short":            shortID,
	"widgetName":       widgetName,
	"operational":      agenthooks.IsOperational,
	"destinationKinds": func() any { return destinationKinds }, // destination.go
	"pct":              pct,
	"json":             prettyJSON,
	"join":             strings.Join,
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
	"contains": func(list []string, s string) bool {
		for _, v := range list {
			if v == s {
				return true
			}
		}
		return false
	},
	"statusClass": statusClass,
	"state":       stateOf,
	"iso":         isoTime,
	"shortReason": shortReason,
	"codeClass": func(code int) string {
		if code >= 200 && code < 300 {
			return "ok"
		}
		return "bad"
	},
	"add":         func(a, b int) int { return a + b },
	"duration":    fmtDuration,
	"accentParam": func(c string) string { return strings.TrimPrefix(c, "#") },
}

func (d *Dashboard) parseTemplates() error {
	d.pages = map[string]*template.Template{}
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return fmt.Errorf("dashboard: templates: %w", err)
	}
	for _, n := range names {
		base := strings.TrimPrefix(n, "templates/")
		if base == "layout.html" || strings.HasPrefix(base, "_") {
			continue
		}
		// Every page gets the layout and the shared partials (_*.html).
		t, err := template.New(base).Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/_*.html", n)
		if err != nil {
			return fmt.Errorf("dashboard: parse %s: %w", base, err)
		}
		d.pages[base] = t
	}
	return nil
}

// render writes a page with status. s is nil on pages shown signed out.
func (d *Dashboard) render(w http.ResponseWriter, r *http.Request, status int, name string, s *session, v view) {
	t, ok := d.pages[name]
	if !ok {
		d.log.Error("dashboard: no such template", slog.String("template", name))
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	v.Asset = d.assetHash
	if s != nil {
		v.SignedIn, v.Account, v.ReadOnly, v.CSRF = true, s.account, s.readOnly, s.csrf
		if s.sess != nil && s.sess.Embed {
			v.Embed, v.Theme = true, s.sess.Theme
			if origin := logoOrigin(v.Theme.LogoURL); origin != "" {
				// The platform's logo is the one image from elsewhere.
				w.Header().Set("Content-Security-Policy", strings.Replace(d.csp, "img-src 'self' data:", "img-src 'self' data: "+origin, 1))
			}
		}
	}
	if v.Flash == "" {
		key := r.URL.Query().Get("flash")
		v.Flash, v.Next = flashes[key], nextSteps[key]
		if key == "webhook-created" && (strings.HasPrefix(r.URL.Path, "/assistants/") || strings.HasPrefix(r.URL.Path, "/forms/")) {
			v.Next = `Next: it is chosen under Webhook below; press Save to assign it.`
		}
	}
	var buf bytes.Buffer
	block := "layout"
	if r.Header.Get("HX-Request") == "true" && t.Lookup("partial") != nil {
		block = "partial"
	}
	if err := t.ExecuteTemplate(&buf, block, v); err != nil {
		d.log.Error("dashboard: render", slog.String("template", name), slog.Any("error", err))
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorData is the error page's content.
type errorData struct {
	Status  int
	Heading string
	Message string
}

// renderError writes the error page; signed-in visitors keep the sidebar.
func (d *Dashboard) renderError(w http.ResponseWriter, r *http.Request, status int, heading, message string) {
	var s *session
	if status != http.StatusUnauthorized && status != http.StatusGone {
		s, _ = d.session(r)
	}
	d.render(w, r, status, "error.html", s, view{Title: heading, D: errorData{Status: status, Heading: heading, Message: message}})
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := time.Since(t)
	switch {
	case d < 0:
		return "in " + fmtDuration(-d)
	case d < time.Minute:
		return "just now"
	default:
		return fmtDuration(d) + " ago"
	}
}

func fmtDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		if m := int(d.Minutes()) % 60; m != 0 {
			return fmt.Sprintf("%d h %d min", int(d.Hours()), m)
		}
		return fmt.Sprintf("%d h", int(d.Hours()))
	default:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	}
}

func shortID(id string) string {
	if len(id) > 13 {
		return id[len(id)-12:]
	}
	return id
}

func pct(n, of int) string {
	if of == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(of))
}

// prettyJSON indents JSON bytes as they are (key order kept); other values
// are marshalled; bytes that are not JSON are shown unchanged.
func prettyJSON(v any) string {
	var raw []byte
	switch x := v.(type) {
	case json.RawMessage:
		raw = x
	case []byte:
		raw = x
	case string:
		raw = []byte(x)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		raw = b
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return string(raw)
	}
	return buf.String()
}
