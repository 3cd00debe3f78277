package dashboard

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
)

// An embedded dashboard (a portal link made with embed: true) takes the
// platform's theme: its accent colour through /theme.css (the CSP allows
// only the dashboard's own style sheets, no inline styles) and its logo
// (the CSP's img-src names the logo's origin for that session's pages).

var hexColor = regexp.MustCompile(`^[0-9a-fA-F]{6}$`)

// themeCSS serves the accent colour of ?accent=rrggbb as the style sheet's
// variables, darkened where needed so that white text on it and it as text
// on white keep a contrast of at least 4.5:1.
func (d *Dashboard) themeCSS(w http.ResponseWriter, r *http.Request) {
	c := r.URL.Query().Get("accent")
	if !hexColor.MatchString(c) {
		http.Error(w, "accent must be six hex digits", http.StatusBadRequest)
		return
	}
	rgb := readableOnWhite(parseHex(c))
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	fmt.Fprintf(w, ":root { --accent: %s; --accent-dark: %s; --accent-soft: %s; }\n", rgb.hex(), rgb.scale(0.8).hex(), rgb.mix(0.9).hex())
}

type rgb [3]float64

func parseHex(s string) rgb {
	var c rgb
	for i := range c {
		v, _ := strconv.ParseUint(s[2*i:2*i+2], 16, 8)
		c[i] = float64(v)
	}
	return c
}

func (c rgb) hex() string {
	return fmt.Sprintf("#%02x%02x%02x", int(math.Round(c[0])), int(math.Round(c[1])), int(math.Round(c[2])))
}

// scale darkens c by f (0..1).
func (c rgb) scale(f float64) rgb { return rgb{c[0] * f, c[1] * f, c[2] * f} }

// mix moves c toward white by f (0..1).
func (c rgb) mix(f float64) rgb {
	return rgb{c[0] + (255-c[0])*f, c[1] + (255-c[1])*f, c[2] + (255-c[2])*f}
}

// luminance is WCAG 2's relative luminance.
func (c rgb) luminance() float64 {
	var l [3]float64
	for i, v := range c {
		s := v / 255
		if s <= 0.03928 {
			l[i] = s / 12.92
		} else {
			l[i] = math.Pow((s+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*l[0] + 0.7152*l[1] + 0.0722*l[2]
}

// contrastWithWhite is WCAG 2's contrast ratio of c against white.
func (c rgb) contrastWithWhite() float64 { return 1.05 / (c.luminance() + 0.05) }

// readableOnWhite darkens c in small steps until its contrast with white is
// at least 4.5:1 (with a margin for rounding to whole digits).
func readableOnWhite(c rgb) rgb {
	for range 100 {
		if c.contrastWithWhite() >= 4.6 {
			break
		}
		c = c.scale(0.95)
	}
	return c
}

// logoOrigin returns the origin of a theme's logo URL for the CSP ("" when
// there is none).
func logoOrigin(logo string) string {
	if logo == "" {
		return ""
	}
	u, err := url.Parse(logo)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
