package egress

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"github.com/agenthooks/agenthooks/internal/testproxy"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func portOf(t *testing.T, rawURL string) int {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// tlsReceiver is an https receiver on loopback; with clientCA set it
// requires a client certificate signed by it (RequireAndVerifyClientCert).
func tlsReceiver(t *testing.T, clientCA string) (srv *httptest.Server, caPEM string) {
	t.Helper()
	srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := ""
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			name = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		w.Header().Set("X-Client", name)
		_, _ = io.WriteString(w, "ok")
	}))
	if clientCA != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(clientCA)) {
			t.Fatal("client CA does not parse")
		}
		srv.TLS = &tls.Config{ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
}

func proxyClient(t *testing.T, proxy *url.URL, policy Policy, tc TLS) *http.Client {
	t.Helper()
	cfg, err := ParseTLS(tc)
	if err != nil {
		t.Fatal(err)
	}
	return NewClient(Options{Policy: policy, Proxy: proxy, TLSConfig: cfg, Timeout: 10 * time.Second, UserAgent: "agenthooks/test"})
}

func assertProxyError(t *testing.T, err error, want string) {
	t.Helper()
	var pe *ProxyError
	if err == nil || !errors.Is(err, ErrProxy) || !errors.As(err, &pe) {
		t.Fatalf("err = %v, want a *ProxyError", err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %q, want it to say %q", err, want)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Fatalf("err = %q names the proxy's password", err)
	}
}

func TestProxy(t *testing.T) {
	t.Parallel()
	allow := Policy{AllowPrivate: true} // the receivers are on loopback

	t.Run("PlainHTTPAbsoluteForm", func(t *testing.T) {
		t.Parallel()
		p := testproxy.Start(t, testproxy.Config{})
		var via string
		b := setup(t, func(w http.ResponseWriter, r *http.Request) {
			via = r.Header.Get("Via")
			_, _ = io.WriteString(w, "ok")
		})
		resp, err := post(t, proxyClient(t, p.URL, allow, TLS{}), b.srv.URL+"/hook")
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || !strings.Contains(via, "tinyproxy") {
			t.Fatalf("status %d, Via %q: want 200 through tinyproxy", resp.StatusCode, via)
		}
	})

	t.Run("ManyRequestsNoneLost", func(t *testing.T) {
		t.Parallel()
		// tinyproxy closes connections it announced as kept alive; a
		// POST on such a reused connection would fail. None may.
		srv, ca := tlsReceiver(t, "")
		b := setup(t, nil)
		p := testproxy.Start(t, testproxy.Config{ConnectPorts: []int{portOf(t, srv.URL)}})
		c := proxyClient(t, p.URL, allow, TLS{CACertificates: ca})
		for _, target := range []string{b.srv.URL, srv.URL} {
			errs := make(chan error, 400)
			var wg sync.WaitGroup
			for g := 0; g < 16; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 25; i++ {
						req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(`{}`))
						resp, err := c.Do(req)
						if err != nil {
							errs <- err
							continue
						}
						_, _ = io.Copy(io.Discard, resp.Body)
						_ = resp.Body.Close()
					}
				}()
			}
			wg.Wait()
			close(errs)
			n := 0
			for err := range errs {
				if n++; n == 1 {
					t.Errorf("%s: %v", target, err)
				}
			}
			if n > 0 {
				t.Errorf("%s: %d of 400 requests failed through the proxy", target, n)
			}
		}
	})

	t.Run("HTTPSThroughCONNECT", func(t *testing.T) {
		t.Parallel()
		clientCert, clientKey := testproxy.CertPEM(t, "agenthooks-client", x509.ExtKeyUsageClientAuth)
		srv, ca := tlsReceiver(t, clientCert)
		p := testproxy.Start(t, testproxy.Config{ConnectPorts: []int{portOf(t, srv.URL)}})

		resp, err := post(t, proxyClient(t, p.URL, allow, TLS{ClientCertificate: clientCert, ClientKey: clientKey, CACertificates: ca}), srv.URL+"/hook")
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || resp.Header.Get("X-Client") != "agenthooks-client" {
			t.Fatalf("status %d, client %q: want 200 with the client certificate", resp.StatusCode, resp.Header.Get("X-Client"))
		}
		logged, _ := os.ReadFile(p.Log)
		if !strings.Contains(string(logged), "CONNECT") {
			t.Fatalf("the proxy's log shows no CONNECT:\n%s", logged)
		}

		// Without the certificate the receiver refuses the handshake.
		_, err = post(t, proxyClient(t, p.URL, allow, TLS{CACertificates: ca}), srv.URL+"/hook")
		if err == nil {
			t.Fatal("accepted without a client certificate")
		}
		// Without the CA the receiver's certificate is not trusted.
		_, err = post(t, proxyClient(t, p.URL, allow, TLS{ClientCertificate: clientCert, ClientKey: clientKey}), srv.URL+"/hook")
		var ue x509.UnknownAuthorityError
		if !errors.As(err, &ue) {
			t.Fatalf("err = %v, want the receiver's certificate refused", err)
		}
	})

	t.Run("CONNECTRefused", func(t *testing.T) {
		t.Parallel()
		srv, ca := tlsReceiver(t, "")
		p := testproxy.Start(t, testproxy.Config{ConnectPorts: []int{testproxy.FreePort(t)}}) // not the receiver's
		_, err := post(t, proxyClient(t, p.URL, allow, TLS{CACertificates: ca}), srv.URL+"/hook")
		assertProxyError(t, err, "refused: 403")
	})

	t.Run("BasicAuth", func(t *testing.T) {
		t.Parallel()
		srv, ca := tlsReceiver(t, "")
		b := setup(t, nil)
		p := testproxy.Start(t, testproxy.Config{ConnectPorts: []int{portOf(t, srv.URL)}, BasicAuth: "agent s3cret"})
		for _, target := range []string{srv.URL, b.srv.URL} {
			_, err := post(t, proxyClient(t, p.URL, allow, TLS{CACertificates: ca}), target)
			assertProxyError(t, err, "refused: 40")

			if target == srv.URL {
				// Wrong credentials: tinyproxy answers 401 (not 407);
				// to a CONNECT any answer but 200 is the proxy's. To a
				// plain request it is indistinguishable from the
				// endpoint's 401, and recorded as its status.
				wrong := *p.URL
				wrong.User = url.UserPassword("agent", "secret")
				_, err = post(t, proxyClient(t, &wrong, allow, TLS{CACertificates: ca}), target)
				assertProxyError(t, err, "refused: 401")
			}

			withCreds, err := ParseProxy(p.URL.String(), "agent:s3cret")
			if err != nil {
				t.Fatal(err)
			}
			resp, err := post(t, proxyClient(t, withCreds, allow, TLS{CACertificates: ca}), target)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("%s with credentials: %v", target, err)
			}
		}
	})

	t.Run("ProxyDown", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		down := &url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(testproxy.FreePort(t)))}
		for _, target := range []string{b.srv.URL, "https://" + b.srv.Listener.Addr().String()} {
			_, err := post(t, proxyClient(t, down, allow, TLS{}), target)
			assertProxyError(t, err, "unreachable")
		}
		if n := b.hits.Load(); n != 0 {
			t.Fatalf("receiver got %d requests with the proxy down", n)
		}
	})

	t.Run("EndpointPolicyAppliesNotProxyPolicy", func(t *testing.T) {
		t.Parallel()
		// The proxy is on loopback (allowed: it is the operator's); a
		// loopback endpoint is refused before anything reaches the proxy.
		p := testproxy.Start(t, testproxy.Config{})
		b := setup(t, nil)
		c := proxyClient(t, p.URL, Policy{}, TLS{})
		for _, target := range []string{b.srv.URL, strings.Replace(b.srv.URL, "127.0.0.1", "localhost", 1)} {
			_, err := post(t, c, target)
			assertForbidden(t, err)
		}
		if n := b.hits.Load(); n != 0 {
			t.Fatalf("receiver got %d requests, want 0", n)
		}
		logged, _ := os.ReadFile(p.Log)
		if strings.Contains(string(logged), "Request (file descriptor") {
			t.Fatalf("the proxy saw a request:\n%s", logged)
		}
	})

	t.Run("NoRedirects", func(t *testing.T) {
		t.Parallel()
		p := testproxy.Start(t, testproxy.Config{})
		b := setup(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		})
		resp, err := post(t, proxyClient(t, p.URL, allow, TLS{}), b.srv.URL+"/hook")
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusFound || b.hits.Load() != 1 {
			t.Fatalf("status %d after %d requests, want the 302 itself", resp.StatusCode, b.hits.Load())
		}
	})
}

func TestParseProxy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw, creds, want, err string
	}{
		{"", "", "", ""},
		{"http://proxy.internal:3128", "", "http://proxy.internal:3128", ""},
		{"https://u:p@proxy.internal", "", "https://u:p@proxy.internal", ""},
		{"http://proxy.internal:3128/", "agent:s3:cret", "http://agent:s3%3Acret@proxy.internal:3128", ""},
		{"", "http://a:b@proxy.internal:3128", "http://a:b@proxy.internal:3128", ""},
		{"socks5://proxy.internal:1080", "", "", "http:// or https://"},
		{"proxy.internal:3128", "", "", "http:// or https://"},
		{"http://proxy.internal/path", "", "", "without a path"},
		{"http://proxy.internal", "nocolon", "", "user:password"},
		{"", "agent:pw", "", "no proxy URL"},
	}
	for _, tt := range tests {
		u, err := ParseProxy(tt.raw, tt.creds)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseProxy(%q, %q) err = %v, want %q", tt.raw, tt.creds, err, tt.err)
			}
		case err != nil:
			t.Errorf("ParseProxy(%q, %q): %v", tt.raw, tt.creds, err)
		case tt.want == "" && u != nil, tt.want != "" && (u == nil || u.String() != tt.want):
			t.Errorf("ParseProxy(%q, %q) = %v, want %q", tt.raw, tt.creds, u, tt.want)
		}
	}
}
