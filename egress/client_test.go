package egress

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// testBundle is a receiver on loopback that counts the requests and the new
// connections it sees.
type testBundle struct {
	srv      *httptest.Server
	hits     atomic.Int64
	newConns atomic.Int64
	lastUA   atomic.Value // string
}

func setup(t *testing.T, handler http.HandlerFunc) *testBundle {
	t.Helper()
	b := &testBundle{}
	if handler == nil {
		handler = func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "ok")
		}
	}
	b.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.hits.Add(1)
		b.lastUA.Store(strings.Join(r.Header.Values("User-Agent"), ","))
		handler(w, r)
	}))
	b.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			b.newConns.Add(1)
		}
	}
	b.srv.Start()
	t.Cleanup(b.srv.Close)
	return b
}

func post(t *testing.T, c *http.Client, target string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(`{"id":"1"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err == nil {
		t.Cleanup(func() { _ = resp.Body.Close() })
	}
	return resp, err
}

func assertForbidden(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("request succeeded, want it refused")
	}
	var ue *url.Error
	if !errors.As(err, &ue) {
		t.Fatalf("err = %T %v, want *url.Error", err, err)
	}
	if !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("err = %v, want errors.Is ErrForbiddenAddress", err)
	}
	var fe *ForbiddenAddressError
	if !errors.As(err, &fe) || fe.Class != "loopback" {
		t.Fatalf("err = %v, want a *ForbiddenAddressError of class loopback", err)
	}
}

func TestNewClient(t *testing.T) {
	t.Parallel()

	t.Run("RefusesLoopback", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		c := NewClient(Options{UserAgent: "agenthooks/test"})
		_, err := post(t, c, b.srv.URL+"/hook")
		assertForbidden(t, err)
		if !strings.Contains(err.Error(), "is not a public address (loopback)") {
			t.Errorf("err = %q, want the address named", err)
		}
		if n := b.hits.Load(); n != 0 {
			t.Errorf("receiver got %d requests, want 0", n)
		}
		if n := b.newConns.Load(); n != 0 {
			t.Errorf("receiver got %d connections, want 0: the check must run before connecting", n)
		}
	})

	t.Run("RefusesNameResolvingToLoopback", func(t *testing.T) {
		t.Parallel()
		if _, err := net.DefaultResolver.LookupNetIP(t.Context(), "ip", "localhost"); err != nil {
			t.Skipf("localhost does not resolve here: %v", err)
		}
		b := setup(t, nil)
		c := NewClient(Options{})
		// The dialer's name check refuses localhost before any lookup; a
		// name that only resolves to loopback (a DNS rebind) is refused on
		// the resolved IP in the Control hook, without the IP in the error.
		u, _ := url.Parse(b.srv.URL)
		_, err := post(t, c, "http://"+net.JoinHostPort("localhost", u.Port())+"/")
		assertForbidden(t, err)
		if n := b.hits.Load(); n != 0 {
			t.Errorf("receiver got %d requests, want 0", n)
		}
	})

	t.Run("RefusesIPv6Loopback", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp6", "[::1]:0")
		if err != nil {
			t.Skipf("no IPv6 loopback: %v", err)
		}
		srv := httptest.NewUnstartedServer(http.NotFoundHandler())
		_ = srv.Listener.Close()
		srv.Listener = ln
		srv.Start()
		t.Cleanup(srv.Close)
		_, err = post(t, NewClient(Options{}), srv.URL)
		assertForbidden(t, err)
	})

	t.Run("AllowPrivate", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		c := NewClient(Options{Policy: Policy{AllowPrivate: true}, UserAgent: "agenthooks/test"})
		resp, err := post(t, c, b.srv.URL+"/hook")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || string(body) != "ok" {
			t.Fatalf("got %d %q, want 200 ok", resp.StatusCode, body)
		}
		if ua := b.lastUA.Load(); ua != "agenthooks/test" {
			t.Errorf("User-Agent = %q, want agenthooks/test", ua)
		}
	})

	t.Run("UserAgentKept", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		c := NewClient(Options{Policy: Policy{AllowPrivate: true}, UserAgent: "agenthooks/test"})

		req, _ := http.NewRequest(http.MethodPost, b.srv.URL, nil)
		req.Header.Set("User-Agent", "custom/1")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if ua := b.lastUA.Load(); ua != "custom/1" {
			t.Errorf("User-Agent = %q, want custom/1", ua)
		}

		req, _ = http.NewRequest(http.MethodPost, b.srv.URL, nil)
		resp, err = c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if _, ok := req.Header["User-Agent"]; ok {
			t.Error("the caller's request was modified")
		}
	})

	t.Run("RedirectNotFollowed", func(t *testing.T) {
		t.Parallel()
		var targetHits atomic.Int64
		b := setup(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/target" {
				targetHits.Add(1)
				return
			}
			http.Redirect(w, r, "/target", http.StatusFound)
		})
		c := NewClient(Options{Policy: Policy{AllowPrivate: true}})
		resp, err := post(t, c, b.srv.URL+"/hook")
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusFound {
			t.Errorf("status = %d, want 302", resp.StatusCode)
		}
		if loc := resp.Header.Get("Location"); loc != "/target" {
			t.Errorf("Location = %q, want /target", loc)
		}
		if n := targetHits.Load(); n != 0 {
			t.Errorf("redirect target got %d requests, want 0", n)
		}
	})

	t.Run("Timeout", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		b := setup(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		})
		t.Cleanup(func() { close(release) }) // runs before srv.Close
		c := NewClient(Options{Policy: Policy{AllowPrivate: true}, Timeout: 200 * time.Millisecond})
		start := time.Now()
		_, err := post(t, c, b.srv.URL)
		elapsed := time.Since(start)
		var ue *url.Error
		if !errors.As(err, &ue) || !ue.Timeout() {
			t.Fatalf("err = %v, want a timeout *url.Error", err)
		}
		if elapsed > 3*time.Second {
			t.Errorf("took %v, want about 200ms", elapsed)
		}
	})

	t.Run("TimeoutDuringBody", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		b := setup(t, func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "partial")
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-release:
			}
		})
		t.Cleanup(func() { close(release) })
		c := NewClient(Options{Policy: Policy{AllowPrivate: true}, Timeout: 200 * time.Millisecond})
		resp, err := post(t, c, b.srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = io.ReadAll(resp.Body)
		if err == nil {
			t.Fatal("reading a body that never ends succeeded")
		}
		if elapsed := time.Since(start); elapsed > 3*time.Second {
			t.Errorf("took %v, want about 200ms", elapsed)
		}
	})

	t.Run("KeepAlive", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		c := NewClient(Options{Policy: Policy{AllowPrivate: true}})
		for range 5 {
			resp, err := post(t, c, b.srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
		if n := b.newConns.Load(); n != 1 {
			t.Errorf("receiver saw %d connections for 5 sequential requests, want 1", n)
		}
	})
}

func TestNewClientConfig(t *testing.T) {
	t.Parallel()

	transport := func(t *testing.T, c *http.Client) *http.Transport {
		t.Helper()
		switch rt := c.Transport.(type) {
		case *http.Transport:
			return rt
		case *userAgentTransport:
			return rt.base
		}
		t.Fatalf("unexpected transport %T", c.Transport)
		return nil
	}

	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()
		c := NewClient(Options{})
		tr := transport(t, c)
		if c.Timeout != 15*time.Second {
			t.Errorf("Timeout = %v, want 15s", c.Timeout)
		}
		if c.CheckRedirect == nil || c.CheckRedirect(nil, nil) != http.ErrUseLastResponse {
			t.Error("CheckRedirect must return http.ErrUseLastResponse")
		}
		if tr.Proxy != nil {
			t.Error("Proxy must be nil: a proxy would bypass the IP check")
		}
		if tr.MaxIdleConnsPerHost != 256 {
			t.Errorf("MaxIdleConnsPerHost = %d, want 256", tr.MaxIdleConnsPerHost)
		}
		if tr.MaxIdleConns != 0 && tr.MaxIdleConns < tr.MaxIdleConnsPerHost {
			t.Errorf("MaxIdleConns = %d caps MaxIdleConnsPerHost %d", tr.MaxIdleConns, tr.MaxIdleConnsPerHost)
		}
		if tr.IdleConnTimeout != 90*time.Second {
			t.Errorf("IdleConnTimeout = %v, want 90s", tr.IdleConnTimeout)
		}
		if !tr.ForceAttemptHTTP2 {
			t.Error("ForceAttemptHTTP2 = false")
		}
		if tr.TLSHandshakeTimeout <= 0 || tr.TLSHandshakeTimeout > c.Timeout {
			t.Errorf("TLSHandshakeTimeout = %v, want in (0, %v]", tr.TLSHandshakeTimeout, c.Timeout)
		}
		if tr.ResponseHeaderTimeout <= 0 || tr.ResponseHeaderTimeout > c.Timeout {
			t.Errorf("ResponseHeaderTimeout = %v, want in (0, %v]", tr.ResponseHeaderTimeout, c.Timeout)
		}
		if _, ok := c.Transport.(*http.Transport); !ok {
			t.Errorf("without a UserAgent the transport is %T, want *http.Transport", c.Transport)
		}
	})

	t.Run("Custom", func(t *testing.T) {
		t.Parallel()
		c := NewClient(Options{Timeout: 2 * time.Second, MaxIdleConnsPerHost: 4096, UserAgent: "x"})
		tr := transport(t, c)
		if c.Timeout != 2*time.Second {
			t.Errorf("Timeout = %v, want 2s", c.Timeout)
		}
		if tr.MaxIdleConnsPerHost != 4096 || tr.MaxIdleConns < 4096 {
			t.Errorf("MaxIdleConnsPerHost = %d, MaxIdleConns = %d, want 4096 and >= 4096", tr.MaxIdleConnsPerHost, tr.MaxIdleConns)
		}
		if tr.TLSHandshakeTimeout > 2*time.Second || tr.ResponseHeaderTimeout > 2*time.Second {
			t.Errorf("TLSHandshakeTimeout = %v, ResponseHeaderTimeout = %v, want <= 2s", tr.TLSHandshakeTimeout, tr.ResponseHeaderTimeout)
		}
	})
}

func TestCheckDial(t *testing.T) {
	t.Parallel()

	tests := []struct {
		network, address string
		ok               bool
	}{
		{"tcp4", "8.8.8.8:443", true},
		{"tcp6", "[2606:4700::1]:443", true},
		{"tcp4", "127.0.0.1:80", false},
		{"tcp6", "[::1]:80", false},
		{"tcp6", "[::ffff:127.0.0.1]:80", false},
		{"tcp6", "[fe80::1%eth0]:80", false},
		{"tcp4", "169.254.169.254:80", false},
		{"udp4", "8.8.8.8:53", false},
		{"tcp4", "not-an-address", false},
		{"tcp4", "", false},
	}
	for _, tt := range tests {
		err := Policy{}.checkDial(tt.network, tt.address)
		if tt.ok && err != nil {
			t.Errorf("checkDial(%s, %s) = %v, want nil", tt.network, tt.address, err)
		}
		if !tt.ok && !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("checkDial(%s, %s) = %v, want ErrForbiddenAddress", tt.network, tt.address, err)
		}
	}
}
