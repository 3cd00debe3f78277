package delivery

import (
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
)

// TestRotationOverlapEnds: the previous secret signs alongside the new one
// until PreviousSecretUntil, then stops.
func TestRotationOverlapEnds(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := &agenthooks.Webhook{Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", PreviousSecret: "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", PreviousSecretUntil: now.Add(24 * time.Hour)}
	for _, tt := range []struct {
		at   time.Time
		keys int
	}{{now, 2}, {now.Add(24*time.Hour - time.Second), 2}, {now.Add(24 * time.Hour), 1}, {now.Add(48 * time.Hour), 1}} {
		ks, err := keys(w, tt.at)
		if err != nil {
			t.Fatal(err)
		}
		if len(ks) != tt.keys {
			t.Errorf("at %v: %d signing keys, want %d", tt.at.Sub(now), len(ks), tt.keys)
		}
	}
}
