package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// DialFunc dials a TCP address; broker clients take one as their custom
// dialer (amqp091 Config.Dial, nats.SetCustomDialer, go-redis Options.Dialer).
type DialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// NewDialFunc returns a dialer that holds every connection to the policy the
// same way NewClient's transport does: names that are loopback or IP
// literals in any form are refused before DNS, and the resolved IP the
// socket is about to connect to is checked in the dialer's Control hook, so
// a name that changes its answer (DNS rebinding) gains nothing. A refusal
// wraps ErrForbiddenAddress and never names the address a name resolved to.
func NewDialFunc(p Policy, timeout time.Duration) DialFunc {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	if p.AllowPrivate {
		return dialer.DialContext
	}
	dialer.ControlContext = func(_ context.Context, network, address string, _ syscall.RawConn) error {
		return p.checkDial(network, address)
	}
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return nil, fmt.Errorf("%w: cannot parse dial address %q", ErrForbiddenAddress, address)
		}
		if err := p.checkDialHost(host); err != nil {
			return nil, &net.OpError{Op: "dial", Net: network, Err: err}
		}
		conn, err := dialer.DialContext(ctx, network, address)
		if err != nil && errors.Is(err, ErrForbiddenAddress) && !isIPLiteral(host) {
			// The attempt's error is shown to the webhook's account: it must
			// not say what a name resolved to (net.OpError names the address).
			return nil, &net.OpError{Op: "dial", Net: network, Err: &resolvedRefusal{host: host, err: err}}
		}
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.Server != "" {
			// Nor which name server the platform asks.
			quiet := *dnsErr
			quiet.Server = ""
			return nil, &net.OpError{Op: "dial", Net: network, Err: &quiet}
		}
		return conn, err
	}
}

// ValidateBrokerURL checks a broker destination's URL at creation: absolute,
// at most MaxEndpointLength bytes, one of schemes, a host and a valid port,
// no fragment, whitespace, control characters or backslashes; user info
// (the broker's credentials) is allowed. The host is then held to the
// endpoint rules exactly as ValidateEndpoint holds an endpoint's. The error
// wraps ErrInvalidEndpoint (and ErrForbiddenAddress when the address is the
// reason), with a message for the API user that never repeats the URL.
func (p Policy) ValidateBrokerURL(ctx context.Context, raw string, schemes ...string) error {
	if raw == "" {
		return invalid("url is required")
	}
	if len(raw) > MaxEndpointLength {
		return invalid("url must be at most %d characters", MaxEndpointLength)
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= ' ' || c == 0x7f || c == '\\' {
			return invalid("url must not contain spaces, control characters or backslashes")
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return invalid("url is not a valid URL")
	}
	ok := false
	for _, s := range schemes {
		ok = ok || u.Scheme == s
	}
	if !ok {
		return invalid("url must use %s", strings.Join(schemes, " or "))
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return invalid("url must be an absolute URL with a host, like %s://broker.example.com", schemes[0])
	}
	if strings.Contains(raw, "#") {
		return invalid("url must not contain a fragment (#...)")
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return invalid("url port must be between 1 and 65535")
		}
	}
	return p.checkHost(ctx, u)
}
