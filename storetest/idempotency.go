package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
)

// Idempotency keys

func exerciseIdempotency(t *testing.T, setup setupFunc) {
	claimKey := func(t *testing.T, b *testBundle, acct, key, fp string, stale, expired time.Time) *agenthooks.Idempotency {
		t.Helper()
		var rec *agenthooks.Idempotency
		b.write(t, func(tx agenthooks.Tx) error {
			var err error
			rec, err = tx.ClaimIdempotencyKey(acct, key, fp, stale, expired)
			return err
		})
		return rec
	}

	t.Run("Lifecycle", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		key := "key " + unicode
		if rec := claimKey(t, b, b.acct.ID, key, "fp1", time.Time{}, time.Time{}); rec != nil {
			t.Fatalf("first claim = %+v, want nil (claimed)", rec)
		}
		claimedAt := b.clock.Now()
		b.clock.Add(time.Second)
		rec := claimKey(t, b, b.acct.ID, key, "fp2", time.Time{}, time.Time{})
		checkEqual(t, "claim while the first request runs", rec, &agenthooks.Idempotency{Fingerprint: "fp1", Running: true, Response: []byte{}, CreatedAt: claimedAt})

		// The same key in another account is another key.
		if rec := claimKey(t, b, b.other.ID, key, "fp1", time.Time{}, time.Time{}); rec != nil {
			t.Errorf("claim of the same key in another account = %+v, want nil", rec)
		}

		resp := []byte(`{"id":"x","name":"` + "Grüße 🚀" + `"}`)
		b.write(t, func(tx agenthooks.Tx) error { return tx.FinishIdempotencyKey(b.acct.ID, key, 201, resp) })
		rec = claimKey(t, b, b.acct.ID, key, "fp1", time.Time{}, time.Time{})
		checkEqual(t, "claim after the first request finished", rec, &agenthooks.Idempotency{Fingerprint: "fp1", Status: 201, Response: resp, CreatedAt: claimedAt})

		b.write(t, func(tx agenthooks.Tx) error { return tx.ForgetIdempotencyKey(b.acct.ID, key) })
		if rec := claimKey(t, b, b.acct.ID, key, "fp3", time.Time{}, time.Time{}); rec != nil {
			t.Errorf("claim after ForgetIdempotencyKey = %+v, want nil", rec)
		}
	})

	t.Run("ExpiredAndStale", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		created := b.clock.Now()
		claimKey(t, b, b.acct.ID, "done", "fp", time.Time{}, time.Time{})
		b.write(t, func(tx agenthooks.Tx) error { return tx.FinishIdempotencyKey(b.acct.ID, "done", 200, []byte("{}")) })
		claimKey(t, b, b.acct.ID, "running", "fp", time.Time{}, time.Time{})
		b.clock.Add(time.Hour)

		tests := []struct {
			name           string
			key            string
			stale, expired time.Time
			wantAbsent     bool
		}{
			{"DoneNotExpired", "done", created.Add(time.Minute), created, false},
			{"RunningNotStale", "running", created, created, false},
			{"DoneNotStaleable", "done", created.Add(time.Minute), created.Add(-time.Minute), false}, // stale applies to running keys only
			{"RunningStale", "running", created.Add(time.Microsecond), created, true},
			{"DoneExpired", "done", time.Time{}, created.Add(time.Microsecond), true},
		}
		for _, tt := range tests {
			rec := claimKey(t, b, b.acct.ID, tt.key, "fp-new", tt.stale, tt.expired)
			if absent := rec == nil; absent != tt.wantAbsent {
				t.Errorf("%s: claim = %+v, want absent=%v", tt.name, rec, tt.wantAbsent)
			}
		}
		// A key found absent was claimed anew.
		rec := claimKey(t, b, b.acct.ID, "running", "fp-other", time.Time{}, time.Time{})
		if rec == nil || rec.Fingerprint != "fp-new" || !rec.Running || !rec.CreatedAt.Equal(b.clock.Now()) {
			t.Errorf("stale key after reclaim = %+v, want running with the new fingerprint, created now", rec)
		}
	})

	// Requests racing on one key: exactly one claims it.
	t.Run("ConcurrentClaims", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		const n = 20
		var wg sync.WaitGroup
		start := make(chan struct{})
		recs := make([]*agenthooks.Idempotency, n)
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = b.store.Write(t.Context(), func(tx agenthooks.Tx) error {
					var err error
					recs[i], err = tx.ClaimIdempotencyKey(b.acct.ID, "race", fmt.Sprint("fp", i), time.Time{}, time.Time{})
					return err
				})
			}()
		}
		close(start)
		wg.Wait()
		winners := 0
		for i := range n {
			if errs[i] != nil {
				t.Errorf("claim %d: %v", i, errs[i])
			} else if recs[i] == nil {
				winners++
			} else if !recs[i].Running {
				t.Errorf("claim %d saw a finished record", i)
			}
		}
		if winners != 1 {
			t.Errorf("%d requests claimed the key, want exactly 1", winners)
		}
	})
}
