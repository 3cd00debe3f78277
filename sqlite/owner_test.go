package sqlite_test

import (
	"os"
	"os/exec"
	"strings"
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

// An owner that cannot write the file says so once: the message named
// "release claims" twice (issue 25 item 11). The file is made unwritable
// with chmod, or for root (whom modes do not stop) chattr +i.
func TestOwnerReadOnlyMessage(t *testing.T) {
	t.Parallel()
	path := testdb.SQLitePath(t)
	s := open(t, path)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		if out, err := exec.Command("chattr", "+i", path).CombinedOutput(); err != nil {
			t.Skipf("root, and chattr +i failed (%v: %s): the file cannot be made unwritable", err, out)
		}
		t.Cleanup(func() { _ = exec.Command("chattr", "-i", path).Run() })
	}
	_, err := sqlite.Open(t.Context(), path, sqlite.Options{Owner: true})
	if err == nil {
		t.Fatal("an owner opened a database it cannot write")
	}
	t.Logf("%v", err)
	if n := strings.Count(err.Error(), "release claims"); n > 1 {
		t.Errorf("error %q names release claims %d times, want at most once", err, n)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the file", err)
	}
}
