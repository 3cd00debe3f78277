package httpapi

import (
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// RetryAfterUnavailable is the Retry-After, in seconds, of a 503 answered
// while the store cannot take requests: long enough for a client not to
// hammer a database that is restarting, short enough that it comes back
// soon after.
const RetryAfterUnavailable = 5

// unavailableLogEvery is how often, at most, the API logs that the store is
// unavailable: an outage makes every call fail the same way, and one ERROR
// line per call would bury everything else.
const unavailableLogEvery = 10 * time.Second

// unavailableLog logs the store's unavailability at warn, at most once per
// unavailableLogEvery, with the number of calls answered 503 since the last
// line.
type unavailableLog struct {
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// unavailable writes the 503 of a store that cannot take the request:
// Retry-After, and a rate-limited warning in the log.
func (s *Server) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	w.Header().Set("Retry-After", strconv.Itoa(RetryAfterUnavailable))
	l := &s.unavail
	l.mu.Lock()
	now := time.Now()
	if now.Sub(l.last) < unavailableLogEvery {
		l.suppressed++
		l.mu.Unlock()
		return
	}
	n := l.suppressed
	l.last, l.suppressed = now, 0
	l.mu.Unlock()
	s.log.Warn("store unavailable: answering 503 with Retry-After",
		slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("error", err),
		slog.Int("calls_since_last_line", n), slog.Duration("log_every", unavailableLogEvery))
}
