package sqlite_test

import (
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/internal/testdb"
	"github.com/agenthooks/agenthooks/sqlite"
)

// The process that owns the file (Options.Owner: serve) releases the claims
// a previous run left when it opens it; any other opener (account, migrate,
// beside a running serve) leaves them alone.
func TestOwnerReleasesClaims(t *testing.T) {
	t.Parallel()
	path := testdb.SQLitePath(t)
	ctx := t.Context()
	now := time.Now().UTC()
	s := open(t, path)
	err := s.Write(ctx, func(tx agenthooks.Tx) error {
		a := &agenthooks.Account{ID: "a", Name: "a", CreatedAt: now}
		w := &agenthooks.Webhook{ID: "w", AccountID: "a", Name: "w", Endpoint: "https://example.com", Enabled: true, Ordering: agenthooks.OrderingNone,
			Secret: "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=", CreatedAt: now, UpdatedAt: now}
		e := &agenthooks.Event{ID: "e", AccountID: "a", Type: agenthooks.EventConversationClosed, Payload: []byte(`{}`), CreatedAt: now}
		d := &agenthooks.Delivery{ID: "d", AccountID: "a", EventID: "e", WebhookID: "w", Status: agenthooks.DeliveryPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
		for _, err := range []error{tx.CreateAccount(a, "h"), tx.CreateWebhook(w), tx.CreateEvent(e), tx.CreateDelivery(d)} {
			if err != nil {
				return err
			}
		}
		_, err := tx.ClaimDeliveries(10, tx.Now().Add(time.Hour))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	claim := func(s *sqlite.Store) int {
		t.Helper()
		var jobs []*agenthooks.Job
		if err := s.Write(ctx, func(tx agenthooks.Tx) error {
			var err error
			jobs, err = tx.ClaimDeliveries(10, tx.Now().Add(time.Hour))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return len(jobs)
	}
	other := open(t, path)
	if n := claim(other); n != 0 {
		t.Fatalf("a non-owner's open released the claim: claimed %d", n)
	}
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	owner, err := sqlite.Open(ctx, path, sqlite.Options{Owner: true})
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	if n := claim(owner); n != 1 {
		t.Errorf("after the owner opened the file: claimed %d, want the released delivery", n)
	}
}
