package delivery_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks/delivery"
)

func TestNextRetry(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sched := []time.Duration{10 * time.Second, time.Minute}
	tests := []struct {
		name       string
		rand       float64
		attempt    int
		retryAfter time.Duration
		want       time.Duration
		ok         bool
	}{
		{"FirstRetryNoJitter", 0.5, 1, 0, 10 * time.Second, true},
		{"SecondRetryNoJitter", 0.5, 2, 0, time.Minute, true},
		{"Exhausted", 0.5, 3, 0, 0, false},
		{"JitterLow", 0, 1, 0, 8 * time.Second, true},
		{"JitterHigh", 1, 1, 0, 12 * time.Second, true},
		{"RetryAfterFloor", 0.5, 1, 30 * time.Second, 30 * time.Second, true},
		{"RetryAfterBelowSchedule", 0.5, 2, 5 * time.Second, time.Minute, true},
		{"RetryAfterCapped", 0.5, 1, 48 * time.Hour, time.Hour, true},
		{"ZeroAttempt", 0.5, 0, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &delivery.Policy{Schedule: sched, Jitter: 0.2, RetryAfterMax: time.Hour, Rand: func() float64 { return tt.rand }}
			got, ok := p.NextRetry(tt.attempt, now, tt.retryAfter)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if ok && got.Sub(now) != tt.want {
				t.Errorf("delay = %v, want %v", got.Sub(now), tt.want)
			}
		})
	}
}

func TestParseSchedule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    []time.Duration
		wantErr bool
	}{
		{"5s,5m,30m,2h,5h,10h,10h", delivery.DefaultSchedule, false},
		{" 100ms , 1s ", []time.Duration{100 * time.Millisecond, time.Second}, false},
		{"", nil, false},
		{"5s,,5m", nil, true},
		{"5", nil, true},
		{"-1s", nil, true},
		{"abc", nil, true},
	}
	for _, tt := range tests {
		got, err := delivery.ParseSchedule(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseSchedule(%q) error %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && len(got) != len(tt.want) {
			t.Errorf("ParseSchedule(%q) = %v, want %v", tt.in, got, tt.want)
		}
		for i := range tt.want {
			if got[i] != tt.want[i] {
				t.Errorf("ParseSchedule(%q)[%d] = %v, want %v", tt.in, i, got[i], tt.want[i])
			}
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"120", 2 * time.Minute},
		{" 3 ", 3 * time.Second},
		{"0", 0},
		{"-5", 0},
		{"", 0},
		{"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"99999999999999999999", 0},
	}
	for _, tt := range tests {
		if got := delivery.ParseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "Wed, 21 Oct 2015 07:28:00 GMT", "", "-1", "1e9", "99999999999"} {
		f.Add(s)
	}
	now := time.Now()
	f.Fuzz(func(t *testing.T, s string) {
		if d := delivery.ParseRetryAfter(s, now); d < 0 {
			t.Errorf("ParseRetryAfter(%q) = %v, negative", s, d)
		}
	})
}
