package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/internal/testdb"
	"github.com/agenthooks/agenthooks/postgres"
	"github.com/agenthooks/agenthooks/storetest"
)

// TestServerDown: while the server is stopped, Write, Read and ReadOne fail
// with EUNAVAILABLE (the API's 503), whether the pool's connections were
// lost or a new one is refused; once the server is back, the same store
// works again by itself.
func TestServerDown(t *testing.T) {
	t.Parallel()
	c := testdb.NewCluster(t)
	ctx := context.Background()
	s, err := postgres.Open(ctx, c.Database("down"), postgres.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	create := func() error {
		a := &agenthooks.Account{ID: storetest.NewID(), Name: "a", CreatedAt: time.Now()}
		return s.Write(ctx, func(tx agenthooks.Tx) error { return tx.CreateAccount(a, "hash-"+a.ID) })
	}
	ops := map[string]func() error{
		"Write": create,
		"Read": func() error {
			return s.Read(ctx, func(tx agenthooks.Tx) error { _, err := tx.CountAccounts(); return err })
		},
		"ReadOne": func() error {
			return s.ReadOne(ctx, func(tx agenthooks.Tx) error { _, err := tx.CountAccounts(); return err })
		},
		"Heartbeat": func() error {
			return s.Write(ctx, func(tx agenthooks.Tx) error { return tx.Heartbeat("test", "all", time.Now()) })
		},
	}
	for name, op := range ops { // warm the pool: its connections will be lost
		if err := op(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	c.Stop()
	for round := range 2 { // lost connections first, then refused ones
		for name, op := range ops {
			if err := op(); agenthooks.ErrorCode(err) != agenthooks.EUNAVAILABLE {
				t.Errorf("round %d: %s with the server down: %v (code %q), want EUNAVAILABLE", round, name, err, agenthooks.ErrorCode(err))
			}
		}
	}
	// A deadline that passes while connecting is unavailability too.
	dctx, cancel := context.WithTimeout(ctx, time.Nanosecond)
	defer cancel()
	if err := s.Read(dctx, func(tx agenthooks.Tx) error { return nil }); agenthooks.ErrorCode(err) != agenthooks.EUNAVAILABLE {
		t.Errorf("Read past its deadline: %v, want EUNAVAILABLE", err)
	}

	c.Start()
	deadline := time.Now().Add(60 * time.Second)
	for name, op := range ops {
		for {
			err := op()
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s after the restart: %v", name, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}
