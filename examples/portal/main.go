// Command portal is a small platform back end, "your AI-agent platform", whose
// signed-in customer sees the agenthooks portal (that customer's webhooks,
// deliveries, ...) embedded in an iframe of the platform's own page, without
// ever seeing an agenthooks API key.
//
//	AGENTHOOKS_ADMIN_KEY=... go run ./examples/portal --addr 127.0.0.1:9200 --agenthooks http://127.0.0.1:8080
//
// It runs next to `agenthooks serve` started with the same AGENTHOOKS_ADMIN_KEY
// and AGENTHOOKS_FRAME_ANCESTORS=http://127.0.0.1:9200 (this page's origin);
// see README.md beside this file. What it does, with the admin API only:
//
//   - the first time a customer signs in (here: by typing a name; a real
//     platform has its own sign-in), it creates the customer's agenthooks
//     account, POST /api/v1/admin/account, and keeps the account's id (the
//     account's API key stays on the server, never in a page);
//   - each time the customer opens the page, it asks for a fresh single-use
//     portal link, POST /api/v1/admin/account/{id}/portal_session, and serves
//     a page with <iframe src=LINK>: the link signs the iframe into that
//     account's dashboard once, and cannot be used again.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// run is the whole program, callable from tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("portal", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9200", "listen address of the platform's page")
	base := fs.String("agenthooks", orDefault(getenv("AGENTHOOKS_URL"), "http://127.0.0.1:8080"), "agenthooks' base URL (env AGENTHOOKS_URL)")
	readOnly := fs.Bool("read-only", false, "embed read-only portal sessions (the customer sees everything, changes nothing)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	h, err := newServer(Config{AgenthooksURL: *base, AdminKey: getenv("AGENTHOOKS_ADMIN_KEY"), ReadOnly: *readOnly, Logger: log})
	if err != nil {
		fmt.Fprintln(stderr, "portal:", err)
		return 2
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(stderr, "portal:", err)
		return 1
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "the platform's page: http://%s/ (agenthooks at %s)\n", ln.Addr(), *base)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		fmt.Fprintln(stderr, "portal:", err)
		return 1
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		return 0
	}
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// Config configures the platform's back end.
type Config struct {
	// AgenthooksURL is agenthooks' base URL, e.g. http://127.0.0.1:8080.
	AgenthooksURL string
	// AdminKey is agenthooks' AGENTHOOKS_ADMIN_KEY.
	AdminKey string
	// ReadOnly asks for read-only portal sessions.
	ReadOnly bool
	// Client calls agenthooks (default: a client with a 10 s timeout).
	Client *http.Client
	// Logger receives errors (default slog.Default()).
	Logger *slog.Logger
}

// server is the platform: its customers' sign-in sessions and their
// agenthooks accounts, in memory (a real platform keeps them in its database).
type server struct {
	cfg    Config
	origin string // agenthooks' origin, for this page's CSP frame-src
	mux    *http.ServeMux

	mu        sync.Mutex
	sessions  map[string]string // platform session token → customer name
	customers map[string]string // customer name → agenthooks account id
}

// newServer returns the platform's handler.
func newServer(cfg Config) (http.Handler, error) {
	if cfg.AdminKey == "" {
		return nil, errors.New("AGENTHOOKS_ADMIN_KEY is not set: give this back end the admin key agenthooks serve was started with")
	}
	u, err := url.Parse(cfg.AgenthooksURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("agenthooks URL %q: want http(s)://host[:port]", cfg.AgenthooksURL)
	}
	cfg.AgenthooksURL = strings.TrimRight(cfg.AgenthooksURL, "/")
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &server{cfg: cfg, origin: u.Scheme + "://" + u.Host, mux: http.NewServeMux(),
		sessions: map[string]string{}, customers: map[string]string{}}
	s.mux.HandleFunc("GET /{$}", s.home)
	s.mux.HandleFunc("POST /sign-in", s.signIn)
	s.mux.HandleFunc("POST /sign-out", s.signOut)
	return s, nil
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The page may frame agenthooks, and nothing else; nobody may frame it.
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'unsafe-inline'; frame-src "+s.origin+"; frame-ancestors 'none'; form-action 'self'")
	w.Header().Set("Cache-Control", "no-store")
	s.mux.ServeHTTP(w, r)
}

const cookieName = "platform_session"

// customer returns the signed-in customer's name, or "".
func (s *server) customer(r *http.Request) (token, name string) {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return "", ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return c.Value, s.sessions[c.Value]
}

// pageData is what the page template gets.
type pageData struct {
	Customer  string
	Portal    string // the portal link for the iframe
	ExpiresAt time.Time
	Error     string
}

func (s *server) home(w http.ResponseWriter, r *http.Request) {
	_, name := s.customer(r)
	if name == "" {
		s.render(w, http.StatusOK, pageData{})
		return
	}
	link, expires, err := s.portalLink(r.Context(), name)
	if err != nil {
		s.cfg.Logger.Error("portal link", slog.String("customer", name), slog.Any("error", err))
		// The details (agenthooks' status and message) are for the
		// platform's operators, in the log; the customer gets a plain text.
		s.render(w, http.StatusBadGateway, pageData{Customer: name, Error: "Your webhooks cannot be shown right now. Try again in a moment."})
		return
	}
	s.render(w, http.StatusOK, pageData{Customer: name, Portal: link, ExpiresAt: expires})
}

// signIn stands in for the platform's own sign-in: any name will do.
func (s *server) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" || len(name) > 100 {
		s.render(w, http.StatusUnprocessableEntity, pageData{Error: "Type your name (1 to 100 characters)."})
		return
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	s.mu.Lock()
	s.sessions[token] = name
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *server) signOut(w http.ResponseWriter, r *http.Request) {
	if token, _ := s.customer(r); token != "" {
		s.mu.Lock()
		delete(s.sessions, token)
		s.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// portalLink returns a fresh single-use portal link to the customer's
// account, creating the account the first time.
func (s *server) portalLink(ctx context.Context, name string) (string, time.Time, error) {
	id, err := s.account(ctx, name)
	if err != nil {
		return "", time.Time{}, err
	}
	var out struct {
		URL       string    `json:"url"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	// embed: the dashboard is drawn for this page's iframe (no brand bar,
	// account name or sign-out of its own: the platform's header has them),
	// in the platform's accent colour.
	body := map[string]any{"expires_in": 3600, "read_only": s.cfg.ReadOnly, "embed": true, "theme": map[string]any{"accent_color": "#0a7d52"}}
	if err := s.call(ctx, "POST", "/api/v1/admin/account/"+url.PathEscape(id)+"/portal_session", body, http.StatusCreated, &out); err != nil {
		return "", time.Time{}, err
	}
	return out.URL, out.ExpiresAt, nil
}

// account returns the customer's agenthooks account id, creating the account
// the first time. Its API key is not needed for the portal and is dropped
// here; a platform that calls the API for its customer would keep it,
// encrypted, on its server.
func (s *server) account(ctx context.Context, name string) (string, error) {
	s.mu.Lock()
	id, ok := s.customers[name]
	s.mu.Unlock()
	if ok {
		return id, nil
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := s.call(ctx, "POST", "/api/v1/admin/account", map[string]any{"name": name}, http.StatusCreated, &out); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.customers[name]; ok { // made at the same time by another request
		return id, nil
	}
	s.customers[name] = out.ID
	return out.ID, nil
}

// call sends a JSON request to agenthooks' admin API and decodes the data
// of the answer into out; any other status than want is an error naming it.
func (s *server) call(ctx context.Context, method, path string, body any, want int, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, s.cfg.AgenthooksURL+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+s.cfg.AdminKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := s.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read the answer: %w", method, path, err)
	}
	if res.StatusCode != want {
		// Errors are {"detail": "text"}, or {"detail": [fields]} for
		// validation: the text when there is one, else the body as it is.
		var e struct {
			Detail any `json:"detail"`
		}
		_ = json.Unmarshal(raw, &e)
		msg, ok := e.Detail.(string)
		if !ok {
			msg = strings.TrimSpace(string(raw))
		}
		return fmt.Errorf("%s %s: status %d: %s", method, path, res.StatusCode, msg)
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

func (s *server) render(w http.ResponseWriter, status int, d pageData) {
	var buf bytes.Buffer
	if err := page.Execute(&buf, d); err != nil {
		s.cfg.Logger.Error("render", slog.Any("error", err))
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Acme Agents · Webhooks</title>
<style>
body { margin: 0; font: 15px/1.4 system-ui, sans-serif; background: #f4f1ea; color: #222; }
header { display: flex; gap: 1rem; align-items: center; justify-content: space-between; padding: .75rem 1.25rem; background: #1f2937; color: #fff; }
header form { margin: 0; }
main { padding: 1.25rem; }
iframe { width: 100%; height: calc(100vh - 8rem); min-height: 30rem; border: 1px solid #d6d0c4; border-radius: 8px; background: #fff; }
.error { color: #a4002a; }
</style>
</head>
<body>
<header><strong>Acme Agents</strong>{{if .Customer}}<span>Signed in as {{.Customer}}</span>
<form method="post" action="/sign-out"><button type="submit">Sign out</button></form>{{end}}</header>
<main>
{{with .Error}}<p class="error" role="alert">{{.}}</p>{{end}}
{{if .Portal}}
<h1>Webhooks</h1>
<iframe id="agenthooks" title="Webhooks (agenthooks)" src="{{.Portal}}"></iframe>
{{else if not .Customer}}
<h1>Sign in to Acme Agents</h1>
<form method="post" action="/sign-in">
<label for="name">Your name</label> <input id="name" name="name" required maxlength="100"> <button type="submit">Sign in</button>
</form>
{{end}}
</main>
</body>
</html>
`))
