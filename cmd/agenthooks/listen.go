package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/agenthooks/agenthooks/webhook"
	"github.com/agenthooks/agenthooks/webhook/signature"
)

// listenCmd is a receiver for development: it verifies each request's
// signature and prints the event; with --forward-to it passes verified
// requests, headers included, to a local app and answers with the app's status,
// so the platform's retries reach the app too (like `stripe listen`).
func listenCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("listen", stderr)
	secret := fs.String("secret", "", "the webhook's secret (whsec_...; required); old,new during a rotation")
	addr := fs.String("addr", "127.0.0.1:9000", "listen address")
	forward := fs.String("forward-to", "", "URL of a local app to forward verified events to")
	h := help{"agenthooks listen --secret whsec_... [--addr 127.0.0.1:9000] [--forward-to URL]",
		`A receiver for development: verifies each request's signature, prints the
event, and answers 200 (or, with --forward-to, what the app answers).`}
	if code, done := parseFlags(fs, args, h, stdout, stderr); done {
		return code
	}
	if *secret == "" {
		fmt.Fprintln(stderr, "agenthooks listen: --secret whsec_... is required (GET /api/v1/outbound_webhook/{id}/secret shows it)")
		return 2
	}
	if err := checkSecrets(*secret); err != nil {
		fmt.Fprintf(stderr, "agenthooks listen: --secret: %v\n", err)
		return 2
	}
	v, err := webhook.NewVerifier(*secret)
	if err != nil {
		fmt.Fprintf(stderr, "agenthooks listen: --secret: %v\n", err)
		return 2
	}
	if *forward != "" {
		if u, err := url.Parse(*forward); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			fmt.Fprintf(stderr, "agenthooks listen: --forward-to %q: must be an http(s) URL\n", *forward)
			return 2
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "agenthooks listen: %v\n", err)
		return 1
	}
	l := &listener{v: v, out: stdout, forward: *forward, seen: map[string]int{}, client: &http.Client{Timeout: 30 * time.Second}}
	srv := &http.Server{Handler: l, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "Listening on http://%s/ — use it as the webhook's endpoint (run serve with AGENTHOOKS_ALLOW_PRIVATE_ENDPOINTS=true).\n", ln.Addr())
	if *forward != "" {
		fmt.Fprintf(stdout, "Forwarding verified events to %s\n", *forward)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(stderr, "agenthooks listen: %v\n", err)
			return 1
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return 0
}

// minSecretBytes is the shortest key listen accepts: agenthooks makes 24
// random bytes, so anything much shorter is a typo or a placeholder.
const minSecretBytes = 16

// checkSecrets refuses what is not a webhook's secret as agenthooks shows it
// (whsec_ and base64 of 16 bytes or more), one or two of them comma-separated.
// The SDK accepts any base64 key; a development tool can be stricter, and say
// what is wrong before a first delivery fails.
func checkSecrets(secrets string) error {
	for i, s := range strings.Split(secrets, ",") {
		s = strings.TrimSpace(s)
		key, err := signature.ParseSecret(s)
		switch {
		case !strings.HasPrefix(s, signature.Prefix):
			err = fmt.Errorf("secret %d does not start with %s: copy it from the webhook's create response or GET /api/v1/outbound_webhook/{id}/secret", i+1, signature.Prefix)
		case err != nil:
			err = fmt.Errorf("secret %d: %w", i+1, err)
		case len(key) < minSecretBytes:
			err = fmt.Errorf("secret %d is %d bytes long, want at least %d: it is not one agenthooks made", i+1, len(key), minSecretBytes)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

type listener struct {
	v       *webhook.Verifier
	out     io.Writer
	forward string
	client  *http.Client
	mu      sync.Mutex
	seen    map[string]int
}

func (l *listener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := l.v.Verify(r)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now().Format("15:04:05")
	if err != nil {
		fmt.Fprintf(l.out, "%s  ✗ rejected %s: %v\n", now, r.Header.Get("webhook-id"), err)
		http.Error(w, "signature verification failed", http.StatusUnauthorized)
		return
	}
	id := r.Header.Get("webhook-id")
	l.seen[id]++
	ev, perr := webhook.Parse(body)
	typ := "(not an event)"
	if perr == nil {
		typ = ev.Type
	}
	retry := ""
	if n := l.seen[id]; n > 1 {
		retry = fmt.Sprintf(" (attempt %d)", n)
	}
	fmt.Fprintf(l.out, "%s  ✓ %s %s verified%s\n", now, typ, id, retry)
	var pretty bytes.Buffer
	if json.Indent(&pretty, body, "   ", "  ") == nil {
		fmt.Fprintf(l.out, "   %s\n", pretty.String())
	}
	status := http.StatusOK
	if l.forward != "" {
		status = l.forwardTo(r, body)
	}
	w.WriteHeader(status)
}

// forwardTo re-sends a verified request to the local app, with the signature
// headers so that the app can verify it too, and returns the app's status
// (502 if it could not be reached).
func (l *listener) forwardTo(r *http.Request, body []byte) int {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, l.forward, bytes.NewReader(body))
	if err != nil {
		fmt.Fprintf(l.out, "   → forward failed: %v\n", err)
		return http.StatusBadGateway
	}
	for k, vs := range r.Header {
		if strings.EqualFold(k, "Content-Length") || strings.EqualFold(k, "Connection") {
			continue
		}
		req.Header[k] = vs
	}
	resp, err := l.client.Do(req)
	if err != nil {
		fmt.Fprintf(l.out, "   → %s: %v\n", l.forward, err)
		return http.StatusBadGateway
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	fmt.Fprintf(l.out, "   → %s: %d\n", l.forward, resp.StatusCode)
	return resp.StatusCode
}
