// Package dashboard is agenthooks' web dashboard: server-rendered pages
// (html/template, assets embedded with //go:embed) over service.Service, with
// the seed's own words on its controls ("Add a Webhook", "Assign Webhook",
// "Save", ...) so that Insighto's instructions work as written.
//
// Sessions are stored server-side (the cookie holds a random token, the store
// its hash), end after 12 hours unused or 7 days, and at sign-out. Every form
// that changes something is protected twice against cross-site requests: Go's
// http.CrossOriginProtection (Sec-Fetch-Site / Origin) and a per-session token
// in a hidden field. A read-only session (a portal link with read_only) sees
// every page without a single control that changes anything, and any change
// it attempts answers 403. docs/dashboard.md shows the screens.
package dashboard

import (
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/internal/ratelimit"
	"github.com/agenthooks/agenthooks/service"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Options configure the dashboard.
type Options struct {
	// Service runs every operation; the dashboard never touches the store.
	Service *service.Service
	// Logger receives internal errors; nil means slog.Default().
	Logger *slog.Logger
	// PublicURL is where people reach the dashboard (AGENTHOOKS_PUBLIC_URL):
	// https:// makes the session cookie Secure.
	PublicURL string
	// FrameAncestors is the CSP frame-ancestors source list
	// (AGENTHOOKS_FRAME_ANCESTORS); empty means 'none'. When it names
	// another origin and PublicURL is https, the cookie is SameSite=None so
	// that the dashboard works inside the platform's iframe.
	FrameAncestors string
	// TestWait is how long "Send test event" waits for the attempt before
	// showing the delivery (default 20s).
	TestWait time.Duration
	// SignInLimit is how many failed sign-ins one client address may make
	// per minute with keys of one prefix before its wrong keys get 429
	// (default 10; ten times that with any keys). A correct key is always
	// accepted.
	SignInLimit int
	// TrustedProxies are the reverse proxies in front of the dashboard: a
	// request from one of them is counted by the right-most address of
	// X-Forwarded-For outside them (AGENTHOOKS_TRUSTED_PROXIES).
	TrustedProxies []netip.Prefix
	// SessionRateLimit is how many pages per second one signed-in session
	// may ask for, with bursts up to twice that
	// (AGENTHOOKS_DASHBOARD_RATE_LIMIT); beyond it a page answers 429 in
	// plain words with Retry-After. 0 (the default here; serve sets 20)
	// turns it off. Static assets are not counted.
	SessionRateLimit float64
	// Now is the clock of the sign-in limiter and the session rate limit
	// (default time.Now).
	Now func() time.Time
	// UserAgent is the User-Agent deliveries are sent with, shown among an
	// attempt's request headers (default "agenthooks").
	UserAgent string
	// DisableAfter is how long a webhook's deliveries may all fail before
	// it is disabled (AGENTHOOKS_DISABLE_AFTER; default 120h): a failing
	// webhook's page says when that will be.
	DisableAfter time.Duration
}

// Dashboard serves the dashboard. Build it with New; it is an http.Handler
// for every path that is not the API's.
type Dashboard struct {
	svc       *service.Service
	log       *slog.Logger
	opts      Options
	pages     map[string]*template.Template
	handler   http.Handler
	mux       *http.ServeMux
	patterns  []string // every pattern registered, in order (see handle)
	static    http.Handler
	csp       string
	noFrames  bool // frame-ancestors 'none': X-Frame-Options DENY too, for old browsers
	secure    bool
	sameSite  http.SameSite
	limiter   *limiter
	sessions  *ratelimit.Buckets // per-session page rate; nil for none
	assetHash string
}

// cookieName is the session cookie's name.
const cookieName = "agenthooks_session"

// New returns the dashboard over opts.Service.
func New(opts Options) (*Dashboard, error) {
	if opts.Service == nil {
		return nil, errors.New("dashboard: Options.Service is nil")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.TestWait <= 0 {
		opts.TestWait = 20 * time.Second
	}
	if opts.SignInLimit <= 0 {
		opts.SignInLimit = 10
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "agenthooks"
	}
	d := &Dashboard{svc: opts.Service, log: opts.Logger, opts: opts, mux: http.NewServeMux(), limiter: newLimiter(opts.SignInLimit, time.Minute, opts.Now)}
	if opts.SessionRateLimit > 0 {
		d.sessions = ratelimit.New(opts.SessionRateLimit, opts.Now)
	}
	ancestors := sanitizeSources(opts.FrameAncestors)
	d.csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
		"form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors " + ancestors
	d.noFrames = ancestors == "'none'"
	d.secure = strings.HasPrefix(strings.ToLower(opts.PublicURL), "https://")
	d.sameSite = http.SameSiteLaxMode
	if d.secure && embedsElsewhere(ancestors) {
		d.sameSite = http.SameSiteNoneMode
	}
	if err := d.parseTemplates(); err != nil {
		return nil, err
	}
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, fmt.Errorf("dashboard: static files: %w", err)
	}
	d.assetHash = assetHash(sub)
	d.static = http.StripPrefix("/static/", http.FileServerFS(sub))
	d.routes()
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.renderError(w, r, http.StatusForbidden, "Cross-site request refused", "This form was sent from another site, so nothing was changed. Reload the page and try again.")
	}))
	d.handler = withGzip(cop.Handler(d.mux))
	return d, nil
}

// sanitizeSources keeps a CSP source list on one directive: no ';', no line breaks.
func sanitizeSources(s string) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' || r == '\r' || r == '\n' || r == ' ' || r == '\t' }), " ")
	if s == "" {
		return "'none'"
	}
	return s
}

// embedsElsewhere reports whether a frame-ancestors list lets an origin other
// than the dashboard's own embed it.
func embedsElsewhere(sources string) bool {
	for _, src := range strings.Fields(sources) {
		if src != "'none'" && src != "'self'" {
			return true
		}
	}
	return false
}

func assetHash(fsys fs.FS) string {
	h := sha256.New()
	_ = fs.WalkDir(fsys, ".", func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			b, _ := fs.ReadFile(fsys, p)
			h.Write(b)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// ServeHTTP serves a dashboard page. Every response carries the security
// headers; a panic answers a 500 page without details.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", d.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if d.noFrames {
		h.Set("X-Frame-Options", "DENY")
	}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			d.log.Error("dashboard panic", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("panic", p))
			d.renderError(w, r, http.StatusInternalServerError, "Something went wrong", "The error was logged. Try again in a moment.")
		}
	}()
	if !validText(r.URL.Path) || !validQuery(r.URL.Query()) {
		d.renderError(w, r, http.StatusNotFound, "Not found", "There is nothing at this address.")
		return
	}
	d.handler.ServeHTTP(w, r)
}

// validQuery reports whether every query parameter is valid text.
func validQuery(q url.Values) bool {
	for k, vs := range q {
		if !validText(k) {
			return false
		}
		for _, v := range vs {
			if !validText(v) {
				return false
			}
		}
	}
	return true
}

// validText reports whether s can name something: UTF-8 without NUL (the
// stores cannot hold anything else, so nothing else matches).
func validText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// session is the signed-in visitor of a request.
type session struct {
	token    string
	sess     *agenthooks.Session
	account  *agenthooks.Account
	readOnly bool
	csrf     string
}

// handlerFunc is a page handler of a signed-in visitor; a returned error is
// rendered by Dashboard.fail.
type handlerFunc func(w http.ResponseWriter, r *http.Request, s *session) error

// page registers a handler behind the session check. Requests without a live
// session see the sign-in page (GET) or 401 (anything else); a POST must carry
// the session's form token, and a read-only session may POST nothing but
// sign-out.
func (d *Dashboard) page(pattern string, h handlerFunc) {
	d.handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := d.session(r)
		if err != nil {
			if agenthooks.ErrorCode(err) != agenthooks.EUNAUTHORIZED {
				d.fail(w, r, err)
				return
			}
			if _, err := r.Cookie(cookieName); err == nil {
				d.clearCookie(w) // a stale cookie: drop it
			}
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				if r.URL.Path == "/" {
					d.signInPage(w, r, http.StatusOK, "", "")
					return
				}
				http.Redirect(w, r, "/?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			d.signInPage(w, r, http.StatusUnauthorized, "Your session has ended. Sign in again.", "")
			return
		}
		if d.overRate(w, r, s) {
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
			if err := r.ParseForm(); err != nil {
				d.renderError(w, r, http.StatusRequestEntityTooLarge, "Form too large", "The form could not be read (at most 1 MiB).")
				return
			}
			if !validQuery(r.PostForm) {
				d.renderError(w, r, http.StatusUnprocessableEntity, "Invalid input", "The form holds text that is not valid UTF-8, or a NUL character. Nothing was changed.")
				return
			}
			if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(s.csrf)) != 1 {
				d.renderError(w, r, http.StatusForbidden, "Form expired", "This form does not belong to your session, so nothing was changed. Reload the page and try again.")
				return
			}
			if s.readOnly && r.URL.Path != "/sign-out" {
				d.renderError(w, r, http.StatusForbidden, "Read-only session", "This session can look at everything but change nothing.")
				return
			}
		}
		if err := h(w, r, s); err != nil {
			d.fail(w, r, err)
		}
	}))
}

// overRate answers 429 when the session is over its page rate
// (Options.SessionRateLimit): one session cannot make the dashboard render
// pages as fast as it can ask (issue 25).
func (d *Dashboard) overRate(w http.ResponseWriter, r *http.Request, s *session) bool {
	if d.sessions == nil {
		return false
	}
	wait, ok := d.sessions.Take(s.sess.TokenHash)
	if ok {
		return false
	}
	secs := ratelimit.RetryAfter(wait)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	d.render(w, r, http.StatusTooManyRequests, "error.html", s, view{Title: "Too many requests", D: errorData{Status: http.StatusTooManyRequests,
		Heading: "Too many requests", Message: fmt.Sprintf("This session asked for more than %g pages a second. Wait %s, then reload the page; nothing was changed.",
			d.sessions.PerSecond(), seconds(secs))}})
	return true
}

func seconds(n int) string {
	if n == 1 {
		return "a second"
	}
	return strconv.Itoa(n) + " seconds"
}

// handle registers h for pattern and records the pattern, so that the tests
// can enumerate every route (dashboard/export_test.go; the isolation matrix
// in dashboard/isolation_test.go calls each one as another account).
func (d *Dashboard) handle(pattern string, h http.Handler) {
	d.patterns = append(d.patterns, pattern)
	d.mux.Handle(pattern, h)
}

// session returns the request's live session, or EUNAUTHORIZED.
func (d *Dashboard) session(r *http.Request) (*session, error) {
	c, err := r.Cookie(cookieName)
	if err != nil || c.Value == "" {
		return nil, agenthooks.Errorf(agenthooks.EUNAUTHORIZED, "Not signed in.")
	}
	sess, acct, err := d.svc.SessionAccount(r.Context(), c.Value)
	if err != nil {
		return nil, err
	}
	return &session{token: c.Value, sess: sess, account: acct, readOnly: sess.ReadOnly, csrf: csrfToken(c.Value)}, nil
}

// csrfToken is the form token of a session: derived from its cookie token,
// which a cross-site page cannot read, so it cannot be forged either.
func csrfToken(cookie string) string {
	sum := sha256.Sum256([]byte("agenthooks dashboard form token\x00" + cookie))
	return hex.EncodeToString(sum[:16])
}

func (d *Dashboard) setCookie(w http.ResponseWriter, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: token, Path: "/", Expires: expires, MaxAge: int(time.Until(expires).Seconds()),
		HttpOnly: true, Secure: d.secure || d.sameSite == http.SameSiteNoneMode, SameSite: d.sameSite})
}

func (d *Dashboard) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: d.secure || d.sameSite == http.SameSiteNoneMode, SameSite: d.sameSite})
}

// fail renders an error of a handler: not found (another account's id too)
// as the same 404 page, conflicts and validation as 409 and 422, the store
// unavailable as 503, anything else as a logged 500 without details.
func (d *Dashboard) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch agenthooks.ErrorCode(err) {
	case agenthooks.ENOTFOUND:
		d.renderError(w, r, http.StatusNotFound, "Not found", "There is nothing at this address in your account.")
	case agenthooks.ECONFLICT:
		d.renderError(w, r, http.StatusConflict, "Not possible right now", agenthooks.ErrorMessage(err))
	case agenthooks.EINVALID:
		d.renderError(w, r, http.StatusUnprocessableEntity, "Invalid input", fieldSummary(err))
	case agenthooks.EUNAVAILABLE:
		w.Header().Set("Retry-After", "5")
		d.renderError(w, r, http.StatusServiceUnavailable, "Temporarily unavailable", "The database cannot take requests right now. Try again in a moment.")
	default:
		d.log.Error("dashboard internal error", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("error", err))
		d.renderError(w, r, http.StatusInternalServerError, "Something went wrong", "The error was logged. Try again in a moment.")
	}
}

// fieldErrors maps a validation error's fields to messages, keyed by the
// location after "body" joined with dots ("name", "fields.0.type"); header
// errors are all keyed "headers".
func fieldErrors(err error) map[string]string {
	var e *agenthooks.Error
	if !errors.As(err, &e) || e.Code != agenthooks.EINVALID {
		return nil
	}
	m := map[string]string{}
	for _, f := range e.Fields {
		loc := f.Loc
		if len(loc) > 0 && (loc[0] == "body" || loc[0] == "query") {
			loc = loc[1:]
		}
		parts := make([]string, len(loc))
		for i, l := range loc {
			parts[i] = fmt.Sprint(l)
		}
		key := strings.Join(parts, ".")
		if len(parts) > 0 && (parts[0] == "headers" || parts[0] == "events") {
			key = parts[0]
		}
		if _, dup := m[key]; !dup {
			m[key] = plainWords(key, f.Msg)
		}
	}
	if len(m) == 0 {
		m[""] = e.Message
	}
	return m
}

func fieldSummary(err error) string {
	var parts []string
	for k, v := range fieldErrors(err) {
		if k != "" {
			v = k + ": " + v
		}
		parts = append(parts, v)
	}
	if len(parts) == 0 {
		return agenthooks.ErrorMessage(err)
	}
	return strings.Join(parts, "; ")
}

// pageSize is how many rows every list shows.
const pageSize = 25

// pageParam reads ?page= (from 1); anything else reads as page 1.
func pageParam(r *http.Request) agenthooks.Page {
	n, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || n < 1 {
		n = 1
	}
	return agenthooks.Page{Page: min(n, 100000), Size: pageSize}
}

// pager is what the pagination bar of a list needs.
type pager struct {
	Page, Pages, Total int
	Prev, Next         string
}

func newPager(r *http.Request, p agenthooks.Page, total int) pager {
	pages := (total + p.Size - 1) / p.Size
	pg := pager{Page: p.Page, Pages: max(pages, 1), Total: total}
	link := func(n int) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(n))
		return r.URL.Path + "?" + q.Encode()
	}
	if p.Page > 1 {
		pg.Prev = link(min(p.Page-1, max(pages, 1)))
	}
	if p.Page < pages {
		pg.Next = link(p.Page + 1)
	}
	return pg
}

// localPath returns p if it is a path on this site ("/..." but not "//..."),
// else "".
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || strings.ContainsAny(p, "\r\n") {
		return ""
	}
	if u, err := url.Parse(p); err != nil || u.Host != "" || u.Scheme != "" {
		return ""
	}
	return path.Clean("/"+strings.TrimPrefix(strings.SplitN(p, "?", 2)[0], "/")) + queryOf(p)
}

func queryOf(p string) string {
	if _, q, ok := strings.Cut(p, "?"); ok {
		return "?" + q
	}
	return ""
}
