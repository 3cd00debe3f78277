package delivery

import "time"

// Observer is told what the pool does, for metrics. Methods must be cheap and safe for concurrent use.
type Observer interface {
	AttemptFinished(webhookID, outcome string, d time.Duration) // outcome: succeeded, failed, timeout, blocked (SSRF refusal)
	CircuitChanged(webhookID string, open bool)
}

// Outcomes of an attempt, as an Observer is told them.
const (
	OutcomeSucceeded = "succeeded" // a 2xx answer within the timeout
	OutcomeFailed    = "failed"    // any other answer, or no answer
	OutcomeTimeout   = "timeout"   // no answer within the timeout
	OutcomeBlocked   = "blocked"   // the endpoint resolved to an address the egress policy refuses; no connection was made
)

// nopObserver is the Observer of a pool given none.
type nopObserver struct{}

func (nopObserver) AttemptFinished(string, string, time.Duration) {}
func (nopObserver) CircuitChanged(string, bool)                   {}
