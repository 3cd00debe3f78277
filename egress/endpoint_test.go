package egress

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeResolver answers from a map; names not in it are "no such host". It
// records the contexts it was called with.
type fakeResolver struct {
	addrs map[string][]string

	mu    sync.Mutex
	calls []string
	ctxs  []context.Context
}

func (r *fakeResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	r.calls = append(r.calls, host)
	r.ctxs = append(r.ctxs, ctx)
	r.mu.Unlock()
	return mapResolver(r.addrs).LookupNetIP(ctx, network, host)
}

func newFakeResolver() *fakeResolver {
	return &fakeResolver{addrs: map[string][]string{
		"example.com":        {"93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"},
		"example.com.":       {"93.184.216.34"},
		"loopback.test":      {"127.0.0.1"},
		"mapped.test":        {"::ffff:127.0.0.1"}, // how LookupNetIP reports IPv4 answers
		"mapped-public.test": {"::ffff:93.184.216.34"},
		"mixed.test":         {"93.184.216.34", "10.0.0.5"},
		"metadata.test":      {"169.254.169.254"},
		"v6private.test":     {"2606:4700::1", "fd00::1"},
	}}
}

func TestValidateEndpoint(t *testing.T) {
	t.Parallel()

	const (
		ok        = "ok"
		invalid   = "invalid"
		forbidden = "forbidden"
	)
	tests := []struct {
		name  string
		raw   string
		want  string // ok, invalid or forbidden without AllowPrivate
		msg   string // substring of the message, if not ok
		allow string // with AllowPrivate; defaults to ok for forbidden, want otherwise
	}{
		// Accepted.
		{name: "HTTPS", raw: "https://example.com/webhook", want: ok},
		{name: "HTTP", raw: "http://example.com", want: ok},
		{name: "UpperScheme", raw: "HTTPS://example.com/webhook", want: ok},
		{name: "PortAndQuery", raw: "https://example.com:8443/hooks/in?token=abc&x=1", want: ok},
		{name: "TrailingDot", raw: "https://example.com./hook", want: ok},
		{name: "PublicIPv4", raw: "http://8.8.8.8/hook", want: ok},
		{name: "PublicIPv6", raw: "http://[2606:4700::1]:8080/hook", want: ok},
		{name: "PublicMappedResolved", raw: "https://mapped-public.test/", want: ok},
		{name: "Unresolvable", raw: "https://not-yet-registered.example/hook", want: ok},
		{name: "IDN", raw: "https://bücher.example/hook", want: ok},
		{name: "Underscore", raw: "https://my_host.example/", want: ok},

		// Invalid URLs.
		{name: "Empty", raw: "", want: invalid, msg: "endpoint is required"},
		{name: "TooLong", raw: "https://example.com/" + strings.Repeat("a", 2048), want: invalid, msg: "at most 2048"},
		{name: "FTP", raw: "ftp://example.com/file", want: invalid, msg: "endpoint must use http or https"},
		{name: "File", raw: "file:///etc/passwd", want: invalid, msg: "endpoint must use http or https"},
		{name: "JavaScript", raw: "javascript:alert(1)", want: invalid, msg: "endpoint must use http or https"},
		{name: "Gopher", raw: "gopher://127.0.0.1:6379/_", want: invalid, msg: "endpoint must use http or https"},
		{name: "NoScheme", raw: "example.com/webhook", want: invalid, msg: "endpoint must use http or https"},
		{name: "SchemeRelative", raw: "//example.com/webhook", want: invalid, msg: "endpoint must use http or https"},
		{name: "NoHost", raw: "http:///webhook", want: invalid, msg: "with a host"},
		{name: "Opaque", raw: "http:example.com", want: invalid, msg: "with a host"},
		{name: "PortOnly", raw: "http://:8080/", want: invalid, msg: "with a host"},
		{name: "Userinfo", raw: "https://user:pass@example.com/", want: invalid, msg: "user name or password"},
		{name: "UserOnly", raw: "https://user@example.com/", want: invalid, msg: "user name or password"},
		{name: "Fragment", raw: "https://example.com/hook#frag", want: invalid, msg: "fragment"},
		{name: "EmptyFragment", raw: "https://example.com/hook#", want: invalid, msg: "fragment"},
		{name: "Space", raw: "https://example.com/a b", want: invalid, msg: "spaces"},
		{name: "LeadingSpace", raw: " https://example.com/", want: invalid, msg: "spaces"},
		{name: "Newline", raw: "https://example.com/\r\nX-Injected: 1", want: invalid, msg: "control characters"},
		{name: "Backslash", raw: `https://example.com\@127.0.0.1/`, want: invalid, msg: "backslashes"},
		{name: "BadUTF8", raw: "https://example.com/\xff", want: invalid, msg: "UTF-8"},
		{name: "Port0", raw: "https://example.com:0/", want: invalid, msg: "port"},
		{name: "PortTooBig", raw: "https://example.com:65536/", want: invalid, msg: "port"},
		{name: "PortNotNumber", raw: "https://example.com:http/", want: invalid, msg: "not a valid URL"},
		{name: "BadPercent", raw: "https://example.com/%zz", want: invalid, msg: "not a valid URL"},
		{name: "EmptyLabel", raw: "https://a..example.com/", want: invalid, msg: "not a valid domain name"},
		{name: "LongLabel", raw: "https://" + strings.Repeat("a", 64) + ".example/", want: invalid, msg: "not a valid domain name"},
		{name: "BadNameChar", raw: "https://exa$mple.com/", want: invalid, msg: "not a valid domain name"},
		{name: "FiveParts", raw: "http://1.2.3.4.5/", want: invalid, msg: "not a valid IP address"},
		{name: "OctetTooBig", raw: "http://1.2.3.256/", want: invalid, msg: "not a valid IP address"},
		{name: "NumericTLD", raw: "http://example.123/", want: invalid, msg: "not a valid IP address"},
		{name: "BadOctal", raw: "http://08.0.0.1/", want: invalid, msg: "not a valid IP address"},
		{name: "BracketedV4", raw: "http://[127.0.0.1]/", want: invalid},
		{name: "NonStandardPublicIP", raw: "http://134744072/", want: invalid, msg: "write it as 8.8.8.8"},
		{name: "NonStandardPublicIPShort", raw: "http://8.526344/", want: invalid, msg: "write it as 8.8.8.8"},
		{name: "PublicIPTrailingDot", raw: "http://8.8.8.8./", want: invalid, msg: "write it as 8.8.8.8"},

		// Forbidden addresses: IP literals in all their forms.
		{name: "Loopback", raw: "http://127.0.0.1/", want: forbidden, msg: "destination 127.0.0.1 is not a public address (loopback)"},
		{name: "LoopbackPort", raw: "http://127.0.0.1:8080/admin", want: forbidden, msg: "(loopback)"},
		{name: "Decimal", raw: "http://2130706433/", want: forbidden, msg: "2130706433 (127.0.0.1)", allow: invalid},
		{name: "Hex", raw: "http://0x7f000001/", want: forbidden, msg: "(loopback)", allow: invalid},
		{name: "HexParts", raw: "http://0x7f.1/", want: forbidden, msg: "0x7f.1 (127.0.0.1)", allow: invalid},
		{name: "Octal", raw: "http://0177.0.0.1/", want: forbidden, msg: "(loopback)", allow: invalid},
		{name: "OctalWhole", raw: "http://017700000001/", want: forbidden, msg: "(loopback)", allow: invalid},
		{name: "Short", raw: "http://127.1/", want: forbidden, msg: "127.1 (127.0.0.1)", allow: invalid},
		{name: "ThreeParts", raw: "http://127.0.1/", want: forbidden, msg: "(loopback)", allow: invalid},
		{name: "Zero", raw: "http://0/", want: forbidden, msg: "(unspecified/this-network 0.0.0.0/8)", allow: invalid},
		{name: "Unspecified", raw: "http://0.0.0.0:8080/", want: forbidden, msg: "unspecified"},
		{name: "LoopbackTrailingDot", raw: "http://127.0.0.1./", want: forbidden, msg: "loopback", allow: invalid},
		{name: "Private10", raw: "https://10.1.2.3/", want: forbidden, msg: "private (RFC 1918)"},
		{name: "Private192", raw: "https://192.168.0.10/", want: forbidden, msg: "private (RFC 1918)"},
		{name: "Metadata", raw: "http://169.254.169.254/latest/meta-data/", want: forbidden, msg: "metadata"},
		{name: "MetadataDecimal", raw: "http://2852039166/", want: forbidden, msg: "metadata", allow: invalid},
		{name: "CGNAT", raw: "http://100.64.1.1/", want: forbidden, msg: "shared address space"},
		{name: "Benchmark", raw: "http://198.18.0.1/", want: forbidden, msg: "benchmarking"},
		{name: "Multicast", raw: "http://224.0.0.1/", want: forbidden, msg: "multicast"},
		{name: "Broadcast", raw: "http://255.255.255.255/", want: forbidden, msg: "broadcast"},
		{name: "IPv6Loopback", raw: "http://[::1]/", want: forbidden, msg: "destination ::1 is not a public address (loopback)"},
		{name: "IPv6LoopbackLong", raw: "http://[0:0:0:0:0:0:0:1]:80/", want: forbidden, msg: "loopback"},
		{name: "IPv6Unspecified", raw: "http://[::]/", want: forbidden, msg: "unspecified"},
		{name: "IPv4Mapped", raw: "http://[::ffff:127.0.0.1]/", want: forbidden, msg: "IPv4-mapped IPv6 of loopback"},
		{name: "IPv4MappedHex", raw: "http://[::ffff:7f00:1]/", want: forbidden, msg: "IPv4-mapped IPv6 of loopback"},
		{name: "IPv4MappedMetadata", raw: "http://[::ffff:a9fe:a9fe]/", want: forbidden, msg: "metadata"},
		{name: "NAT64", raw: "http://[64:ff9b::7f00:1]/", want: forbidden, msg: "NAT64"},
		{name: "ULA", raw: "http://[fd00::1]/", want: forbidden, msg: "unique-local"},
		{name: "LinkLocalZone", raw: "http://[fe80::1%25eth0]/", want: forbidden, msg: "link-local"},

		// Forbidden names.
		{name: "Localhost", raw: "http://localhost:3000/hook", want: forbidden, msg: "destination localhost (127.0.0.1) is not a public address (loopback)"},
		{name: "LocalhostUpper", raw: "http://LOCALHOST/", want: forbidden, msg: "loopback"},
		{name: "LocalhostDot", raw: "http://localhost./", want: forbidden, msg: "loopback"},
		{name: "SubLocalhost", raw: "http://api.localhost/", want: forbidden, msg: "loopback"},
		{name: "ResolvesLoopback", raw: "https://loopback.test/hook", want: forbidden, msg: "resolves to an address that is not public"},
		{name: "ResolvesMapped", raw: "https://mapped.test/hook", want: forbidden, msg: "resolves to an address that is not public"},
		{name: "ResolvesMixed", raw: "https://mixed.test/", want: forbidden, msg: "resolves to an address that is not public"},
		{name: "ResolvesMetadata", raw: "http://metadata.test/", want: forbidden, msg: "resolves to an address that is not public"},
		{name: "ResolvesV6Private", raw: "http://v6private.test/", want: forbidden, msg: "resolves to an address that is not public"},
		{name: "ResolvesUpperCase", raw: "http://LOOPBACK.TEST/", want: forbidden, msg: "resolves to an address that is not public"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			check := func(t *testing.T, err error, want, msg string) {
				t.Helper()
				switch want {
				case ok:
					if err != nil {
						t.Fatalf("ValidateEndpoint(%q) = %v, want nil", tt.raw, err)
					}
					return
				case invalid:
					if !errors.Is(err, ErrInvalidEndpoint) || errors.Is(err, ErrForbiddenAddress) {
						t.Fatalf("ValidateEndpoint(%q) = %v, want ErrInvalidEndpoint only", tt.raw, err)
					}
				case forbidden:
					if !errors.Is(err, ErrInvalidEndpoint) || !errors.Is(err, ErrForbiddenAddress) {
						t.Fatalf("ValidateEndpoint(%q) = %v, want ErrInvalidEndpoint and ErrForbiddenAddress", tt.raw, err)
					}
					var fe *ForbiddenAddressError
					if !errors.As(err, &fe) {
						t.Fatalf("ValidateEndpoint(%q) = %v: no *ForbiddenAddressError", tt.raw, err)
					}
					if fe.Host == fe.Addr.String() {
						t.Errorf("Host = Addr = %q, want Host empty", fe.Host)
					}
				}
				var ee *EndpointError
				if !errors.As(err, &ee) {
					t.Fatalf("ValidateEndpoint(%q) = %T, want *EndpointError", tt.raw, err)
				}
				if !strings.Contains(err.Error(), msg) {
					t.Errorf("ValidateEndpoint(%q) = %q, want it to contain %q", tt.raw, err.Error(), msg)
				}
			}

			p := Policy{Resolver: newFakeResolver()}
			check(t, p.ValidateEndpoint(context.Background(), tt.raw), tt.want, tt.msg)

			allow := tt.allow
			if allow == "" {
				allow = tt.want
				if allow == forbidden {
					allow = ok
				}
			}
			allowMsg := tt.msg
			if allow != tt.want {
				allowMsg = ""
			}
			res := newFakeResolver()
			p = Policy{AllowPrivate: true, Resolver: res}
			check(t, p.ValidateEndpoint(context.Background(), tt.raw), allow, allowMsg)
			if len(res.calls) != 0 {
				t.Errorf("AllowPrivate: resolver called for %v; want no lookups", res.calls)
			}
		})
	}
}

// TestValidateEndpointLookup covers how ValidateEndpoint uses its resolver:
// bounded in time, skipped for literals, and lenient about names that do not
// resolve (the dialer checks them later), but not about a caller that gave up.
func TestValidateEndpointLookup(t *testing.T) {
	t.Parallel()

	t.Run("ShortTimeout", func(t *testing.T) {
		t.Parallel()
		res := newFakeResolver()
		start := time.Now()
		if err := (Policy{Resolver: res}).ValidateEndpoint(context.Background(), "https://example.com/"); err != nil {
			t.Fatal(err)
		}
		if len(res.ctxs) != 1 {
			t.Fatalf("resolver called %d times, want 1", len(res.ctxs))
		}
		dl, ok := res.ctxs[0].Deadline()
		if !ok || dl.Sub(start) > resolveTimeout+time.Second {
			t.Errorf("lookup deadline = %v (set %v), want within %v", dl, ok, resolveTimeout)
		}
	})

	t.Run("NoLookupForLiterals", func(t *testing.T) {
		t.Parallel()
		res := newFakeResolver()
		for _, raw := range []string{"http://8.8.8.8/", "http://[2606:4700::1]/", "http://127.0.0.1/", "http://localhost/", "http://2130706433/"} {
			_ = Policy{Resolver: res}.ValidateEndpoint(context.Background(), raw)
		}
		if len(res.calls) != 0 {
			t.Errorf("resolver called for %v, want no lookups", res.calls)
		}
	})

	t.Run("CanceledContext", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := Policy{Resolver: blockingResolver{}}.ValidateEndpoint(ctx, "https://example.com/")
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if errors.Is(err, ErrInvalidEndpoint) {
			t.Errorf("a canceled context must not look like a validation error: %v", err)
		}
	})

	t.Run("ResolverTimesOut", func(t *testing.T) {
		t.Parallel()
		// The resolver's own failure (here: a timeout it reports without
		// the caller's context ending) leaves the check to dial time.
		err := Policy{Resolver: errResolver{&net.DNSError{Err: "i/o timeout", IsTimeout: true}}}.ValidateEndpoint(context.Background(), "https://example.com/")
		if err != nil {
			t.Fatalf("err = %v, want nil", err)
		}
	})
}

// mapResolver answers from a map, like fakeResolver, without recording calls.
type mapResolver map[string][]string

func (r mapResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	ss, ok := r[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out, nil
}

type blockingResolver struct{}

func (blockingResolver) LookupNetIP(ctx context.Context, _, _ string) ([]netip.Addr, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

type errResolver struct{ err error }

func (r errResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return nil, r.err
}

func TestParseIPv4(t *testing.T) {
	t.Parallel()

	tests := []struct {
		in   string
		want string // "" means not an address
	}{
		{"127.0.0.1", "127.0.0.1"},
		{"127.1", "127.0.0.1"},
		{"127.0.1", "127.0.0.1"},
		{"2130706433", "127.0.0.1"},
		{"0x7f000001", "127.0.0.1"},
		{"0x7f.1", "127.0.0.1"},
		{"0177.0.0.1", "127.0.0.1"},
		{"017700000001", "127.0.0.1"},
		{"0x7f.0x0.0x0.0x1", "127.0.0.1"},
		{"0", "0.0.0.0"},
		{"0x", "0.0.0.0"},
		{"4294967295", "255.255.255.255"},
		{"192.168.257", "192.168.1.1"},
		{"4294967296", ""},
		{"256.0.0.1", ""},
		{"1.2.3.256", ""},
		{"1.2.65536", ""},
		{"1.2.3.4.5", ""},
		{"1..2", ""},
		{"08", ""},
		{"0x1g", ""},
		{"+1", ""},
		{"-1", ""},
	}
	for _, tt := range tests {
		got, ok := parseIPv4(tt.in)
		switch {
		case tt.want == "" && ok:
			t.Errorf("parseIPv4(%q) = %s, want failure", tt.in, got)
		case tt.want != "" && (!ok || got.String() != tt.want):
			t.Errorf("parseIPv4(%q) = %s, %v, want %s", tt.in, got, ok, tt.want)
		}
	}
}

// FuzzValidateEndpoint checks that ValidateEndpoint never panics, returns only
// validation errors (no DNS in play: the resolver is a fake), and that what it
// accepts is an absolute http(s) URL with a host that Go's parser reads the
// same way.
func FuzzValidateEndpoint(f *testing.F) {
	for _, s := range []string{
		"https://example.com/webhook", "http://127.0.0.1/", "http://2130706433/", "http://0x7f.1/",
		"http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://127.1/", "http://localhost/", "ftp://x/",
		"javascript:alert(1)", "http://user:pass@example.com/", "http://example.com/#x", "http://[fe80::1%25eth0]/",
		"http://loopback.test/", "http://example.com:0/", "http://1.2.3.4.5/", "http://[", "http://%", "",
		"https://bücher.example/", "http://0x/", "http://.../",
		"http://ｌｏｃａｌｈｏｓｔ/", "http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/", "http://127。0。0。1/", "http://１２７.０.０.１/", "http://２１３０７０６４３３/",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	res := mapResolver(newFakeResolver().addrs) // records nothing: fuzzing runs millions of lookups
	f.Fuzz(func(t *testing.T, raw string, allowPrivate bool) {
		p := Policy{AllowPrivate: allowPrivate, Resolver: res}
		err := p.ValidateEndpoint(context.Background(), raw)
		if err != nil {
			if !errors.Is(err, ErrInvalidEndpoint) {
				t.Fatalf("ValidateEndpoint(%q) = %v: not ErrInvalidEndpoint", raw, err)
			}
			if err.Error() == "" {
				t.Fatalf("ValidateEndpoint(%q): empty message", raw)
			}
			return
		}
		u, perr := url.Parse(raw)
		if perr != nil {
			t.Fatalf("accepted %q, which url.Parse rejects: %v", raw, perr)
		}
		if u.Scheme != "http" && u.Scheme != "https" || u.Hostname() == "" || u.User != nil || u.Fragment != "" {
			t.Fatalf("accepted %q: scheme %q host %q user %v fragment %q", raw, u.Scheme, u.Hostname(), u.User, u.Fragment)
		}
		if len(raw) > MaxEndpointLength {
			t.Fatalf("accepted %d bytes", len(raw))
		}
		if !allowPrivate {
			if ip, perr := netip.ParseAddr(u.Hostname()); perr == nil && (Policy{}).CheckIP(ip) != nil {
				t.Fatalf("accepted %q with forbidden address %s", raw, ip)
			}
			// What Go's HTTP client would dial must pass the dial-time
			// name check too (IDNA-mapped, as the client maps it).
			if err := (Policy{}).checkDialHost(u.Hostname()); err != nil {
				t.Fatalf("accepted %q, whose host fails at dial time: %v", raw, err)
			}
		}
	})
}
