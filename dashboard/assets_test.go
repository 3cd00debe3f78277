package dashboard_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestGzipAndFavicon: pages and assets are gzipped for a client that asks
// (and only then), and the favicon is served (issue 26).
func TestGzipAndFavicon(t *testing.T) {
	t.Parallel()
	b := setup(t)
	get := func(path, accept string, header ...string) *http.Response {
		t.Helper()
		req, err := http.NewRequest("GET", b.srv.URL+path, nil)
		must(t, err)
		if accept != "" {
			req.Header.Set("Accept-Encoding", accept) // set by hand: the client does not decompress
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := http.DefaultTransport.RoundTrip(req)
		must(t, err)
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	tests := []struct {
		name, path, accept string
		gzipped            bool
		contains           string
	}{
		{"SignInPage", "/", "gzip, deflate, br", true, "API key"},
		{"Stylesheet", "/static/style.css", "gzip", true, ".badge.retry"},
		{"Script", "/static/htmx.min.js", "br;q=1, gzip;q=0.8", true, "htmx"},
		{"NoGzipAsked", "/static/style.css", "", false, ".badge"},
		{"GzipRefused", "/", "gzip;q=0", false, "API key"},
		{"Favicon", "/favicon.ico", "", false, "<svg"},
		{"FaviconAsset", "/static/favicon.svg", "gzip", true, "<svg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := get(tt.path, tt.accept)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d", res.StatusCode)
			}
			var r io.Reader = res.Body
			if got := res.Header.Get("Content-Encoding") == "gzip"; got != tt.gzipped {
				t.Fatalf("Content-Encoding %q, want gzip %v", res.Header.Get("Content-Encoding"), tt.gzipped)
			}
			if tt.gzipped {
				zr, err := gzip.NewReader(res.Body)
				must(t, err)
				r = zr
			}
			body, err := io.ReadAll(r)
			must(t, err)
			if !strings.Contains(string(body), tt.contains) {
				t.Errorf("body lacks %q", tt.contains)
			}
			if !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
				t.Errorf("Vary %q lacks Accept-Encoding", res.Header.Get("Vary"))
			}
		})
	}
}
