package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/internal/testdb"
	"github.com/agenthooks/agenthooks/sqlite"
	"github.com/agenthooks/agenthooks/storetest"
)

// TestDiskFull: on a file system that is really full, writes fail with
// EUNAVAILABLE (the API's 503), the heartbeat that readiness writes fails
// too, reads still answer, nothing half-written stays, and writes work again
// once there is room.
func TestDiskFull(t *testing.T) {
	t.Parallel()
	dir := testdb.TinyFS(t, 4<<20)
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(dir, "agenthooks.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	name := strings.Repeat("n", 2000)
	create := func() (string, error) {
		a := &agenthooks.Account{ID: storetest.NewID(), Name: name, CreatedAt: time.Now()}
		return a.ID, s.Write(ctx, func(tx agenthooks.Tx) error { return tx.CreateAccount(a, "hash-"+a.ID) })
	}
	count := func() int {
		var n int
		if err := s.Read(ctx, func(tx agenthooks.Tx) error { n, err = tx.CountAccounts(); return err }); err != nil {
			t.Fatalf("read on a full disk: %v", err)
		}
		return n
	}
	if _, err := create(); err != nil {
		t.Fatal(err)
	}
	filler := testdb.Fill(t, dir)

	var failed error
	accepted := 1
	for range 20000 {
		if _, failed = create(); failed != nil {
			break
		}
		accepted++
	}
	if failed == nil {
		t.Fatal("writes kept succeeding on a full file system")
	}
	t.Logf("accepted %d accounts, then: %v", accepted, failed)
	if code := agenthooks.ErrorCode(failed); code != agenthooks.EUNAVAILABLE {
		t.Fatalf("write on a full disk: code %q (%v), want %q", code, failed, agenthooks.EUNAVAILABLE)
	}
	if err := s.Write(ctx, func(tx agenthooks.Tx) error { return tx.Heartbeat("test", "all", time.Now()) }); agenthooks.ErrorCode(err) != agenthooks.EUNAVAILABLE {
		t.Errorf("heartbeat on a full disk: %v, want EUNAVAILABLE", err)
	}
	if n := count(); n != accepted {
		t.Errorf("%d accounts stored, want the %d accepted", n, accepted)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := create()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("writes still fail with room again: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := s.Write(ctx, func(tx agenthooks.Tx) error { return tx.Heartbeat("test", "all", time.Now()) }); err != nil {
		t.Errorf("heartbeat with room again: %v", err)
	}
	if n := count(); n != accepted+1 {
		t.Errorf("%d accounts stored, want %d", n, accepted+1)
	}
}
