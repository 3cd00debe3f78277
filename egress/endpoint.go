package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// MaxEndpointLength is the longest endpoint URL ValidateEndpoint accepts, in
// bytes. URLs longer than this are not webhook endpoints, and many servers and
// proxies reject them.
const MaxEndpointLength = 2048

// resolveTimeout bounds the DNS lookup in ValidateEndpoint: an API request must
// not hang on a slow name server, and a name that does not resolve in time is
// still checked when it is dialled.
const resolveTimeout = 3 * time.Second

// ErrInvalidEndpoint is wrapped by every validation error ValidateEndpoint
// returns, including refused addresses, so a caller can turn all of them into a
// 422 with errors.Is(err, ErrInvalidEndpoint) and show err.Error() to the user.
// A refused address additionally satisfies errors.Is(err, ErrForbiddenAddress),
// which tells "not a valid URL" from "not a public address".
var ErrInvalidEndpoint = errors.New("invalid endpoint")

// EndpointError is the error ValidateEndpoint returns for an endpoint it
// refuses. Its message is written for the API user ("endpoint must use http or
// https"); it never contains internal details.
type EndpointError struct {
	// Msg is the validation message.
	Msg string
	// Err is the *ForbiddenAddressError when the endpoint was refused because
	// of its address, else nil.
	Err error
}

// Error returns the validation message.
func (e *EndpointError) Error() string { return e.Msg }

// Unwrap makes errors.Is(err, ErrInvalidEndpoint) true, and also
// errors.Is(err, ErrForbiddenAddress) when the address was the reason.
func (e *EndpointError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalidEndpoint, e.Err}
	}
	return []error{ErrInvalidEndpoint}
}

func invalid(format string, args ...any) error {
	return &EndpointError{Msg: fmt.Sprintf(format, args...)}
}

func refused(err error, host string) error {
	var fe *ForbiddenAddressError
	if errors.As(err, &fe) && host != fe.Addr.String() {
		fe.Host = host
	}
	return &EndpointError{Msg: err.Error(), Err: err}
}

// refusedResolved is refused for a name whose DNS answer is not public. The
// message names neither the address nor its class: the API must not become
// a way for a tenant to look up the platform's internal names (the
// *ForbiddenAddressError it wraps still has both, for logs).
func refusedResolved(err error, host string) error {
	var fe *ForbiddenAddressError
	if errors.As(err, &fe) {
		fe.Host = host
	}
	return &EndpointError{Msg: fmt.Sprintf("endpoint host %s resolves to an address that is not public", host), Err: err}
}

// asciiHost maps a host name the way Go's HTTP client does before it dials:
// an ASCII name is left as it is, any other is mapped by IDNA (UTS #46, the
// lookup profile), so fullwidth or circled letters, ideographic full stops
// and fullwidth digits become the ASCII name or address they stand for
// ("ｌｏｃａｌｈｏｓｔ" is localhost, "１２７。０。０。１" is 127.0.0.1). Every
// check runs on the mapped name, which is the one that is dialled.
func asciiHost(host string) (string, error) {
	for i := 0; i < len(host); i++ {
		if host[i] >= utf8.RuneSelf {
			mapped, err := idna.Lookup.ToASCII(host)
			if err != nil {
				return "", err
			}
			return strings.ToLower(mapped), nil
		}
	}
	return strings.ToLower(host), nil
}

// ValidateEndpoint checks a webhook endpoint URL when a webhook is created or
// its endpoint changed, so that the user learns of a bad URL at once rather
// than through failed deliveries.
//
// The URL must be absolute, at most MaxEndpointLength bytes, use http or
// https, have a host and a valid port if any, and carry no user info, no
// fragment, no whitespace, control characters or backslashes (which other
// URL parsers read differently from Go's). The host is then checked under the
// policy:
//
//   - an IP literal is checked with CheckIP. IPv4 is parsed the way browsers
//     and inet_aton do, so "http://2130706433/", "http://0x7f.1/",
//     "http://0177.0.0.1/" and "http://127.1/" are all 127.0.0.1 and refused;
//     such a non-standard form of an allowed address is rejected as invalid,
//     because Go's HTTP client would look it up as a name instead;
//   - "localhost" and any "*.localhost" name (RFC 6761) are loopback;
//   - any other name is resolved with p.Resolver under a short timeout, and
//     refused if any of its addresses is. A name that does not resolve (yet) is
//     accepted: it is checked again, on the dialled IP, by the client from
//     NewClient, which is also what defeats a name that changes its answer
//     later (DNS rebinding).
//
// The returned error is nil, an error wrapping ErrInvalidEndpoint (an
// *EndpointError, also wrapping ErrForbiddenAddress when the address is the
// reason), or ctx's error if ctx ended during the lookup.
func (p Policy) ValidateEndpoint(ctx context.Context, raw string) error {
	if raw == "" {
		return invalid("endpoint is required")
	}
	if len(raw) > MaxEndpointLength {
		return invalid("endpoint must be at most %d characters", MaxEndpointLength)
	}
	if !utf8.ValidString(raw) {
		return invalid("endpoint is not valid UTF-8")
	}
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c <= ' ' || c == 0x7f:
			return invalid("endpoint must not contain spaces or control characters")
		case c == '\\':
			return invalid("endpoint must not contain backslashes")
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return invalid("endpoint is not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return invalid("endpoint must use http or https")
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return invalid("endpoint must be an absolute URL with a host, like https://example.com/webhook")
	}
	if u.User != nil {
		return invalid("endpoint must not contain a user name or password")
	}
	if strings.Contains(raw, "#") {
		return invalid("endpoint must not contain a fragment (#...)")
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return invalid("endpoint port must be between 1 and 65535")
		}
	}
	return p.checkHost(ctx, u)
}

func (p Policy) checkHost(ctx context.Context, u *url.URL) error {
	host := u.Hostname()

	if strings.HasPrefix(u.Host, "[") {
		ip, err := netip.ParseAddr(host)
		if err != nil || !ip.Is6() {
			return invalid("endpoint host %q is not a valid IPv6 address", host)
		}
		if err := p.CheckIP(ip); err != nil {
			return refused(err, "")
		}
		return nil
	}

	name, err := asciiHost(host)
	if err != nil {
		return invalid("endpoint host %q is not a valid domain name", host)
	}
	// A trailing dot makes a name fully qualified; it changes nothing here.
	bare := strings.TrimSuffix(name, ".")

	// The WHATWG URL rule: a host whose last label is a number is an IPv4
	// address, in any of the inet_aton forms, or invalid. No DNS name can
	// end in an all-numeric label, so nothing legitimate is lost.
	if endsInNumber(bare) {
		ip, ok := parseIPv4(bare)
		if !ok {
			return invalid("endpoint host %q is not a valid IP address or domain name", host)
		}
		if err := p.CheckIP(ip); err != nil {
			return refused(err, host)
		}
		if name != ip.String() || host != name {
			return invalid("endpoint host %q is a non-standard form of the IP address %s; write it as %s", host, ip, ip)
		}
		return nil
	}

	if bare == "localhost" || strings.HasSuffix(bare, ".localhost") {
		if p.AllowPrivate {
			return nil
		}
		return refused(&ForbiddenAddressError{Addr: netip.AddrFrom4([4]byte{127, 0, 0, 1}), Class: "loopback"}, host)
	}

	if !validName(bare) {
		return invalid("endpoint host %q is not a valid domain name", host)
	}
	if p.AllowPrivate {
		return nil // every address is allowed: no need to ask DNS
	}

	res := p.Resolver
	if res == nil {
		res = net.DefaultResolver
	}
	lctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	addrs, err := res.LookupNetIP(lctx, "ip", name)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("validate endpoint: %w", ctx.Err())
		}
		// Not resolvable now (NXDOMAIN, timeout, no network): accept it;
		// the dialer checks whatever it resolves to at delivery time.
		return nil
	}
	for _, a := range addrs {
		// (*net.Resolver).LookupNetIP returns IPv4 answers as IPv4-mapped
		// IPv6; judge and report them as the IPv4 addresses they are.
		if err := p.CheckIP(a.Unmap()); err != nil {
			return refusedResolved(err, host)
		}
	}
	return nil
}

// endsInNumber reports whether the last dot-separated label of host is a
// number (decimal digits, or 0x followed by hex digits), which per the WHATWG
// URL standard makes the whole host an IPv4 address.
func endsInNumber(host string) bool {
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	if allDigits(last, 10) {
		return true
	}
	if len(last) >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X') {
		return allDigits(last[2:], 16)
	}
	return false
}

func allDigits(s string, base int) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
		case base == 16 && ('a' <= c && c <= 'f' || 'A' <= c && c <= 'F'):
		default:
			return false
		}
	}
	return true
}

// parseIPv4 parses host the way inet_aton and the WHATWG URL standard do: one
// to four dot-separated parts, each decimal, octal (leading 0) or hex (0x);
// the last part fills the remaining bytes. "127.1" is 127.0.0.1 and
// "2130706433" is 127.0.0.1 too.
func parseIPv4(host string) (netip.Addr, bool) {
	parts := strings.Split(host, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	nums := make([]uint64, len(parts))
	for i, part := range parts {
		base := 10
		switch {
		case part == "":
			return netip.Addr{}, false
		case len(part) >= 2 && part[0] == '0' && (part[1] == 'x' || part[1] == 'X'):
			base, part = 16, part[2:]
			if part == "" {
				part = "0"
			}
		case len(part) >= 2 && part[0] == '0':
			base, part = 8, part[1:]
		}
		if part[0] == '+' || part[0] == '-' {
			return netip.Addr{}, false
		}
		n, err := strconv.ParseUint(part, base, 32)
		if err != nil {
			return netip.Addr{}, false
		}
		nums[i] = n
	}
	last := len(nums) - 1
	var v uint64
	for i, n := range nums[:last] {
		if n > 255 {
			return netip.Addr{}, false
		}
		v |= n << (8 * (3 - i))
	}
	if nums[last] >= 1<<(8*(4-last)) {
		return netip.Addr{}, false
	}
	v |= nums[last]
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// validName reports whether name (lower case, no trailing dot, already
// mapped by asciiHost) can be looked up in DNS: labels of 1 to 63 bytes, 253
// bytes in all, ASCII letters, digits, '-' and '_'.
func validName(name string) bool {
	if name == "" || len(name) > 253 {
		return false
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// checkDialHost is the name-level check at dial time, on the host Go's HTTP
// client is about to resolve and dial (already mapped by IDNA there; mapped
// again here so that the check never depends on it): loopback names and IP
// addresses in any inet_aton form are refused before any DNS lookup. The
// dialled IP is checked after it, in the dialer's Control hook.
func (p Policy) checkDialHost(host string) error {
	name, err := asciiHost(host)
	if err != nil {
		return fmt.Errorf("%w: host %q is not a valid domain name", ErrForbiddenAddress, host)
	}
	bare := strings.TrimSuffix(name, ".")
	if bare == "localhost" || strings.HasSuffix(bare, ".localhost") {
		return &ForbiddenAddressError{Host: host, Addr: netip.AddrFrom4([4]byte{127, 0, 0, 1}), Class: "loopback"}
	}
	if ip, err := netip.ParseAddr(bare); err == nil {
		return p.CheckIP(ip)
	}
	if endsInNumber(bare) {
		ip, ok := parseIPv4(bare)
		if !ok {
			return fmt.Errorf("%w: host %q is not a valid IP address", ErrForbiddenAddress, host)
		}
		return p.CheckIP(ip)
	}
	return nil
}
