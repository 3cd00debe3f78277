package egress

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"time"
)

// Defaults for Options fields left zero.
const (
	// DefaultTimeout is AGENTHOOKS_DELIVERY_TIMEOUT's default: one attempt,
	// connect to last byte.
	DefaultTimeout = 15 * time.Second
	// DefaultMaxIdleConnsPerHost keeps enough warm connections for a busy
	// receiver to take a full worker pool's worth of deliveries without a
	// TCP and TLS handshake each.
	DefaultMaxIdleConnsPerHost = 256
)

// Options configures NewClient.
type Options struct {
	// Policy decides which IP addresses may be dialled.
	Policy Policy
	// Timeout bounds one request, from dialling to the last byte of the
	// response body (http.Client.Timeout). Default DefaultTimeout (15s).
	Timeout time.Duration
	// MaxIdleConnsPerHost is how many idle keep-alive connections are kept
	// per receiver. Default DefaultMaxIdleConnsPerHost (256).
	MaxIdleConnsPerHost int
	// UserAgent is set on every request that has no User-Agent header
	// (docs/wire-format.md: "agenthooks/VERSION"). Empty leaves Go's default.
	UserAgent string

	// Proxy, when set, is the forward proxy every request goes through
	// (AGENTHOOKS_EGRESS_PROXY, see ParseProxy): CONNECT for https
	// endpoints, the absolute-form request for http ones. Policy then
	// applies to each request's endpoint, resolved and checked before the
	// request goes to the proxy; the proxy's own address is allowed.
	Proxy *url.URL
	// TLSConfig, when set, is the TLS configuration for the endpoints
	// (a webhook's client certificate and CA bundle, see ParseTLS); nil
	// means the system roots and no client certificate. MinVersion is
	// raised to TLS 1.2 when lower.
	TLSConfig *tls.Config
}

// NewClient returns the HTTP client that delivers webhooks.
//
// Its dialer checks every connection under o.Policy in net.Dialer's Control
// hook, which runs after DNS resolution with the exact IP and port the socket
// is about to connect to. Checking there, rather than resolving the name
// beforehand, is what makes the check sound: a name can answer with a public
// address when checked and with 127.0.0.1 when dialled (DNS rebinding), but
// it cannot change the address the kernel is handed. A refused dial fails the
// request with an error that wraps ErrForbiddenAddress (errors.Is sees it
// through *url.Error and *net.OpError), and no byte is sent.
//
// The client also:
//   - never follows redirects: a 3xx is returned as the response (the
//     contract counts it as a failure), because following one would let an
//     endpoint send a signed payload somewhere nobody validated;
//   - ignores HTTP_PROXY and friends (Transport.Proxy is nil): through a
//     proxy the dialled address is the proxy's, and the check would be moot;
//   - keeps keep-alive pools sized for many deliveries per receiver, attempts
//     HTTP/2, and bounds the TLS handshake and the wait for response headers
//     by Timeout, so that a slow endpoint cannot hold a worker longer than one
//     attempt's budget.
func NewClient(o Options) *http.Client {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxIdleConnsPerHost <= 0 {
		o.MaxIdleConnsPerHost = DefaultMaxIdleConnsPerHost
	}

	// One dial check for HTTP and brokers alike (dialer.go).
	dial := NewDialFunc(o.Policy, o.Timeout)

	t := &http.Transport{
		Proxy:                  nil, // a proxy would be dialled instead of the endpoint, defeating the check (see Options.Proxy)
		DialContext:            dial,
		ForceAttemptHTTP2:      true,
		TLSClientConfig:        endpointTLS(o.TLSConfig),
		TLSHandshakeTimeout:    min(10*time.Second, o.Timeout),
		ResponseHeaderTimeout:  o.Timeout,
		ExpectContinueTimeout:  time.Second,
		MaxIdleConns:           max(1024, o.MaxIdleConnsPerHost),
		MaxIdleConnsPerHost:    o.MaxIdleConnsPerHost,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 1 << 20,
	}

	if o.Proxy != nil {
		// The transport now dials the proxy only: its address is the
		// operator's, so it gets a dialer without the policy's check, and
		// the endpoint is checked by proxyCheck instead.
		useProxy(t, o.Proxy, &net.Dialer{Timeout: o.Timeout, KeepAlive: 30 * time.Second})
	}

	var rt http.RoundTripper = t
	if o.UserAgent != "" {
		rt = &userAgentTransport{base: t, userAgent: o.UserAgent}
	}
	if o.Proxy != nil {
		// Plain http endpoints go as absolute-form requests on connections
		// to the proxy that are not kept alive: proxies close them after a
		// response while announcing keep-alive (tinyproxy did on a quarter
		// of the requests in docs/benchmarks.md's run), and Go cannot send
		// a POST again on a fresh connection, so a reused one fails the
		// attempt. A CONNECT tunnel is the endpoint's own connection, kept.
		plain := t.Clone()
		plain.DisableKeepAlives = true
		var plainRT http.RoundTripper = plain
		if o.UserAgent != "" {
			plainRT = &userAgentTransport{base: plain, userAgent: o.UserAgent}
		}
		rt = &proxyCheck{base: rt, plain: plainRT, policy: o.Policy, proxy: proxyHost(o.Proxy), resolver: net.DefaultResolver}
	}
	return &http.Client{
		Transport: rt,
		Timeout:   o.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// endpointTLS is the endpoints' TLS configuration: c's copy, at least TLS 1.2.
func endpointTLS(c *tls.Config) *tls.Config {
	if c == nil {
		return &tls.Config{MinVersion: tls.VersionTLS12}
	}
	c = c.Clone()
	if c.MinVersion < tls.VersionTLS12 {
		c.MinVersion = tls.VersionTLS12
	}
	return c
}

// isIPLiteral reports whether a dialled host is an IP address as written.
func isIPLiteral(host string) bool {
	_, err := netip.ParseAddr(host)
	return err == nil
}

// resolvedRefusal is a dial refused for the address a name resolved to; its
// message names the name only. Unwrap gives the refusal (errors.Is with
// ErrForbiddenAddress, errors.As with *ForbiddenAddressError for logs).
type resolvedRefusal struct {
	host string
	err  error
}

func (e *resolvedRefusal) Error() string {
	return "destination " + e.host + " resolves to an address that is not public"
}

func (e *resolvedRefusal) Unwrap() error { return e.err }

// checkDial is the dialer's Control check. It fails closed: an address it
// cannot parse is refused.
func (p Policy) checkDial(network, address string) error {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return fmt.Errorf("%w: network %q is not allowed", ErrForbiddenAddress, network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot parse dial address %q", ErrForbiddenAddress, address)
	}
	return p.CheckIP(ap.Addr())
}

// userAgentTransport sets a User-Agent on requests that have none.
type userAgentTransport struct {
	base      *http.Transport
	userAgent string
}

// RoundTrip implements http.RoundTripper. A request whose header map has a
// User-Agent key, even an empty one (Go's way to send none), is left alone.
func (t *userAgentTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if _, ok := req.Header["User-Agent"]; ok {
		return t.base.RoundTrip(req)
	}
	// A RoundTripper must not modify the caller's request: copy it and its
	// header map.
	r2 := req.WithContext(req.Context())
	r2.Header = req.Header.Clone()
	if r2.Header == nil {
		r2.Header = make(http.Header)
	}
	r2.Header.Set("User-Agent", t.userAgent)
	return t.base.RoundTrip(r2)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// transport's pools.
func (t *userAgentTransport) CloseIdleConnections() { t.base.CloseIdleConnections() }
