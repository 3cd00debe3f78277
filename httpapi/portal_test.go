package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestPortalSession(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.svc.PublicURL = "https://dash.example.com"

	t.Run("Defaults", func(t *testing.T) {
		before := time.Now()
		d := b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/portal_session", nil).data(t)
		url, _ := d["url"].(string)
		if !strings.HasPrefix(url, "https://dash.example.com/portal/pt_") {
			t.Fatalf("url = %q, want the public URL + /portal/ + a token", url)
		}
		exp, err := time.Parse(time.RFC3339, d["expires_at"].(string))
		if err != nil {
			t.Fatalf("expires_at %v: %v", d["expires_at"], err)
		}
		if exp.Before(before.Add(time.Hour-time.Minute)) || exp.After(time.Now().Add(time.Hour+time.Minute)) {
			t.Fatalf("expires_at = %v, want about an hour from now", exp)
		}
	})

	t.Run("Bounds", func(t *testing.T) {
		for _, body := range []map[string]any{{"expires_in": 60}, {"expires_in": 604800, "read_only": true},
			{"embed": true, "theme": map[string]any{"accent_color": "#0A7d52", "logo_url": "https://cdn.example.com/logo.svg?v=2"}},
			{"embed": false, "theme": map[string]any{}}, {"theme": nil}, {"theme": map[string]any{"logo_url": "http://127.0.0.1:9000/logo.png"}}} {
			b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/portal_session", body)
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		tests := []struct {
			name  string
			body  any
			field string
		}{
			{"TooShort", map[string]any{"expires_in": 59}, "expires_in"},
			{"TooLong", map[string]any{"expires_in": 604801}, "expires_in"},
			{"Fraction", map[string]any{"expires_in": 90.5}, "expires_in"},
			{"String", map[string]any{"expires_in": "3600"}, "expires_in"},
			{"Null", map[string]any{"expires_in": nil}, "expires_in"},
			{"ReadOnlyString", map[string]any{"read_only": "yes"}, "read_only"},
			{"EmbedString", map[string]any{"embed": "yes"}, "embed"},
			{"ThemeNotObject", map[string]any{"theme": "dark"}, "theme"},
			{"AccentNoHash", map[string]any{"theme": map[string]any{"accent_color": "0a7d52"}}, `theme","accent_color`},
			{"AccentShort", map[string]any{"theme": map[string]any{"accent_color": "#fff"}}, `theme","accent_color`},
			{"AccentName", map[string]any{"theme": map[string]any{"accent_color": "red"}}, `theme","accent_color`},
			{"AccentNumber", map[string]any{"theme": map[string]any{"accent_color": 255}}, `theme","accent_color`},
			{"LogoRelative", map[string]any{"theme": map[string]any{"logo_url": "/logo.svg"}}, `theme","logo_url`},
			{"LogoHTTP", map[string]any{"theme": map[string]any{"logo_url": "http://cdn.example.com/logo.svg"}}, `theme","logo_url`},
			{"LogoScript", map[string]any{"theme": map[string]any{"logo_url": "javascript:alert(1)"}}, `theme","logo_url`},
			{"LogoQuote", map[string]any{"theme": map[string]any{"logo_url": "https://cdn.example.com/a\"b.svg"}}, `theme","logo_url`},
			{"LogoLong", map[string]any{"theme": map[string]any{"logo_url": "https://cdn.example.com/" + strings.Repeat("a", 2048)}}, `theme","logo_url`},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := b.expect(http.StatusUnprocessableEntity, b.keyA, "POST", "/api/v1/portal_session", tt.body)
				if !strings.Contains(string(r.Raw), `["body","`+tt.field+`"]`) {
					t.Fatalf("detail %s does not name %s", r.Raw, tt.field)
				}
			})
		}
	})

	t.Run("Unauthorized", func(t *testing.T) {
		b.expect(http.StatusUnauthorized, "", "POST", "/api/v1/portal_session", nil)
	})
}
