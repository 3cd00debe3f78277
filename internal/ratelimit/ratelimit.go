// Package ratelimit holds token buckets by key (an account for the API, a
// session for the dashboard), kept in this process: a bucket left alone long
// enough to be full again is dropped, since a new one is the same.
package ratelimit

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Buckets is one token bucket per key, perSecond with bursts of twice that.
type Buckets struct {
	mu        sync.Mutex
	limit     rate.Limit
	burst     int
	now       func() time.Time
	buckets   map[string]*bucket
	nextSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// New returns buckets of perSecond (more than 0) requests per second with
// bursts up to twice that; now is the clock (nil: time.Now).
func New(perSecond float64, now func() time.Time) *Buckets {
	if now == nil {
		now = time.Now
	}
	return &Buckets{limit: rate.Limit(perSecond), burst: max(1, int(math.Ceil(2*perSecond))), now: now, buckets: map[string]*bucket{}}
}

// PerSecond is the rate of every bucket.
func (l *Buckets) PerSecond() float64 { return float64(l.limit) }

// refill is how long an idle bucket takes to be full again.
func (l *Buckets) refill() time.Duration {
	return time.Duration(float64(l.burst) / float64(l.limit) * float64(time.Second))
}

// Take takes one request from key's bucket; when it is empty it returns how
// long until a request would be allowed.
func (l *Buckets) Take(key string) (wait time.Duration, ok bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.After(l.nextSweep) {
		idle := l.refill()
		for k, b := range l.buckets {
			if now.Sub(b.seen) > idle {
				delete(l.buckets, k)
			}
		}
		l.nextSweep = now.Add(max(idle, time.Minute))
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d, false
	}
	return 0, true
}

// RetryAfter is wait as a Retry-After value: whole seconds, at least 1.
func RetryAfter(wait time.Duration) int {
	return max(1, int(math.Ceil(wait.Seconds())))
}
