package dashboard

import (
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
)

// TestParseLocalTime: the time fields take ISO dates and times in UTC as
// people type them, and refuse anything else.
func TestParseLocalTime(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 6, 6, 19, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2026-12-06 06:19", at},
		{"2026-12-06T06:19", at},
		{" 2026-12-06 06:19:00 UTC ", at},
		{"2026-12-06 06:19 UTC", at},
		{"2026-12-06T06:19:00Z", at},
		{"2026-12-06T07:19:00+01:00", at},
		{"2026-12-06", time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)},
		{"2026-12-06 UTC", time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		got, err := parseLocalTime(tt.in)
		if err != nil || !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("parseLocalTime(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "yesterday", "12/06/2026, 06:19 AM", "2026-13-01", "0001-01-01", "2026-12-06 25:00", "UTC", "Z"} {
		if got, err := parseLocalTime(bad); err == nil {
			t.Errorf("parseLocalTime(%q) = %v, want an error", bad, got)
		}
	}
}

// TestSignedHeadersTimestamp: the webhook-timestamp shown is the attempt's
// start, the second the header carried, with no "about".
func TestSignedHeadersTimestamp(t *testing.T) {
	t.Parallel()
	a := &agenthooks.Attempt{CreatedAt: time.Date(2026, 12, 7, 6, 21, 6, 700_000_000, time.UTC)}
	for _, h := range signedHeaders("evt", a) {
		if h.Name == "webhook-timestamp" {
			if want := "1796624466 (2026-12-07T06:21:06Z)"; h.Value != want {
				t.Errorf("webhook-timestamp shows %q, want %q", h.Value, want)
			}
			return
		}
	}
	t.Error("no webhook-timestamp header")
}
