package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/internal/ratelimit"
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
	s.limits = ratelimit.New(perSecond, time.Now)
}

// limit answers 429 when the account is over its rate.
func (s *Server) limit(w http.ResponseWriter, acct *agenthooks.Account) error {
	if s.limits == nil {
		return nil
	}
	wait, ok := s.limits.Take(acct.ID)
	if ok {
		return nil
	}
	w.Header().Set("Retry-After", strconv.Itoa(ratelimit.RetryAfter(wait)))
	return agenthooks.Errorf(agenthooks.ERATELIMITED, "Too many requests: this account is limited to %g requests per second.", s.limits.PerSecond())
}
