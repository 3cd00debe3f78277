package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestShutdownDrains: on SIGTERM (the context run gets ends), /readyz
// answers 503 at once while the API keeps serving for AGENTHOOKS_SHUTDOWN_GRACE;
// then the listener closes and serve exits 0.
func TestShutdownDrains(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	e := env{
		"AGENTHOOKS_DATABASE_URL":   "sqlite:" + t.TempDir() + "/s.db",
		"AGENTHOOKS_ADDR":           addr,
		"AGENTHOOKS_LOG_LEVEL":      "warn",
		"AGENTHOOKS_SHUTDOWN_GRACE": "5s",
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout := &lockedBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve"}, stdout, testWriter{t}, e.get) }()
	base := "http://" + addr
	waitFor(t, 60*time.Second, "serve ready", func() bool { return status(t, base+"/readyz") == http.StatusOK })
	var first struct {
		APIKey string `json:"api_key"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(stdout.String())), &first); err != nil {
		t.Fatalf("serve printed %q: %v", stdout.String(), err)
	}

	cancel() // what SIGTERM does through signal.NotifyContext
	waitFor(t, 30*time.Second, "/readyz 503 after SIGTERM", func() bool { return status(t, base+"/readyz") == http.StatusServiceUnavailable })
	c := &client{t: t, base: base, key: first.APIKey}
	c.must(http.StatusOK, "GET", "/outbound_webhook", nil) // the API still serves while draining
	if s := status(t, base+"/healthz"); s != http.StatusOK {
		t.Errorf("/healthz while draining: %d, want 200", s)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited %d after SIGTERM, want 0", code)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not stop after its grace")
	}
	if s := status(t, base+"/healthz"); s != 0 {
		t.Errorf("the listener still answers after serve returned: %d", s)
	}
}

// TestCtrlCSkipsTheGrace: Ctrl-C (SIGINT; the context ends with
// errInterrupted) stops an idle serve at once, not after
// AGENTHOOKS_SHUTDOWN_GRACE, which is for load balancers on SIGTERM.
func TestCtrlCSkipsTheGrace(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	e := env{
		"AGENTHOOKS_DATABASE_URL":   "sqlite:" + t.TempDir() + "/c.db",
		"AGENTHOOKS_ADDR":           addr,
		"AGENTHOOKS_LOG_LEVEL":      "warn",
		"AGENTHOOKS_SHUTDOWN_GRACE": "10m", // a wait that the test's deadline would catch
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve"}, &lockedBuffer{}, testWriter{t}, e.get) }()
	base := "http://" + addr
	waitFor(t, 60*time.Second, "serve ready", func() bool { return status(t, base+"/readyz") == http.StatusOK })
	cancel(errInterrupted)
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited %d after Ctrl-C, want 0", code)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("serve waited for its grace after Ctrl-C")
	}
}

// TestNotifyContextCause: SIGINT ends the context with errInterrupted.
func TestNotifyContextCause(t *testing.T) {
	ctx, stop := notifyContext(context.Background())
	defer stop()
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("SIGINT did not end the context")
	}
	if !errors.Is(context.Cause(ctx), errInterrupted) {
		t.Errorf("cause %v, want errInterrupted", context.Cause(ctx))
	}
}
