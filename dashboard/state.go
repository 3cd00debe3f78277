package dashboard

import (
	"strconv"
	"time"

	"github.com/agenthooks/agenthooks"
)

// deliveryState is how a delivery reads in lists and on its page: its
// status, or "retrying" for a pending delivery whose last attempt failed
// (CONTRACT section 7), with that attempt's status or error and when the
// next attempt is.
type deliveryState struct {
	Label  string    // pending, retrying, succeeded, failed
	Class  string    // the badge's class
	Reason string    // the last failed attempt's "HTTP 401" or error, "" if none
	Next   time.Time // zero unless pending
}

// Retrying reports whether the delivery is pending after a failed attempt.
func (s deliveryState) Retrying() bool { return s.Label == stateRetrying }

const stateRetrying = "retrying"

// maxReasonLen bounds an error shown in a list cell (the page shows it whole).
const maxReasonLen = 80

func stateOf(d *agenthooks.Delivery, last *agenthooks.Attempt) deliveryState {
	st := deliveryState{Label: d.Status, Class: statusClass(d.Status)}
	if d.Status == agenthooks.DeliveryPending {
		st.Next = d.NextAttemptAt
	}
	switch {
	case last == nil:
		// Lists of events carry no attempts: the delivery's own record of
		// its last attempt's error ("HTTP 401", "timeout", ...) says it.
		st.Reason = d.LastError
	case last.StatusCode != 0 && (last.StatusCode < 200 || last.StatusCode >= 300):
		st.Reason = "HTTP " + strconv.Itoa(last.StatusCode)
	case last.StatusCode == 0 && last.Error != "":
		st.Reason = last.Error
	}
	if st.Reason == "" {
		return st
	}
	if d.Status == agenthooks.DeliveryPending {
		st.Label, st.Class = stateRetrying, "retry"
	}
	return st
}

// shortReason is r cut to maxReasonLen runes for a list cell.
func shortReason(r string) string {
	rs := []rune(r)
	if len(rs) <= maxReasonLen {
		return r
	}
	return string(rs[:maxReasonLen-1]) + "…"
}

// isoTime is t in RFC 3339 UTC, for <time datetime>.
func isoTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func statusClass(s string) string {
	switch s {
	case agenthooks.DeliverySucceeded:
		return "ok"
	case agenthooks.DeliveryFailed:
		return "bad"
	case agenthooks.DeliveryCanceled:
		return "off" // ended by the transformation: neither success nor failure
	default:
		return "warn"
	}
}
