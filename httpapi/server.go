// Package httpapi is agenthooks' REST API (base path /api/v1), with Insighto's
// paths and {"message", "data"} wrappers, FastAPI-style validation errors and
// one place (codes) where application errors become HTTP statuses.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/internal/ratelimit"
	"github.com/agenthooks/agenthooks/service"
)

// Server serves the API. Build it with New and mount Handler.
type Server struct {
	svc *service.Service
	log *slog.Logger
	mux *http.ServeMux
	// aside holds the routes whose patterns Go's ServeMux cannot register
	// beside one of mux's (GET /conversation/by-contact/{contact_id} and
	// GET /conversation/{id}/transcript both match
	// /conversation/by-contact/transcript, and neither is more specific);
	// ServeHTTP consults it when mux matches nothing.
	aside *http.ServeMux
	// patterns are the routes registered with handle, in order (the OpenAPI
	// test checks each one is documented).
	patterns []string
	// Ready reports whether the process can serve: /readyz answers 503
	// when it returns an error (cmd/agenthooks: the store takes a write and
	// no shutdown has begun).
	Ready func(ctx context.Context) error
	// Metrics serves GET /metrics (Prometheus text); nil serves an empty page.
	Metrics http.Handler
	// TestWait is how long POST .../test waits for the first attempt
	// (default 20s: the default delivery timeout and some).
	TestWait time.Duration
	// AdminKey is the platform's key for /api/v1/admin/... (accounts.go);
	// empty turns the admin API off (its routes answer 404). Set it before serving.
	AdminKey      string
	adminPatterns []string       // the admin routes, as patterns is for the others
	unavail       unavailableLog // see unavailable.go
	// limits is the per-account request rate (SetRateLimit); nil for none.
	limits *ratelimit.Buckets
}

// New returns the API server over svc.
func New(svc *service.Service, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{svc: svc, log: log, mux: http.NewServeMux(), aside: http.NewServeMux(), TestWait: 20 * time.Second}
	s.routes()
	return s
}

// handlerFunc is an authenticated handler; a returned error is written by Server.Error.
type handlerFunc func(w http.ResponseWriter, r *http.Request, acct *agenthooks.Account) error

const base = "/api/v1"

func (s *Server) handle(pattern string, h handlerFunc) { s.handleOn(s.mux, pattern, h) }

// handleOn registers an authenticated route on mux (s.mux or s.aside).
func (s *Server) handleOn(mux *http.ServeMux, pattern string, h handlerFunc) {
	method, path, _ := strings.Cut(pattern, " ")
	wildcards := pathWildcards(path)
	s.patterns = append(s.patterns, pattern)
	if method == http.MethodPost {
		h = s.idempotent(h)
	}
	mux.Handle(method+" "+base+path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		acct, err := s.authenticate(r)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		if err := s.limit(w, acct); err != nil {
			s.Error(w, r, err)
			return
		}
		// Text no store can hold (invalid UTF-8, U+0000) names no resource
		// and matches nothing; PostgreSQL would fail on it with a 500.
		for _, name := range wildcards {
			if id := r.PathValue(name); id != "" && !validText(id) {
				s.Error(w, r, agenthooks.NotFound("Resource"))
				return
			}
		}
		for name, values := range r.URL.Query() {
			if slices.ContainsFunc(values, func(v string) bool { return !validText(v) }) {
				s.Error(w, r, queryError(name, "Input should be valid UTF-8 text without NUL characters", "string_type"))
				return
			}
		}
		if err := h(w, r, acct); err != nil {
			s.Error(w, r, err)
		}
	}))
}

// pathWildcards returns the names of a pattern's {wildcards}.
func pathWildcards(path string) []string {
	var names []string
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			names = append(names, strings.TrimSuffix(strings.TrimPrefix(seg, "{"), "}"))
		}
	}
	return names
}

// authenticate reads the key from ?api_key= (as Insighto) or a Bearer token.
// A request that names two different keys (in both places, or twice in the
// query) is refused: acting as either one would be a guess.
func (s *Server) authenticate(r *http.Request) (*agenthooks.Account, error) {
	key, err := requestKey(r)
	if err != nil {
		return nil, err
	}
	return s.svc.Authenticate(r.Context(), key)
}

// requestKey returns the API key a request carries, "" for none.
func requestKey(r *http.Request) (string, error) {
	conflict := agenthooks.Errorf(agenthooks.EUNAUTHORIZED, "Conflicting credentials: the request carries two different API keys.")
	var key string
	for _, v := range r.URL.Query()["api_key"] {
		if v == "" {
			continue
		}
		if key != "" && v != key {
			return "", conflict
		}
		key = v
	}
	for _, h := range r.Header.Values("Authorization") {
		scheme, token, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			continue
		}
		token = strings.TrimSpace(token)
		if token == "" {
			continue
		}
		if key != "" && token != key {
			return "", conflict
		}
		key = token
	}
	return key, nil
}

func (s *Server) routes() {
	s.handle("POST /outbound_webhook", s.createWebhook)
	s.handle("GET /outbound_webhook", s.listWebhooks)
	s.handle("GET /outbound_webhook/{id}", s.getWebhook)
	s.handle("PATCH /outbound_webhook/{id}", s.updateWebhook)
	s.handle("DELETE /outbound_webhook/{id}", s.deleteWebhook)
	s.handle("GET /outbound_webhook/{id}/secret", s.getWebhookSecret)
	s.handle("POST /outbound_webhook/{id}/rotate_secret", s.rotateSecret)
	s.handle("GET /outbound_webhook/{id}/deliveries", s.listWebhookDeliveries)
	s.handle("POST /outbound_webhook/{id}/test", s.testWebhook)
	s.handle("POST /outbound_webhook/{id}/recover", s.recoverWebhook)
	s.handle("POST /outbound_webhook/{id}/transformation/test", s.testTransformation) // httpapi/transform.go
	s.handle("POST /outbound_webhook/{id}/filter/test", s.testFilter)                 // httpapi/filter.go
	s.handle("GET /transformation_template", s.listTransformationTemplates)

	s.handle("POST /assistant", s.createAssistant)
	s.handle("GET /assistant", s.listAssistants)
	s.handle("GET /assistant/{id}", s.getAssistant)
	s.handle("PATCH /assistant/{id}", s.updateAssistant)
	s.handle("DELETE /assistant/{id}", s.deleteAssistant)

	s.handle("POST /widget", s.createWidget)
	s.handle("GET /widget", s.listWidgets)
	s.handle("GET /widget/{id}", s.getWidget)

	s.handle("POST /form", s.createForm)
	s.handle("GET /form", s.listForms)
	s.handle("GET /form/{id}", s.getForm)
	s.handle("PATCH /form/{id}", s.updateForm)

	s.handle("POST /intent", s.createIntent)
	s.handle("GET /intent", s.listIntents)
	s.handle("GET /intent/{id}", s.getIntent)

	s.handle("POST /contact", s.createContact)
	s.handle("GET /contact", s.listContacts)
	s.handle("GET /contact/{id}", s.getContact)

	s.handle("POST /conversation", s.createConversation)
	s.handle("GET /conversation", s.listConversations)
	s.handle("GET /conversation/{id}", s.getConversation)
	s.handle("POST /conversation/{id}/message", s.addMessage)
	s.handle("POST /conversation/{id}/captured_form", s.captureForm)
	s.handle("POST /conversation/{id}/captured_intent", s.captureIntent)
	s.handle("POST /conversation/{id}/close", s.closeConversation)
	s.handle("PATCH /captured_form/{id}", s.updateCapturedForm)

	s.handle("GET /event", s.listEvents)
	s.handle("POST /event", s.publishEvent) // httpapi/eventtypes.go
	s.handle("POST /event_type", s.createEventType)
	s.handle("GET /event_type/{name}", s.getEventType)
	s.handle("PATCH /event_type/{name}", s.updateEventType)
	s.handle("DELETE /event_type/{name}", s.deleteEventType)
	s.handle("GET /event/{id}", s.getEvent)
	s.handle("GET /delivery", s.listDeliveries)
	s.handle("GET /delivery/{id}", s.getDelivery)
	s.handle("POST /event/{id}/replay", s.replayEvent)
	s.handle("POST /delivery/{id}/retry", s.retryDelivery)
	s.handle("GET /event_type", s.listEventTypes)
	s.routesAccounts()
	s.routesInsighto()
	s.routesPortal()

	s.mux.HandleFunc("GET "+base+"/openapi.json", s.serveOpenAPI)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		if s.Metrics == nil {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
			_, _ = w.Write([]byte("# agenthooks: no metrics in this process\n"))
			return
		}
		s.Metrics.ServeHTTP(w, r)
	})
	s.mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if s.Ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
			defer cancel()
			if err := s.Ready(ctx); err != nil {
				writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
				return
			}
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// ServeHTTP serves the API. Unknown paths and methods answer JSON 404 and 405,
// and a panic in a handler answers 500 without leaking anything.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("handler panic", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("panic", p))
			writeDetail(w, http.StatusInternalServerError, internalError)
		}
	}()
	if _, pattern := s.mux.Handler(r); pattern == "" {
		if _, pattern := s.aside.Handler(r); pattern != "" {
			s.aside.ServeHTTP(w, r) // (its ServeHTTP sets the path values)
			return
		}
		rec := &statusRecorder{header: http.Header{}}
		h, _ := s.mux.Handler(r)
		h.ServeHTTP(rec, r)
		if rec.status == http.StatusNotFound {
			// The path may be one of aside's, with another method.
			rec = &statusRecorder{header: http.Header{}}
			h, _ := s.aside.Handler(r)
			h.ServeHTTP(rec, r)
		}
		if rec.status == http.StatusMethodNotAllowed {
			if allow := rec.header.Get("Allow"); allow != "" {
				w.Header().Set("Allow", allow)
			}
			writeDetail(w, http.StatusMethodNotAllowed, "Method Not Allowed")
			return
		}
		if rec.status == http.StatusMovedPermanently || rec.status == http.StatusTemporaryRedirect || rec.status == http.StatusPermanentRedirect {
			// Path cleaning redirects: pass them on.
			for k, v := range rec.header {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.status)
			return
		}
		writeDetail(w, http.StatusNotFound, "Not Found")
		return
	}
	s.mux.ServeHTTP(w, r)
}

// statusRecorder captures what the mux's own 404/405 handlers would write.
type statusRecorder struct {
	header http.Header
	status int
}

func (r *statusRecorder) Header() http.Header { return r.header }
func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return len(b), nil
}
func (r *statusRecorder) WriteHeader(code int) { r.status = code }

// page reads ?page= and ?size= (defaults 1 and 25 as Insighto's, CONTRACT section 3; size at most 100).
func page(r *http.Request) (agenthooks.Page, error) {
	p := agenthooks.Page{Page: 1, Size: 25}
	q := r.URL.Query()
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return p, queryError("page", "Input should be a valid integer, unable to parse string as an integer", "int_parsing")
		}
		if n < 1 {
			return p, queryError("page", "Input should be greater than or equal to 1", "greater_than_equal")
		}
		p.Page = n
	}
	if v := q.Get("size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return p, queryError("size", "Input should be a valid integer, unable to parse string as an integer", "int_parsing")
		}
		if n < 1 {
			return p, queryError("size", "Input should be greater than or equal to 1", "greater_than_equal")
		}
		if n > 100 {
			return p, queryError("size", "Input should be less than or equal to 100", "less_than_equal")
		}
		p.Size = n
	}
	if p.Page > 1_000_000 {
		return p, queryError("page", "Input should be less than or equal to 1000000", "less_than_equal")
	}
	return p, nil
}
