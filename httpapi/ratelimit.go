package httpapi

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/agenthooks/agenthooks"
)

// SetRateLimit limits each account to perSecond API requests per second,
// with bursts up to twice that (AGENTHOOKS_API_RATE_LIMIT); 0 turns the
// limit off. Beyond it a request answers 429 with Retry-After. The limit is
// kept in this process: N API processes behind a load balancer let an
// account make up to N times as many (docs/security.md). Call it before
// serving.
func (s *Server) SetRateLimit(perSecond float64) {
	if perSecond <= 0 {
		s.limits = nil
		return
	}
	s.limits = newAccountLimits(perSecond, time.Now)
}

// accountLimits holds one token bucket per account that made a request
// recently; a bucket left alone long enough to be full again is dropped,
// since a new one is the same.
type accountLimits struct {
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

func newAccountLimits(perSecond float64, now func() time.Time) *accountLimits {
	return &accountLimits{limit: rate.Limit(perSecond), burst: max(1, int(math.Ceil(2*perSecond))), now: now, buckets: map[string]*bucket{}}
}

// refill is how long an idle bucket takes to be full again.
func (l *accountLimits) refill() time.Duration {
	return time.Duration(float64(l.burst) / float64(l.limit) * float64(time.Second))
}

// take takes one request from the account's bucket; when it is empty it
// returns how long until a request would be allowed.
func (l *accountLimits) take(accountID string) (wait time.Duration, ok bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.After(l.nextSweep) {
		idle := l.refill()
		for id, b := range l.buckets {
			if now.Sub(b.seen) > idle {
				delete(l.buckets, id)
			}
		}
		l.nextSweep = now.Add(max(idle, time.Minute))
	}
	b := l.buckets[accountID]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.buckets[accountID] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d, false
	}
	return 0, true
}

// limit answers 429 when the account is over its rate.
func (s *Server) limit(w http.ResponseWriter, acct *agenthooks.Account) error {
	if s.limits == nil {
		return nil
	}
	wait, ok := s.limits.take(acct.ID)
	if ok {
		return nil
	}
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
	return agenthooks.Errorf(agenthooks.ERATELIMITED, "Too many requests: this account is limited to %g requests per second.", float64(s.limits.limit))
}
