// Package egress is the outbound side of agenthooks: the HTTP client that POSTs
// webhooks to endpoints chosen by users, and the checks that keep those
// endpoints from reaching the network agenthooks itself runs in.
//
// A webhook platform makes requests to URLs its users type in. Left unchecked,
// that is a server-side request forgery (SSRF) primitive: an endpoint of
// http://169.254.169.254/ reads cloud credentials, http://10.0.0.5:5432/ probes
// the database, http://127.0.0.1:8080/ talks to agenthooks' own admin surface.
// egress refuses every destination that is not a public unicast address, in two
// places:
//
//   - at creation, [Policy.ValidateEndpoint] rejects malformed URLs and hosts
//     that are, or currently resolve to, non-public addresses, so the user gets
//     a clear validation error (422; docs/api.md);
//   - at delivery, the client from [NewClient] checks the IP address of every
//     connection in the dialer's Control hook, after DNS resolution, on the exact
//     address the socket is about to connect to. This is the check that
//     matters: a name can resolve to a public address when the webhook is
//     created and to 127.0.0.1 a minute later (DNS rebinding), and only a check
//     on the dialled IP sees that.
//
// Setting [Policy.AllowPrivate] (AGENTHOOKS_ALLOW_PRIVATE_ENDPOINTS=true) turns
// both checks off, for self-hosted setups whose receivers live on the private
// network, and for the demo and the benchmark, whose receiver is on loopback.
package egress

import (
	"context"
	"errors"
	"net/netip"
)

// Policy says which destinations webhooks may be delivered to.
//
// The zero value is the safe default: only public unicast addresses are
// allowed, and names are resolved with [net.DefaultResolver].
type Policy struct {
	// AllowPrivate lifts every address restriction (loopback, RFC 1918,
	// link-local, metadata, reserved ranges, ...). It exists for self-hosting,
	// where receivers are on the same private network as agenthooks; it is
	// AGENTHOOKS_ALLOW_PRIVATE_ENDPOINTS.
	AllowPrivate bool

	// Resolver resolves host names in ValidateEndpoint. Nil means
	// net.DefaultResolver. It is a field so tests (and callers with their own
	// DNS) can inject one; it does not affect the client from NewClient, whose
	// check runs on the dialled IP whatever resolved it.
	Resolver Resolver
}

// Resolver looks up the IP addresses of a host name. *net.Resolver implements
// it. network is "ip", "ip4" or "ip6", as for (*net.Resolver).LookupNetIP.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// ErrForbiddenAddress is the sentinel every refusal of a destination wraps,
// whether it comes from CheckIP, ValidateEndpoint or a dial by the client from
// NewClient (through *url.Error and *net.OpError). Test for it with errors.Is;
// use errors.As with *ForbiddenAddressError to get the address and its class.
var ErrForbiddenAddress = errors.New("destination is not a public address")

// ForbiddenAddressError reports a destination that the policy refuses. Its
// message names the address and why it is refused, for example
// "destination 127.0.0.1 is not a public address (loopback)" or
// "destination db.internal (10.0.0.5) is not a public address (private (RFC 1918))",
// and is fit to show to the user who configured the endpoint.
type ForbiddenAddressError struct {
	// Host is how the endpoint named the address when that differs from
	// Addr: a name ("localhost", "db.internal") or a non-standard IP form
	// ("0x7f.1"). Empty otherwise.
	Host string
	// Addr is the refused address.
	Addr netip.Addr
	// Class says why Addr is not public: "loopback", "private (RFC 1918)",
	// "link-local", "metadata", ...
	Class string
}

// Error implements error.
func (e *ForbiddenAddressError) Error() string {
	dest := e.Addr.String()
	if !e.Addr.IsValid() {
		dest = "(invalid address)"
	}
	if e.Host != "" && e.Host != dest {
		dest = e.Host + " (" + dest + ")"
	}
	return "destination " + dest + " is not a public address (" + e.Class + ")"
}

// Unwrap makes errors.Is(err, ErrForbiddenAddress) true.
func (e *ForbiddenAddressError) Unwrap() error { return ErrForbiddenAddress }

// CheckIP returns nil if the policy allows connecting to ip, else a
// *ForbiddenAddressError (which wraps ErrForbiddenAddress) naming its class.
//
// Without AllowPrivate only public unicast addresses pass. Refused: loopback,
// private (RFC 1918), link-local and the cloud metadata addresses,
// 0.0.0.0/8, shared address space 100.64.0.0/10, IETF protocol assignments
// 192.0.0.0/24, documentation and benchmarking ranges, 240.0.0.0/4 and
// broadcast, multicast; for IPv6 the unspecified and loopback addresses,
// unique-local fc00::/7, link-local, site-local, documentation, benchmarking,
// ORCHID, discard-only, and everything outside global unicast 2000::/3.
// IPv4-mapped addresses (::ffff:0:0/96) are always refused
// (docs/api.md). Other addresses that embed an IPv4 address (NAT64
// 64:ff9b::/96, 6to4 2002::/16, Teredo 2001::/32) are judged by the embedded
// IPv4 address, because that is where the packets end up. An invalid (zero) Addr is always refused.
func (p Policy) CheckIP(ip netip.Addr) error {
	if !ip.IsValid() {
		return &ForbiddenAddressError{Addr: ip, Class: "invalid address"}
	}
	if p.AllowPrivate {
		return nil
	}
	if class := classify(ip); class != "" {
		return &ForbiddenAddressError{Addr: ip, Class: class}
	}
	return nil
}

// ipRange names one range of non-public addresses.
type ipRange struct {
	prefix netip.Prefix
	class  string
}

func rangeOf(prefix, class string) ipRange {
	return ipRange{netip.MustParsePrefix(prefix), class}
}

// v4Ranges are the IPv4 ranges that are not public unicast (IANA IPv4
// Special-Purpose Address Registry, plus multicast and class E). More specific
// ranges come first so that the metadata address is named as such rather than
// as link-local.
var v4Ranges = []ipRange{
	rangeOf("169.254.169.254/32", "metadata"), // AWS, GCP, Azure, OpenStack, DigitalOcean, ...
	rangeOf("169.254.170.2/32", "metadata"),   // AWS ECS task metadata
	rangeOf("100.100.100.200/32", "metadata"), // Alibaba Cloud
	rangeOf("192.0.0.192/32", "metadata"),     // Oracle Cloud
	rangeOf("255.255.255.255/32", "broadcast"),
	rangeOf("0.0.0.0/8", "unspecified/this-network 0.0.0.0/8"),
	rangeOf("10.0.0.0/8", "private (RFC 1918)"),
	rangeOf("100.64.0.0/10", "shared address space 100.64.0.0/10"),
	rangeOf("127.0.0.0/8", "loopback"),
	rangeOf("169.254.0.0/16", "link-local"),
	rangeOf("172.16.0.0/12", "private (RFC 1918)"),
	rangeOf("192.0.0.0/24", "IETF protocol assignments 192.0.0.0/24"),
	rangeOf("192.0.2.0/24", "documentation 192.0.2.0/24"),
	rangeOf("192.88.99.0/24", "deprecated 6to4 relay anycast 192.88.99.0/24"),
	rangeOf("192.168.0.0/16", "private (RFC 1918)"),
	rangeOf("198.18.0.0/15", "benchmarking 198.18.0.0/15"),
	rangeOf("198.51.100.0/24", "documentation 198.51.100.0/24"),
	rangeOf("203.0.113.0/24", "documentation 203.0.113.0/24"),
	rangeOf("224.0.0.0/4", "multicast"),
	rangeOf("240.0.0.0/4", "reserved 240.0.0.0/4"),
}

// v6Ranges are the IPv6 ranges that are not public unicast and embed no IPv4
// address (those are handled in classify6). Anything outside 2000::/3 that no
// entry names is refused as reserved.
var v6Ranges = []ipRange{
	rangeOf("::/128", "unspecified"),
	rangeOf("::1/128", "loopback"),
	rangeOf("fd00:ec2::254/128", "metadata"), // AWS IPv6 instance metadata
	rangeOf("64:ff9b:1::/48", "local-use NAT64 64:ff9b:1::/48"),
	rangeOf("::/96", "deprecated IPv4-compatible IPv6 ::/96"),
	rangeOf("100::/64", "discard-only 100::/64"),
	rangeOf("fc00::/7", "unique-local fc00::/7"),
	rangeOf("fe80::/10", "link-local"),
	rangeOf("fec0::/10", "deprecated site-local fec0::/10"),
	rangeOf("ff00::/8", "multicast"),
	rangeOf("2001:db8::/32", "documentation 2001:db8::/32"),
	rangeOf("3fff::/20", "documentation 3fff::/20"),
	rangeOf("2001:2::/48", "benchmarking 2001:2::/48"),
	rangeOf("2001:10::/28", "non-routable ORCHID 2001:10::/28"),
	rangeOf("2001:20::/28", "non-routable ORCHIDv2 2001:20::/28"),
}

var (
	nat64Prefix   = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour     = netip.MustParsePrefix("2002::/16")
	teredoPrefix  = netip.MustParsePrefix("2001::/32")
	globalUnicast = netip.MustParsePrefix("2000::/3")
)

// classify returns why ip is not a public unicast address, or "" if it is.
func classify(ip netip.Addr) string {
	// netip.Prefix.Contains never matches an address with a zone, so a
	// zoned address would slip through every range below: drop the zone.
	ip = ip.WithZone("")
	if ip.Is4() {
		return match(ip, v4Ranges)
	}
	return classify6(ip)
}

func match(ip netip.Addr, ranges []ipRange) string {
	for _, rg := range ranges {
		if rg.prefix.Contains(ip) {
			return rg.class
		}
	}
	return ""
}

func classify6(ip netip.Addr) string {
	if ip.Is4In6() {
		// docs/api.md lists IPv4-mapped IPv6 among the refused
		// classes outright: a public server is reached by its IPv4 address,
		// and the mapped form is a classic way around address filters.
		if c := match(ip.Unmap(), v4Ranges); c != "" {
			return "IPv4-mapped IPv6 of " + c
		}
		return "IPv4-mapped IPv6"
	}
	b := ip.As16()
	switch {
	case nat64Prefix.Contains(ip):
		// The NAT64 gateway translates to the embedded IPv4 address.
		if c := match(netip.AddrFrom4([4]byte(b[12:16])), v4Ranges); c != "" {
			return "NAT64 64:ff9b::/96 of " + c
		}
		return ""
	case sixToFour.Contains(ip):
		// 2002:AABB:CCDD::/48 is the 6to4 site behind IPv4 AA.BB.CC.DD.
		if c := match(netip.AddrFrom4([4]byte(b[2:6])), v4Ranges); c != "" {
			return "6to4 2002::/16 of " + c
		}
		return ""
	case teredoPrefix.Contains(ip):
		// 2001:0:SSSS:SSSS:flags:port:CCCC:CCCC, server S and client ^C.
		server := netip.AddrFrom4([4]byte(b[4:8]))
		client := netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]})
		for _, v4 := range []netip.Addr{client, server} {
			if c := match(v4, v4Ranges); c != "" {
				return "Teredo 2001::/32 of " + c
			}
		}
		return ""
	}
	if c := match(ip, v6Ranges); c != "" {
		return c
	}
	if !globalUnicast.Contains(ip) {
		return "reserved (outside global unicast 2000::/3)"
	}
	return ""
}
