package dashboard_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/service"
)

// TestEmbeddedPortal: a portal link made with embed: true signs in a session
// drawn for an iframe, without the brand bar, account name or Sign out, in
// the platform's accent colour and with its logo; a plain link's session
// keeps them.
func TestEmbeddedPortal(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	link := func(o service.PortalOptions) *browser {
		u, _, err := b.svc.CreatePortalLink(ctx, b.acctA, o)
		must(t, err)
		br := b.browser()
		expectStatus(t, br.get(strings.TrimPrefix(u, b.srv.URL)), http.StatusSeeOther)
		return br
	}
	br := link(service.PortalOptions{Embed: true, Theme: agenthooks.Theme{AccentColor: "#0A7D52", LogoURL: "https://cdn.example.com/logo.svg"}})
	for _, path := range []string{"/", "/webhooks", "/events", "/settings/api-keys"} {
		p := br.get(path)
		expectStatus(t, p, http.StatusOK)
		contains(t, p, `<body class="embedded">`, `<link rel="stylesheet" href="/theme.css?accent=0A7D52">`,
			`<img class="embed-logo" src="https://cdn.example.com/logo.svg" alt="" height="28">`, `href="/webhooks"`)
		lacks(t, p, `class="brand"`, `class="account-name"`, ">Sign out</button>")
		if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' data: https://cdn.example.com;") {
			t.Errorf("GET %s: CSP %q does not let the logo in", path, csp)
		}
	}
	// Embedded without a theme: no theme sheet, no logo, the CSP as always.
	plain := link(service.PortalOptions{Embed: true}).get("/")
	contains(t, plain, `<body class="embedded">`)
	lacks(t, plain, "/theme.css", "embed-logo", ">Sign out</button>")
	// A link without embed draws the dashboard's own chrome.
	own := link(service.PortalOptions{}).get("/")
	contains(t, own, `class="brand"`, `class="account-name"`, ">Sign out</button>")
	lacks(t, own, "embedded", "/theme.css")
	if strings.Contains(own.Header.Get("Content-Security-Policy"), "cdn.example.com") {
		t.Error("a session without a logo lets other images in")
	}
}

// TestThemeCSS: the accent colour is served as the style sheet's variables,
// darkened until white text on it (and it as text on white) reads at 4.5:1.
func TestThemeCSS(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.browser()
	for _, c := range []struct{ in, want string }{
		{"0a7d52", "--accent: #0a7d52;"}, // dark enough as it is
		{"5469D4", "--accent: #5469d4;"},
	} {
		p := br.get("/theme.css?accent=" + c.in)
		expectStatus(t, p, http.StatusOK)
		contains(t, p, c.want)
		if ct := p.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
			t.Errorf("theme.css Content-Type %q", ct)
		}
	}
	light := br.get("/theme.css?accent=ffff00")
	lacks(t, light, "--accent: #ffff00;")
	for _, bad := range []string{"", "fff", "#0a7d52", "zzzzzz", "0a7d52;}"} {
		expectStatus(t, br.get("/theme.css?accent="+bad), http.StatusBadRequest)
	}
}
