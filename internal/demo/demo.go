// Package demo is `agenthooks demo`, the newcomer's first command: a server
// on a temporary SQLite database, a receiver on loopback that verifies every
// request with the webhook SDK, the set-up of Insighto's help article on
// webhooks (docs/wire-format.md) made through the HTTP API, its three stories
// played, and a webhook that fails twice to show retries. The receiver is in receiver.go, the stories in tour.go; the
// command's flags and the server's wiring are in cmd/agenthooks/demo.go.
package demo

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/agenthooks/agenthooks/internal/apiclient"
)

// Server is an agenthooks running in this process for the demo.
type Server struct {
	URL    string // its base URL, e.g. http://127.0.0.1:40123
	APIKey string // the key of the first account it created
	Stop   func() // stops it
}

// StartFunc starts an agenthooks server in this process configured by
// settings (AGENTHOOKS_* variables; nothing else is read), logging to logs.
type StartFunc func(ctx context.Context, settings map[string]string, logs io.Writer) (*Server, error)

// Options configure Run.
type Options struct {
	Addr          string          // the API's listen address; port 0 takes a free one
	ReceiverAddr  string          // the receiver's listen address
	Schedule      []time.Duration // the retry schedule, at least two delays
	LogLevel      string          // the server's log level; "" is warn
	ExitAfterTour bool            // return once the tour is done instead of at ctx's end
	Stdout        io.Writer       // where the tour is told
	Logs          io.Writer       // the server's log
	Start         StartFunc       // starts the server
}

// Run plays the tour, then keeps the server and the receiver running until
// ctx ends (Ctrl-C) unless ExitAfterTour. A ctx that ends during the tour is
// a clean stop (nil).
func Run(ctx context.Context, o Options) error {
	if len(o.Schedule) < 2 {
		return fmt.Errorf("the tour needs at least two retries in the schedule")
	}
	dir, err := os.MkdirTemp("", "agenthooks-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	dbPath := filepath.Join(dir, "demo.db")

	// The demo's own settings, whatever the environment says (a user's
	// AGENTHOOKS_DATABASE_URL must not receive the tour), except the log level.
	// Its receiver is on loopback, so private endpoints are allowed: egress
	// has no finer switch than that, and the server listens on loopback too.
	logLevel := "warn"
	if o.LogLevel != "" {
		logLevel = o.LogLevel
	}
	schedule := make([]string, len(o.Schedule))
	for i, d := range o.Schedule {
		schedule[i] = d.String()
	}
	srv, err := o.Start(ctx, map[string]string{
		"AGENTHOOKS_DATABASE_URL":            "sqlite:" + dbPath,
		"AGENTHOOKS_ADDR":                    o.Addr,
		"AGENTHOOKS_RETRY_SCHEDULE":          strings.Join(schedule, ","),
		"AGENTHOOKS_ALLOW_PRIVATE_ENDPOINTS": "true",
		"AGENTHOOKS_DELIVERY_TIMEOUT":        "5s",
		"AGENTHOOKS_SHUTDOWN_TIMEOUT":        "2s",
		"AGENTHOOKS_LOG_LEVEL":               logLevel,
	}, o.Logs)
	if err != nil {
		return err
	}
	defer srv.Stop()

	d := &session{
		out:      &output{w: o.Stdout},
		api:      apiclient.New(srv.URL, srv.APIKey, &http.Client{Timeout: 30 * time.Second}),
		schedule: o.Schedule,
		arrivals: make(chan arrival, 256),
		hooks:    map[string]http.Handler{},
		seen:     map[string]int{},
		firstTry: map[string]time.Time{},
	}
	ln, err := net.Listen("tcp", o.ReceiverAddr)
	if err != nil {
		return fmt.Errorf("receiver: %w", err)
	}
	d.receiverURL = "http://" + ln.Addr().String()
	rsrv := &http.Server{Handler: d, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = rsrv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = rsrv.Shutdown(sctx)
	}()

	base := srv.URL + "/api/v1"
	d.printf("agenthooks demo: webhooks for AI chat agents, end to end, on this machine.\n\n")
	d.printf("  API        %s\n", base)
	d.printf("  API key    %s   (the first account of this demo's server)\n", srv.APIKey)
	d.printf("  dashboard  %s/   (sign in with the API key above)\n", srv.URL)
	d.printf("  receiver   %s   (verifies every request with the webhook Go SDK)\n", d.receiverURL)
	d.printf("  database   %s   (temporary: removed on exit)\n", dbPath)
	d.printf("  retries    1 attempt now, then after %s (±20%%)\n\n", strings.Join(schedule, ","))

	tctx, cancelTour := context.WithTimeout(ctx, 2*time.Minute)
	err = d.tour(tctx)
	cancelTour()
	if err != nil {
		if ctx.Err() != nil {
			d.printf("\nStopped.\n")
			return nil
		}
		d.printf("\n✗ the tour failed: %v\n", err)
		return fmt.Errorf("the tour failed: %w", err)
	}

	d.printf("\nTour done. The server and the receiver keep running: whatever else is sent to the\n")
	d.printf("receiver is printed here. Look around in the dashboard, %s/ (API key %s), or with curl:\n\n", srv.URL, srv.APIKey)
	d.printf("  export API=%s KEY=%s\n", base, srv.APIKey)
	d.printf("  export ASSISTANT=%s WIDGET=%s FORM=%s\n", d.world.assistant, d.world.widget, d.world.form)
	d.printf("  curl -s \"$API/event?api_key=$KEY\"                  # every event sent\n")
	d.printf("  curl -s \"$API/event/%s?api_key=$KEY\"        # the conversation.closed above\n", d.world.lastEvent)
	d.printf("  curl -s \"$API/delivery/%s?api_key=$KEY\"   # the retried delivery, attempt by attempt\n", d.world.retried)
	d.printf("  # a conversation of your own (with jq); its conversation.closed is printed below:\n")
	d.printf("  CONV=$(curl -s \"$API/conversation?api_key=$KEY\" -d \"{\\\"assistant_id\\\": \\\"$ASSISTANT\\\", \\\"widget_id\\\": \\\"$WIDGET\\\", \\\"device_type\\\": \\\"desktop\\\"}\" | jq -r .data.id)\n")
	d.printf("  curl -s \"$API/conversation/$CONV/message?api_key=$KEY\" -d '{\"sender_type\": \"user\", \"text\": \"hello\"}'\n")
	d.printf("  curl -s -X POST \"$API/conversation/$CONV/close?api_key=$KEY\"\n\n")
	if o.ExitAfterTour {
		d.printf("--exit-after-tour: stopping.\n")
		return nil
	}
	d.printf("Press Ctrl-C to stop (the temporary database is removed).\n\n")
	<-ctx.Done()
	d.printf("\nStopped; removed %s.\n", dir)
	return nil
}
