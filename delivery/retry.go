package delivery

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultSchedule is the default retry schedule: the delays after the first,
// immediate attempt, each counted from the end of the attempt before.
var DefaultSchedule = []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// ParseSchedule parses a comma-separated list of Go durations ("5s,5m,30m").
// An empty list means a single attempt with no retries.
func ParseSchedule(s string) ([]time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	out := make([]time.Duration, 0, len(parts))
	for _, p := range parts {
		d, err := time.ParseDuration(strings.TrimSpace(p))
		if err != nil {
			return nil, fmt.Errorf("retry schedule entry %q: %w", p, err)
		}
		if d < 0 {
			return nil, fmt.Errorf("retry schedule entry %q is negative", p)
		}
		out = append(out, d)
	}
	if len(out) > 100 {
		return nil, fmt.Errorf("retry schedule has %d entries, at most 100", len(out))
	}
	return out, nil
}

// Policy decides when a failed delivery is tried again.
type Policy struct {
	// Schedule holds the delays after the first attempt; attempts = 1 + len.
	Schedule []time.Duration
	// Jitter is the largest relative change applied to each delay (0.2 = ±20%).
	Jitter float64
	// RetryAfterMax caps how far a Retry-After header may push an attempt.
	RetryAfterMax time.Duration
	// Rand returns a number in [0,1); tests inject it (default math/rand/v2).
	Rand func() float64
}

// NextRetry returns when to try again after the attempt-th attempt ended at
// now, and false when attempts are exhausted. retryAfter (0 for none) is a
// floor set by the receiver's Retry-After header, capped at RetryAfterMax.
func (p *Policy) NextRetry(attempt int, now time.Time, retryAfter time.Duration) (time.Time, bool) {
	if attempt < 1 || attempt > len(p.Schedule) {
		return time.Time{}, false
	}
	d := p.Schedule[attempt-1]
	if p.Jitter > 0 && d > 0 {
		r := rand.Float64
		if p.Rand != nil {
			r = p.Rand
		}
		d = time.Duration(float64(d) * (1 - p.Jitter + 2*p.Jitter*r()))
	}
	if retryAfter > 0 {
		if p.RetryAfterMax > 0 && retryAfter > p.RetryAfterMax {
			retryAfter = p.RetryAfterMax
		}
		d = max(d, retryAfter)
	}
	return now.Add(d), true
}

// ParseRetryAfter reads a Retry-After value: delay seconds or an HTTP date.
// It returns 0 for an absent, malformed or past value.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(100*365*24*time.Hour/time.Second) {
			n = int64(100 * 365 * 24 * time.Hour / time.Second)
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
