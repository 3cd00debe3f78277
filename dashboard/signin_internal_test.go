package dashboard

import (
	"net/netip"
	"strings"
	"testing"
)

// TestClientAddr: X-Forwarded-For is believed only from a trusted proxy,
// and then only up to its right-most hop outside the trusted ones.
func TestClientAddr(t *testing.T) {
	t.Parallel()
	trusted, err := ParseTrustedProxies(" 10.0.0.0/8, 192.168.1.1 ,fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, peer string
		xff        []string
		trusted    []netip.Prefix
		want       string
	}{
		{"no proxies trusted: the peer", "10.0.0.5", []string{"1.2.3.4"}, nil, "10.0.0.5"},
		{"untrusted peer: its header ignored", "203.0.113.9", []string{"1.2.3.4"}, trusted, "203.0.113.9"},
		{"one trusted hop", "10.0.0.5", []string{"198.51.100.7"}, trusted, "198.51.100.7"},
		{"a forged left part is ignored", "10.0.0.5", []string{"6.6.6.6, 198.51.100.7"}, trusted, "198.51.100.7"},
		{"two trusted hops", "10.0.0.5", []string{"198.51.100.7, 192.168.1.1", "10.1.2.3"}, trusted, "198.51.100.7"},
		{"all trusted: the left-most", "10.0.0.5", []string{"10.9.9.9"}, trusted, "10.9.9.9"},
		{"no header: the peer", "10.0.0.5", nil, trusted, "10.0.0.5"},
		{"garbage stops the walk", "10.0.0.5", []string{"198.51.100.7, nonsense"}, trusted, "10.0.0.5"},
		{"IPv6 proxy", "fd00::1", []string{"2001:db8::7"}, trusted, "2001:db8::7"},
	}
	for _, tt := range tests {
		if got := clientAddrOf(tt.peer, tt.xff, tt.trusted); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "nonsense", "10.0.0.0/8,,x"} {
		if _, err := ParseTrustedProxies(bad); err == nil || !strings.Contains(err.Error(), "CIDR") {
			t.Errorf("ParseTrustedProxies(%q) = %v, want an error naming CIDRs", bad, err)
		}
	}
	if ps, err := ParseTrustedProxies(""); err != nil || len(ps) != 0 {
		t.Errorf("empty: %v, %v", ps, err)
	}
}
