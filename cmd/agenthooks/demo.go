package main

import (
	"context"
	"fmt"
	"io"

	"github.com/agenthooks/agenthooks/delivery"
	"github.com/agenthooks/agenthooks/internal/demo"
)

// demoCmd runs the tour of internal/demo on a server of its own.
func demoCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := newFlagSet("demo", stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen address of the API and the dashboard (port 0, the default: a free one; the URL is printed)")
	receiverAddr := fs.String("receiver-addr", "127.0.0.1:0", "listen address of the demo's receiver")
	schedule := fs.String("retry-schedule", "1s,2s,4s", "retry delays after the first attempt, comma-separated durations (at least two)")
	exitAfter := fs.Bool("exit-after-tour", false, "exit once the tour is done instead of running until Ctrl-C")
	h := help{"agenthooks demo [flags]",
		`A self-contained tour: a server on a temporary database, a local receiver
that verifies every signature, the conversations of Insighto's help article and a failing
endpoint being retried, printing verified events as they arrive.`}
	if code, done := parseFlags(fs, args, h, stdout, stderr); done {
		return code
	}
	delays, err := delivery.ParseSchedule(*schedule)
	if err != nil {
		fmt.Fprintf(stderr, "agenthooks demo: --retry-schedule %q: %v\n", *schedule, err)
		return 2
	}
	if len(delays) < 2 {
		fmt.Fprintf(stderr, "agenthooks demo: --retry-schedule %q: the tour needs at least two retries\n", *schedule)
		return 2
	}
	err = demo.Run(ctx, demo.Options{
		Addr: *addr, ReceiverAddr: *receiverAddr, Schedule: delays, LogLevel: getenv("AGENTHOOKS_LOG_LEVEL"),
		ExitAfterTour: *exitAfter, Stdout: stdout, Logs: stderr,
		Start: func(ctx context.Context, settings map[string]string, logs io.Writer) (*demo.Server, error) {
			a, first, err := startInProcess(ctx, "all", func(k string) string { return settings[k] }, logs)
			if err != nil {
				return nil, err
			}
			return &demo.Server{URL: a.URL(), APIKey: first.APIKey, Stop: a.stop}, nil
		},
	})
	if err != nil {
		fmt.Fprintf(stderr, "agenthooks demo: %v\n", err)
		return 1
	}
	return 0
}
