package dashboard

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
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
// attempts are counted per client address and key prefix (and, ten times
// higher, per address): past the limit a wrong key answers 429 until the
// minute is over, but a correct key is always accepted, so that wrong keys
// from a shared address (everyone behind one proxy) never lock anyone out.
func (d *Dashboard) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		d.signInPage(w, r, http.StatusBadRequest, "The form could not be read.", "")
		return
	}
	next := localPath(r.PostForm.Get("next"))
	addr := d.clientAddr(r)
	key := r.PostForm.Get("api_key")
	if !validText(key) {
		key = ""
	}
	byPrefix := addr + " " + keyPrefix(key)
	allowed := d.limiter.allow(byPrefix) && d.limiter.allowN(addr, 10)
	token, sess, err := d.svc.SignIn(r.Context(), key)
	if agenthooks.ErrorCode(err) == agenthooks.EUNAUTHORIZED && !allowed {
		w.Header().Set("Retry-After", "60")
		d.signInPage(w, r, http.StatusTooManyRequests, "Too many failed sign-ins from your address. Wait a minute and try again.", next)
		return
	}
	if agenthooks.ErrorCode(err) == agenthooks.EUNAUTHORIZED {
		d.limiter.fail(byPrefix)
		d.limiter.fail(addr)
		msg := "That API key is not valid. Copy it again from where it was shown (agenthooks account create, or the first start of serve); if it is lost, the operator can issue a new one with agenthooks account rotate-key --id ACCOUNT_ID (agenthooks account list shows the ids)."
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

// keyPrefix is the part of a typed key the sign-in limit counts by: what
// the API shows of a key (agenthooks.APIKeyPrefixLen characters).
func keyPrefix(key string) string {
	key = strings.TrimSpace(key)
	if len(key) > agenthooks.APIKeyPrefixLen {
		return key[:agenthooks.APIKeyPrefixLen]
	}
	return key
}

// clientAddr is the address the sign-in limit counts by: the connection's
// peer, unless the peer is one of Options.TrustedProxies; then
// X-Forwarded-For is read from the right, past every trusted hop, and the
// first address outside them is the client (the left part of the header is
// whatever the client sent, so it is never believed).
func (d *Dashboard) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return clientAddrOf(host, r.Header.Values("X-Forwarded-For"), d.opts.TrustedProxies)
}

func clientAddrOf(peer string, forwarded []string, trusted []netip.Prefix) string {
	isTrusted := func(s string) bool {
		a, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil {
			return false
		}
		a = a.Unmap()
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	if len(trusted) == 0 || !isTrusted(peer) {
		return peer
	}
	var hops []string
	for _, v := range forwarded {
		for _, h := range strings.Split(v, ",") {
			if h = strings.TrimSpace(h); h != "" {
				hops = append(hops, h)
			}
		}
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		if _, err := netip.ParseAddr(hops[i]); err != nil {
			return client // not an address: stop at the last one believed
		}
		client = hops[i]
		if !isTrusted(hops[i]) {
			return client
		}
	}
	return client
}

// ParseTrustedProxies reads AGENTHOOKS_TRUSTED_PROXIES: comma-separated
// CIDRs (a bare address is a /32 or /128); empty means none.
func ParseTrustedProxies(v string) ([]netip.Prefix, error) {
	var ps []netip.Prefix
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return nil, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8 or an address", f)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		ps = append(ps, p.Masked())
	}
	return ps, nil
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
func (l *limiter) allow(key string) bool { return l.allowN(key, 1) }

// allowN reports whether key has failed fewer than times × limit times in its window.
func (l *limiter) allowN(key string, times int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.counts[key]
	return w == nil || l.now().Sub(w.start) >= l.window || w.n < l.limit*times
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
