package egress

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
)

// idnaLoopback are host names in other scripts that Go's HTTP client maps
// (IDNA, UTS #46) to a loopback name or address before it dials.
var idnaLoopback = []struct{ name, host string }{
	{"FullwidthLetters", "ｌｏｃａｌｈｏｓｔ"},
	{"FullwidthUpper", "ＬＯＣＡＬＨＯＳＴ"},
	{"CircledLetters", "ⓛⓞⓒⓐⓛⓗⓞⓢⓣ"},
	{"MixedCircled", "locⓐlhost"},
	{"SubdomainFullwidth", "api.ｌｏｃａｌｈｏｓｔ"},
	{"IdeographicStops", "127。0。0。1"},
	{"FullwidthDigits", "１２７.０.０.１"},
	{"FullwidthDigitsAndStops", "１２７．０．０．１"},
	{"HalfwidthIdeographicStop", "127｡0｡0｡1"},
	{"FullwidthDecimal", "２１３０７０６４３３"},
	{"FullwidthShort", "１２７.１"},
	{"FullwidthMetadata", "１６９.２５４.１６９.２５４"},
	{"FullwidthPrivate", "１０.０.０.１"},
	{"TrailingIdeographicStop", "localhost。"},
}

// TestValidateEndpointIDNA: each such host is refused at creation, as the
// ASCII name or address it maps to would be.
func TestValidateEndpointIDNA(t *testing.T) {
	t.Parallel()
	for _, tc := range idnaLoopback {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := newFakeResolver()
			err := Policy{Resolver: res}.ValidateEndpoint(context.Background(), "http://"+tc.host+":8080/hook")
			if !errors.Is(err, ErrForbiddenAddress) {
				t.Fatalf("ValidateEndpoint(%q) = %v, want ErrForbiddenAddress", tc.host, err)
			}
			if len(res.calls) != 0 {
				t.Errorf("resolver asked for %v: a literal or localhost needs no lookup", res.calls)
			}
			if err := (Policy{AllowPrivate: true, Resolver: res}).ValidateEndpoint(context.Background(), "http://"+tc.host+"/"); err != nil &&
				errors.Is(err, ErrForbiddenAddress) {
				t.Errorf("AllowPrivate: %v", err)
			}
		})
	}

	cases := []struct {
		name, raw string
		ok        bool
	}{
		{"InternationalName", "https://bücher.example/hook", true},
		{"Punycode", "https://xn--bcher-kva.example/hook", true},
		{"FullwidthPublicName", "https://ｅｘａｍｐｌｅ.ｃｏｍ/", true},
		{"FullwidthPublicIP", "http://８.８.８.８/", false}, // a non-standard form: write it as 8.8.8.8
		{"DisallowedRune", "https://exa\u2028mple.com/", false},
		{"ResolvesLoopbackAfterMapping", "https://ｌｏｏｐｂａｃｋ.ｔｅｓｔ/", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := Policy{Resolver: newFakeResolver()}.ValidateEndpoint(context.Background(), tc.raw)
			if tc.ok && err != nil {
				t.Fatalf("ValidateEndpoint(%q) = %v, want nil", tc.raw, err)
			}
			if !tc.ok && !errors.Is(err, ErrInvalidEndpoint) {
				t.Fatalf("ValidateEndpoint(%q) = %v, want ErrInvalidEndpoint", tc.raw, err)
			}
		})
	}
}

// TestResolvedAddressNotRevealed: a name refused for what it resolves to is
// refused without saying what that is, so that the API cannot be used to
// look up internal names.
func TestResolvedAddressNotRevealed(t *testing.T) {
	t.Parallel()
	for _, host := range []string{"loopback.test", "mapped.test", "mixed.test", "metadata.test", "v6private.test"} {
		err := Policy{Resolver: newFakeResolver()}.ValidateEndpoint(context.Background(), "https://"+host+"/")
		if !errors.Is(err, ErrForbiddenAddress) {
			t.Fatalf("%s: %v, want ErrForbiddenAddress", host, err)
		}
		for _, addr := range newFakeResolver().addrs[host] {
			if strings.Contains(err.Error(), addr) {
				t.Errorf("%s: message %q reveals the address %s", host, err, addr)
			}
		}
		for _, class := range []string{"loopback", "RFC 1918", "metadata", "unique-local", "mapped"} {
			if strings.Contains(err.Error(), class) && !strings.Contains(host, class) {
				t.Errorf("%s: message %q reveals the address's class %q", host, err, class)
			}
		}
	}
}

func TestCheckDialHost(t *testing.T) {
	t.Parallel()
	for _, tc := range idnaLoopback {
		if err := (Policy{}).checkDialHost(tc.host); !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("checkDialHost(%q) = %v, want ErrForbiddenAddress", tc.host, err)
		}
	}
	for _, host := range []string{"localhost", "127.0.0.1", "0x7f.1", "2130706433", "::1", "api.localhost."} {
		if err := (Policy{}).checkDialHost(host); !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("checkDialHost(%q) = %v, want ErrForbiddenAddress", host, err)
		}
	}
	for _, host := range []string{"example.com", "8.8.8.8", "xn--bcher-kva.example", "bücher.example", "2606:4700::1"} {
		if err := (Policy{}).checkDialHost(host); err != nil {
			t.Errorf("checkDialHost(%q) = %v, want nil", host, err)
		}
	}
}

// TestClientRefusesIDNALoopback: the delivery client, given such a host,
// sends nothing to the loopback server it stands for.
func TestClientRefusesIDNALoopback(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	_, port, err := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(Options{})
	for _, tc := range idnaLoopback {
		if strings.HasSuffix(tc.host, "。") || !strings.Contains(tc.name, "Fullwidth") && !strings.Contains(tc.name, "Circled") && !strings.Contains(tc.name, "Stops") {
			continue
		}
		u := "http://" + (&url.URL{Host: tc.host + ":" + port}).Host + "/"
		resp, err := c.Post(u, "application/json", strings.NewReader("{}"))
		if err == nil {
			resp.Body.Close()
			t.Errorf("POST %s: status %d, want a refused dial", u, resp.StatusCode)
			continue
		}
		if !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("POST %s: %v, want ErrForbiddenAddress", u, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the loopback server got %d requests", n)
	}
}

// TestDialRefusalHidesResolvedAddress: a name refused at dial time for what
// it resolved to is reported by name only, since the attempt's error is
// shown to the account. It needs a name other than localhost that the
// system resolves to loopback (/etc/hosts: often the machine's own name).
func TestDialRefusalHidesResolvedAddress(t *testing.T) {
	t.Parallel()
	var name string
	candidates := []string{"ip6-localhost", "ip6-loopback", "localhost.localdomain"}
	if h, err := os.Hostname(); err == nil {
		candidates = append([]string{h}, candidates...) // /etc/hosts often maps it to loopback
	}
	for _, n := range candidates {
		if addrs, err := net.DefaultResolver.LookupNetIP(t.Context(), "ip", n); err == nil && len(addrs) > 0 && addrs[0].IsLoopback() {
			name = n
			break
		}
	}
	if name == "" {
		t.Skip("no name other than localhost resolves to loopback here")
	}
	c := NewClient(Options{})
	_, err := c.Post("http://"+net.JoinHostPort(name, "9")+"/", "application/json", strings.NewReader("{}"))
	if !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("POST to %s: %v, want ErrForbiddenAddress", name, err)
	}
	var fe *ForbiddenAddressError
	if !errors.As(err, &fe) || !fe.Addr.IsLoopback() {
		t.Errorf("the refusal lost its address for logs: %v", err)
	}
	for _, leak := range []string{"127.0.0.1", "::1", "loopback"} {
		if strings.Contains(err.Error(), leak) && !strings.Contains(name, leak) {
			t.Errorf("error %q reveals %q", err, leak)
		}
	}
}
