package dashboard

import (
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/agenthooks/agenthooks"
)

// signInData is the sign-in page's content.
type signInData struct {
	Error string
	Next  string
}

func (d *Dashboard) signInPage(w http.ResponseWriter, r *http.Request, status int, msg, next string) {
	if next == "" {
		next = localPath(r.URL.Query().Get("next"))
	}
	d.render(w, r, status, "signin.html", nil, view{Title: "Sign in", D: signInData{Error: msg, Next: next}})
}

// signIn checks the API key of the sign-in form and starts a session. Failed
// attempts are counted per client address; past the limit every attempt
// answers 429 until the minute is over.
func (d *Dashboard) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		d.signInPage(w, r, http.StatusBadRequest, "The form could not be read.", "")
		return
	}
	next := localPath(r.PostForm.Get("next"))
	addr := clientAddr(r)
	if !d.limiter.allow(addr) {
		w.Header().Set("Retry-After", "60")
		d.signInPage(w, r, http.StatusTooManyRequests, "Too many failed sign-ins from your address. Wait a minute and try again.", next)
		return
	}
	key := r.PostForm.Get("api_key")
	if !validText(key) {
		key = ""
	}
	token, sess, err := d.svc.SignIn(r.Context(), key)
	if agenthooks.ErrorCode(err) == agenthooks.EUNAUTHORIZED {
		d.limiter.fail(addr)
		msg := "That API key is not valid. Copy it again from where it was shown (agenthooks account create, or the first start of serve)."
		if key == "" {
			msg = "Enter your API key."
		}
		d.signInPage(w, r, http.StatusUnauthorized, msg, next)
		return
	} else if err != nil {
		d.fail(w, r, err)
		return
	}
	if old, err := r.Cookie(cookieName); err == nil {
		_ = d.svc.SignOut(r.Context(), old.Value) // a new sign-in replaces the old session
	}
	d.setCookie(w, token, sess.ExpiresAt)
	if next == "" {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// signOut ends the session (its form token was checked by page).
func (d *Dashboard) signOut(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := d.svc.SignOut(r.Context(), s.token); err != nil {
		return err
	}
	d.clearCookie(w)
	http.Redirect(w, r, "/?flash=signed-out", http.StatusSeeOther)
	return nil
}

// portal signs in through a single-use portal link: the first visit before
// its expiry gets a session and goes to the overview; any other visit gets
// 410 and signs in nobody.
func (d *Dashboard) portal(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead {
		// Link previewers and mail scanners send HEAD: it must not use the
		// link up (nor sign the scanner in). It answers headers only.
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		return
	}
	token, sess, err := d.svc.UsePortalLink(r.Context(), r.PathValue("token"))
	if agenthooks.ErrorCode(err) == agenthooks.ENOTFOUND {
		d.renderError(w, r, http.StatusGone, "This link cannot be used",
			"A portal link signs in once, before it expires. This one was used already or has expired: ask for a new one.")
		return
	} else if err != nil {
		d.fail(w, r, err)
		return
	}
	if old, err := r.Cookie(cookieName); err == nil {
		_ = d.svc.SignOut(r.Context(), old.Value)
	}
	d.setCookie(w, token, sess.ExpiresAt)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// clientAddr is the address the sign-in limit counts by: the connection's
// peer. Headers such as X-Forwarded-For are not trusted, since any client
// can set them.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// limiter counts failures per key in fixed windows.
type limiter struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	now    func() time.Time
	counts map[string]*window
}

type window struct {
	start time.Time
	n     int
}

func newLimiter(limit int, w time.Duration, now func() time.Time) *limiter {
	return &limiter{limit: limit, window: w, now: now, counts: map[string]*window{}}
}

// allow reports whether key has failed fewer than limit times in its window.
func (l *limiter) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.counts[key]
	return w == nil || l.now().Sub(w.start) >= l.window || w.n < l.limit
}

// fail counts a failure of key.
func (l *limiter) fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.counts) > 10000 {
		for k, w := range l.counts {
			if now.Sub(w.start) >= l.window {
				delete(l.counts, k)
			}
		}
	}
	w := l.counts[key]
	if w == nil || now.Sub(w.start) >= l.window {
		w = &window{start: now}
		l.counts[key] = w
	}
	w.n++
}
