package egress

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// ErrProxy is wrapped by every error of an attempt that the egress proxy
// failed or refused (down, 407, 403 or 502 to CONNECT): errors.Is tells a
// proxy's failure from the endpoint's.
var ErrProxy = errors.New("egress proxy")

// ProxyError is an attempt the egress proxy failed or refused. Its message
// names the proxy by host:port only, never its credentials.
type ProxyError struct {
	// Proxy is the proxy's host:port.
	Proxy string
	// Status is the proxy's answer ("407 Proxy Authentication Required"),
	// empty when it could not be reached.
	Status string
	// Err is the transport's error when it could not be reached.
	Err error
}

// Error implements error.
func (e *ProxyError) Error() string {
	if e.Status != "" {
		return "egress proxy " + e.Proxy + " refused: " + e.Status
	}
	return fmt.Sprintf("egress proxy %s unreachable: %v", e.Proxy, e.Err)
}

// Unwrap makes errors.Is(err, ErrProxy) true, and reaches the transport's
// error (a timeout stays a timeout).
func (e *ProxyError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrProxy, e.Err}
	}
	return []error{ErrProxy}
}

// ParseProxy checks AGENTHOOKS_EGRESS_PROXY: an http:// or https:// URL with
// a host and nothing else (no path, query or fragment). creds, when not
// empty, is AGENTHOOKS_EGRESS_PROXY_FILE's content: either the whole proxy
// URL (as every other _FILE setting holds its variable's value) or only
// "user:password", which is then set on raw's URL. The URL's credentials are
// sent as Proxy-Authorization: Basic, on CONNECT and on plain requests alike.
func ParseProxy(raw, creds string) (*url.URL, error) {
	raw, creds = strings.TrimSpace(raw), strings.TrimSpace(creds)
	if strings.Contains(creds, "://") {
		raw, creds = creds, ""
	}
	if raw == "" {
		if creds != "" {
			return nil, errors.New("credentials given but no proxy URL")
		}
		return nil, nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, errors.New("must be an http:// or https:// URL, e.g. http://proxy.internal:3128")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("must be a proxy's base URL, without a path or query")
	}
	u.Path = ""
	if creds != "" {
		user, pass, ok := strings.Cut(creds, ":")
		if !ok || user == "" {
			return nil, errors.New("the credentials file must hold user:password or the proxy URL")
		}
		u.User = url.UserPassword(user, pass)
	}
	return u, nil
}

// proxyHost is the proxy's host:port, with the scheme's default port.
func proxyHost(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// useProxy sets t up to send every request through proxy. The dialer then
// dials only the proxy, which is allowed whatever its address (it is the
// operator's, not a tenant's); the endpoint is checked by proxyCheck before
// the request leaves. An https proxy's own TLS connection uses the system
// roots and no client certificate: a webhook's tls settings are for its
// endpoint (presented inside the CONNECT tunnel), not for the proxy.
func useProxy(t *http.Transport, proxy *url.URL, dialer *net.Dialer) {
	host := proxyHost(proxy)
	t.Proxy = http.ProxyURL(proxy)
	t.DialContext = dialer.DialContext
	if proxy.Scheme == "https" {
		t.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			d := &tls.Dialer{NetDialer: dialer, Config: &tls.Config{MinVersion: tls.VersionTLS12, ServerName: proxy.Hostname()}}
			return d.DialContext(ctx, network, addr)
		}
	}
	t.OnProxyConnectResponse = func(_ context.Context, _ *url.URL, _ *http.Request, res *http.Response) error {
		if res.StatusCode != http.StatusOK {
			return &ProxyError{Proxy: host, Status: res.Status}
		}
		return nil
	}
}

// proxyCheck holds the endpoint of each request to the policy before it goes
// to the proxy, which would otherwise resolve the name itself and connect to
// whatever it answers.
type proxyCheck struct {
	base     http.RoundTripper // https endpoints (CONNECT tunnels, kept alive)
	plain    http.RoundTripper // http endpoints (absolute form, a connection each)
	policy   Policy
	proxy    string // host:port, for errors
	resolver *net.Resolver
}

// RoundTrip implements http.RoundTripper.
func (c *proxyCheck) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := c.checkEndpoint(req.Context(), req.URL); err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: err}
	}
	rt := c.base
	if req.URL.Scheme == "http" && c.plain != nil {
		rt = c.plain
	}
	resp, err := rt.RoundTrip(req)
	var oe *net.OpError
	if err != nil && errors.As(err, &oe) && oe.Op == "proxyconnect" {
		return nil, &ProxyError{Proxy: c.proxy, Err: oe.Err}
	}
	if err == nil && resp.StatusCode == http.StatusProxyAuthRequired {
		// A plain http request's refusal comes back as the proxy's
		// response: a 407 is never the endpoint's (it would be a proxy's
		// answer to its own client).
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
		return nil, &ProxyError{Proxy: c.proxy, Status: resp.Status}
	}
	return resp, err
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// transport's pools.
func (c *proxyCheck) CloseIdleConnections() {
	for _, rt := range []http.RoundTripper{c.base, c.plain} {
		if ci, ok := rt.(interface{ CloseIdleConnections() }); ok {
			ci.CloseIdleConnections()
		}
	}
}

// checkEndpoint is the SSRF check of an endpoint reached through the
// proxy. A name is resolved here and refused when ANY of its addresses is
// not public: the proxy picks one of them itself, so every one must pass
// (stricter than a direct dial, which checks the one it connects to). The
// refusal names the host, not what it resolved to. A name that does not
// resolve fails the attempt here, as the proxy would. What remains is the
// window between this lookup and the proxy's (DNS rebinding): a proxy that
// enforces its own ACL on private ranges (smokescreen, squid's acl) closes
// it; docs/operations.md says so.
func (c *proxyCheck) checkEndpoint(ctx context.Context, u *url.URL) error {
	if c.policy.AllowPrivate {
		return nil
	}
	host := u.Hostname()
	if err := c.policy.checkDialHost(host); err != nil {
		return err
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return c.policy.CheckIP(ip)
	}
	name, err := asciiHost(host)
	if err != nil {
		return fmt.Errorf("%w: host %q is not a valid domain name", ErrForbiddenAddress, host)
	}
	ips, err := c.resolver.LookupNetIP(ctx, "ip", name)
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) {
			quiet := *dnsErr
			quiet.Server = "" // never which name server the platform asks
			return &quiet
		}
		return err
	}
	for _, ip := range ips {
		if err := c.policy.CheckIP(ip.Unmap()); err != nil {
			return &resolvedRefusal{host: host, err: err}
		}
	}
	return nil
}
