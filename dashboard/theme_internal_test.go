package dashboard

import "testing"

func TestReadableOnWhite(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"ffff00", "ffffff", "00ff00", "87ceeb", "5469d4", "000000", "ff0000"} {
		c := readableOnWhite(parseHex(in))
		// As served: rounded to whole digits.
		if got := parseHex(c.hex()[1:]).contrastWithWhite(); got < 4.5 {
			t.Errorf("%s -> %s: contrast %.2f with white, want >= 4.5", in, c.hex(), got)
		}
		if d := parseHex(c.hex()[1:]).scale(0.8); d.contrastWithWhite() < 4.5 {
			t.Errorf("%s: the dark accent %s reads at %.2f", in, d.hex(), d.contrastWithWhite())
		}
	}
	if got := readableOnWhite(parseHex("0a7d52")).hex(); got != "#0a7d52" {
		t.Errorf("a dark enough accent changed to %s", got)
	}
}
