package dashboard

import (
	"regexp"
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
	rg := overviewRange{Label: "3 hours", Step: time.Minute, FailStep: time.Hour, StepLabel: "minute", FailLabel: "hour"}
	rate := string(rateChart(series, rg))
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
	fail := string(failureChart(series, rg))
	if got := strings.Count(fail, "<rect"); got != 3 {
		t.Errorf("failure chart draws %d hours, want 3", got)
	}
	for _, want := range []string{"0.0% of 10 failed", "100.0% of 4 failed", "25.0% of 8 failed"} {
		if !strings.Contains(fail, want) {
			t.Errorf("failure chart lacks %q", want)
		}
	}
	if rateChart(nil, rg) != "" || failureChart(nil, rg) != "" {
		t.Error("an empty series draws a chart")
	}
}

// TestChartTicks: every value tick is a whole number, so an empty chart's
// axis reads 1, 0 and never 1, 0.8, 0.5, 0.2, 0.
func TestChartTicks(t *testing.T) {
	t.Parallel()
	tickRe := regexp.MustCompile(`x="682.0" y="[0-9.]+" text-anchor="start">([^<]*)</text>`)
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, peak := range []int{0, 1, 2, 3, 4, 7, 11, 33, 77, 150, 420, 999, 1234} {
		series := []agenthooks.AttemptBucket{{Start: start, Attempts: peak}, {Start: start.Add(time.Minute)}}
		svg := string(rateChart(series, overviewRanges[0]))
		ticks := tickRe.FindAllStringSubmatch(svg, -1)
		if len(ticks) < 2 {
			t.Fatalf("peak %d: %d value ticks, want at least 2: %s", peak, len(ticks), svg)
		}
		for _, m := range ticks {
			if strings.Contains(m[1], ".") {
				t.Errorf("peak %d: tick %q is not a whole number", peak, m[1])
			}
		}
	}
	if got := tickRe.FindAllStringSubmatch(string(rateChart([]agenthooks.AttemptBucket{{Start: start}}, overviewRanges[1])), -1); len(got) != 2 || got[0][1] != "1" || got[1][1] != "0" {
		t.Errorf("an empty chart's ticks = %v, want 1 and 0", got)
	}
	// 7 days are labelled with their dates.
	week := string(rateChart([]agenthooks.AttemptBucket{{Start: start}}, overviewRanges[2]))
	if !strings.Contains(week, ">03-01 00:00</text>") {
		t.Errorf("the 7-day chart's first time label is not 03-01 00:00: %s", week)
	}
}
