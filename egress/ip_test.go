package egress

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestCheckIP(t *testing.T) {
	t.Parallel()

	tests := []struct {
		addr  string
		class string // "" means allowed without AllowPrivate
	}{
		// Public.
		{"8.8.8.8", ""},
		{"1.1.1.1", ""},
		{"93.184.216.34", ""},
		{"100.63.255.255", ""},
		{"100.128.0.0", ""},
		{"172.15.255.255", ""},
		{"172.32.0.0", ""},
		{"198.17.255.255", ""},
		{"198.20.0.0", ""},
		{"223.255.255.255", ""},
		{"2606:4700::1", ""},
		{"2001:4860:4860::8888", ""},
		{"2a00:1450:4001:80b::200e", ""},
		{"::ffff:8.8.8.8", "IPv4-mapped IPv6"},
		{"64:ff9b::808:808", ""},          // NAT64 of 8.8.8.8
		{"2002:808:808::1", ""},           // 6to4 of 8.8.8.8
		{"2001:3::1", ""},                 // not Teredo, not benchmarking
		{"2001:0:808:808::f7f7:f7f7", ""}, // Teredo: server 8.8.8.8, client 8.8.8.8

		// IPv4 classes.
		{"0.0.0.0", "unspecified/this-network"},
		{"0.1.2.3", "unspecified/this-network"},
		{"10.0.0.1", "private (RFC 1918)"},
		{"10.255.255.255", "private (RFC 1918)"},
		{"172.16.0.1", "private (RFC 1918)"},
		{"172.31.255.255", "private (RFC 1918)"},
		{"192.168.1.1", "private (RFC 1918)"},
		{"100.64.0.1", "shared address space"},
		{"100.127.255.255", "shared address space"},
		{"127.0.0.1", "loopback"},
		{"127.255.255.254", "loopback"},
		{"169.254.169.254", "metadata"},
		{"169.254.170.2", "metadata"},
		{"100.100.100.200", "metadata"},
		{"192.0.0.192", "metadata"},
		{"169.254.1.1", "link-local"},
		{"192.0.0.8", "IETF protocol assignments"},
		{"192.0.2.1", "documentation"},
		{"198.51.100.1", "documentation"},
		{"203.0.113.1", "documentation"},
		{"192.88.99.1", "6to4 relay"},
		{"198.18.0.1", "benchmarking"},
		{"198.19.255.255", "benchmarking"},
		{"224.0.0.1", "multicast"},
		{"239.255.255.250", "multicast"},
		{"240.0.0.1", "reserved"},
		{"255.255.255.254", "reserved"},
		{"255.255.255.255", "broadcast"},

		// IPv6 classes.
		{"::", "unspecified"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "IPv4-mapped IPv6 of loopback"},
		{"::ffff:7f00:1", "IPv4-mapped IPv6 of loopback"},
		{"::ffff:10.0.0.1", "IPv4-mapped IPv6 of private"},
		{"::ffff:169.254.169.254", "IPv4-mapped IPv6 of metadata"},
		{"::ffff:0.0.0.0", "IPv4-mapped IPv6 of unspecified"},
		{"::127.0.0.1", "IPv4-compatible"},
		{"64:ff9b::7f00:1", "NAT64 64:ff9b::/96 of loopback"},
		{"64:ff9b::a9fe:a9fe", "NAT64 64:ff9b::/96 of metadata"},
		{"64:ff9b:1::1", "local-use NAT64"},
		{"2002:7f00:1::1", "6to4 2002::/16 of loopback"},
		{"2002:c0a8:101::1", "6to4 2002::/16 of private"},
		{"2001:0:4136:e378:8000:63bf:80ff:fffe", "Teredo 2001::/32 of loopback"}, // client ^80ff:fffe = 127.0.0.1
		{"2001:0:a00:1::f7f7:f7f7", "Teredo 2001::/32 of private"},               // server 10.0.0.1
		{"100::1", "discard-only"},
		{"fc00::1", "unique-local"},
		{"fd12:3456:789a::1", "unique-local"},
		{"fd00:ec2::254", "metadata"},
		{"fe80::1", "link-local"},
		{"fe80::1%eth0", "link-local"},
		{"febf:ffff::1", "link-local"},
		{"fec0::1", "site-local"},
		{"ff02::1", "multicast"},
		{"ff0e::1", "multicast"},
		{"2001:db8::1", "documentation"},
		{"3fff::1", "documentation"},
		{"2001:2::1", "benchmarking"},
		{"2001:10::1", "ORCHID"},
		{"2001:20::1", "ORCHIDv2"},
		{"4000::1", "reserved"},
		{"1::1", "reserved"},
		{"5f00::1", "reserved"},
	}

	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			t.Parallel()
			ip := netip.MustParseAddr(tt.addr)

			err := Policy{}.CheckIP(ip)
			if tt.class == "" {
				if err != nil {
					t.Fatalf("CheckIP(%s) = %v, want nil", ip, err)
				}
			} else {
				if !errors.Is(err, ErrForbiddenAddress) {
					t.Fatalf("CheckIP(%s) = %v, want ErrForbiddenAddress", ip, err)
				}
				var fe *ForbiddenAddressError
				if !errors.As(err, &fe) {
					t.Fatalf("CheckIP(%s): %T is not *ForbiddenAddressError", ip, err)
				}
				if !strings.Contains(fe.Class, tt.class) {
					t.Errorf("CheckIP(%s) class = %q, want it to contain %q", ip, fe.Class, tt.class)
				}
				if fe.Addr != ip {
					t.Errorf("Addr = %s, want %s", fe.Addr, ip)
				}
				wantPrefix := "destination " + ip.String() + " is not a public address ("
				if !strings.HasPrefix(err.Error(), wantPrefix) {
					t.Errorf("message %q, want prefix %q", err.Error(), wantPrefix)
				}
			}

			if err := (Policy{AllowPrivate: true}).CheckIP(ip); err != nil {
				t.Errorf("AllowPrivate: CheckIP(%s) = %v, want nil", ip, err)
			}
		})
	}
}

func TestCheckIPMessage(t *testing.T) {
	t.Parallel()

	err := Policy{}.CheckIP(netip.MustParseAddr("127.0.0.1"))
	if got, want := err.Error(), "destination 127.0.0.1 is not a public address (loopback)"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	err = Policy{}.CheckIP(netip.MustParseAddr("::ffff:127.0.0.1"))
	if got, want := err.Error(), "destination ::ffff:127.0.0.1 is not a public address (IPv4-mapped IPv6 of loopback)"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
}

func TestCheckIPInvalid(t *testing.T) {
	t.Parallel()

	for _, p := range []Policy{{}, {AllowPrivate: true}} {
		if err := p.CheckIP(netip.Addr{}); !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("AllowPrivate=%v: CheckIP(zero) = %v, want ErrForbiddenAddress", p.AllowPrivate, err)
		}
	}
}

// FuzzCheckIP checks invariants over arbitrary addresses: no panic,
// AllowPrivate allows everything, and an IPv4 address and its IPv4-mapped
// form get the same verdict.
func FuzzCheckIP(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "8.8.8.8", "::1", "2606:4700::1", "::ffff:10.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::1", "2001:0:4136:e378:8000:63bf:80ff:fffe"} {
		f.Add(netip.MustParseAddr(s).AsSlice())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ip, ok := netip.AddrFromSlice(b)
		if !ok {
			return
		}
		err := Policy{}.CheckIP(ip)
		if err != nil && !errors.Is(err, ErrForbiddenAddress) {
			t.Fatalf("CheckIP(%s) = %v: not ErrForbiddenAddress", ip, err)
		}
		if err := (Policy{AllowPrivate: true}).CheckIP(ip); err != nil {
			t.Fatalf("AllowPrivate: CheckIP(%s) = %v", ip, err)
		}
		if ip.Is4() {
			// The mapped form is refused outright (docs/api.md).
			mapped := netip.AddrFrom16(ip.As16())
			if (Policy{}).CheckIP(mapped) == nil {
				t.Fatalf("CheckIP(%s) allowed an IPv4-mapped address", mapped)
			}
		}
	})
}
