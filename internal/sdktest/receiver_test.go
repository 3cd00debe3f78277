package sdktest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// receiverMain is a receiver as a customer writes one: its own module, the
// SDK its only requirement.
const receiverMain = `package main

import (
	"context"
	"log"
	"net/http"
	"os"

	"github.com/agenthooks/agenthooks/webhook"
)

func handler(secret string) (http.Handler, error) {
	v, err := webhook.NewVerifier(secret)
	if err != nil {
		return nil, err
	}
	return webhook.NewHandler(v, func(ctx context.Context, e *webhook.Event) error {
		data, err := e.Decode()
		if err != nil {
			return webhook.Permanent(err)
		}
		if _, ok := data.(*webhook.Test); !ok {
			return webhook.Permanent(nil)
		}
		return nil
	}), nil
}

func main() {
	h, err := handler(os.Getenv("WEBHOOK_SECRET"))
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe("127.0.0.1:9000", h))
}
`

// receiverTest checks the receiver verifies a delivery signed as agenthooks
// signs one, and refuses a forged one.
const receiverTest = `package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks/webhook/signature"
)

func TestReceiver(t *testing.T) {
	secret, err := signature.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	h, err := handler(secret)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := signature.ParseSecret(secret)
	body := []byte(` + "`" + `{"id":"evt_1","object":"event","event":"webhook.test","created_at":"2024-04-10 18:16:50","data":{"webhook_id":"w1","message":"hello"}}` + "`" + `)
	for _, forged := range []bool{false, true} {
		ts := time.Now().Unix()
		sig := signature.Sign(key, "evt_1", ts, body)
		if forged {
			sig = signature.Sign([]byte("not the key"), "evt_1", ts, body)
		}
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header.Set("webhook-id", "evt_1")
		r.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
		r.Header.Set("webhook-signature", sig)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if want := map[bool]int{false: 200, true: 401}[forged]; w.Code != want {
			t.Errorf("forged %v: status %d, want %d", forged, w.Code, want)
		}
	}
}
`

// TestReceiverOutsideRepository builds and tests a receiver in a module of
// its own outside this repository, against the local SDK, the way a customer
// would after `go get github.com/agenthooks/agenthooks/webhook`: it must
// build with the SDK alone, on the Go version the SDK's go.mod names, and its
// go.sum must hold nothing of the server (no SQLite, no pgx, nothing at all).
func TestReceiverOutsideRepository(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds a module: not in -short")
	}
	sdk, err := filepath.Abs(filepath.Join("..", "..", "webhook"))
	if err != nil {
		t.Fatal(err)
	}
	sdkMod, err := os.ReadFile(filepath.Join(sdk, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sdkMod), "require") {
		t.Errorf("the SDK's go.mod requires modules; it must need the standard library only:\n%s", sdkMod)
	}
	dir := t.TempDir()
	goMod := "module example.com/receiver\n\ngo 1.22\n\n" +
		"require github.com/agenthooks/agenthooks/webhook v0.0.0-00010101000000-000000000000\n\n" +
		"replace github.com/agenthooks/agenthooks/webhook => " + sdk + "\n"
	for name, text := range map[string]string{"go.mod": goMod, "main.go": receiverMain, "main_test.go": receiverTest} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command: %v", err)
	}
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(goCmd, args...)
		cmd.Dir = dir
		// GOPROXY and the caches as set; no workspace (this repository's
		// go.work must not leak in), the local toolchain only.
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("build", "./...")
	run("vet", "./...")
	run("test", "-count=1", "./...")
	modules := strings.Fields(run("list", "-m", "-f", "{{.Path}}", "all"))
	if len(modules) != 2 || modules[0] != "example.com/receiver" || modules[1] != "github.com/agenthooks/agenthooks/webhook" {
		t.Errorf("go list -m all = %q, want the receiver and the SDK only", modules)
	}
	if sum, err := os.ReadFile(filepath.Join(dir, "go.sum")); err == nil && len(strings.TrimSpace(string(sum))) > 0 {
		t.Errorf("the receiver's go.sum holds modules:\n%s", sum)
	}
}
