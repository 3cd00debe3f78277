package dashboard

import (
	"strings"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
)

func TestNiceMax(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want float64 }{{0, 1}, {1, 1}, {3, 5}, {7, 10}, {10, 10}, {11, 20}, {150, 200}, {501, 1000}}
	for _, tt := range tests {
		if got := niceMax(tt.in); got != tt.want {
			t.Errorf("niceMax(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestCharts(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var series []agenthooks.AttemptBucket
	for i := range 180 {
		b := agenthooks.AttemptBucket{Start: start.Add(time.Duration(i) * time.Minute)}
		switch {
		case i == 5:
			b.Attempts, b.Failed = 10, 0
		case i == 70:
			b.Attempts, b.Failed = 4, 4
		case i == 130:
			b.Attempts, b.Failed = 8, 2
		}
		series = append(series, b)
	}
	now := start.Add(3 * time.Hour)
	rate := string(rateChart(series, now))
	if !strings.HasPrefix(rate, "<svg") || !strings.HasSuffix(rate, "</svg>") {
		t.Fatalf("rate chart is not an SVG: %s", rate)
	}
	// Three minutes with attempts: two with successes, two with failures.
	if got := strings.Count(rate, "M"); got != 4 {
		t.Errorf("rate chart draws %d bars, want 4: %s", got, rate)
	}
	if !strings.Contains(rate, ">10</text>") {
		t.Errorf("rate chart's top is not 10: %s", rate)
	}
	fail := string(failureChart(series, now, time.Hour))
	if got := strings.Count(fail, "<rect"); got != 3 {
		t.Errorf("failure chart draws %d hours, want 3", got)
	}
	for _, want := range []string{"0.0% of 10 failed", "100.0% of 4 failed", "25.0% of 8 failed"} {
		if !strings.Contains(fail, want) {
			t.Errorf("failure chart lacks %q", want)
		}
	}
	if rateChart(nil, now) != "" || failureChart(nil, now, time.Hour) != "" {
		t.Error("an empty series draws a chart")
	}
}
