// Command agenthooks is the webhook platform in one binary: the API, the
// delivery workers and the tools around them (docs/api.md lists the commands).
// Each command is one file here; the bench and the demo live in
// internal/bench and internal/demo.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := notifyContext(context.Background())
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// errInterrupted is the cause of run's context on Ctrl-C (SIGINT): a person
// at a terminal, not an orchestrator, so serve stops without the readiness
// grace that SIGTERM gets (load balancers are not watching a terminal).
var errInterrupted = errors.New("interrupted (Ctrl-C)")

// notifyContext is signal.NotifyContext for SIGINT and SIGTERM, with
// errInterrupted as the cause on SIGINT.
func notifyContext(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-ch:
			if s == os.Interrupt {
				cancel(errInterrupted)
			} else {
				cancel(fmt.Errorf("%s signal received", s))
			}
		case <-ctx.Done():
		}
	}()
	return ctx, func() { signal.Stop(ch); cancel(context.Canceled) }
}

const usage = `agenthooks: webhooks for AI chat and voice agents

Usage:
  agenthooks serve [--role all|api|worker] [flags]   run the API and delivery workers
  agenthooks account create --name NAME               create an account, print its API key
  agenthooks account rotate-key --id ID               replace an account's API keys
  agenthooks account list                             list the accounts, oldest first
  agenthooks migrate                                  apply schema migrations and exit
  agenthooks listen --secret whsec_... [--addr A]     a development receiver: verify and print events
  agenthooks demo                                     a self-contained tour: server, receiver, sample conversations
  agenthooks bench --events N --webhooks M [--database-url URL] [--rate R]
                                                      the throughput benchmark: raw, end to end, drain
  agenthooks version                                  print the version

Run 'agenthooks COMMAND --help' for a command's flags. Every flag of serve also
reads an environment variable (AGENTHOOKS_ADDR for --addr, and so on).
`

// run is the whole program; main only wires the process to it, so tests can
// call it with their own arguments, output and environment.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serveCmd(ctx, rest, stdout, stderr, getenv)
	case "account":
		return accountCmd(ctx, rest, stdout, stderr, getenv)
	case "migrate":
		return migrateCmd(ctx, rest, stdout, stderr, getenv)
	case "listen":
		return listenCmd(ctx, rest, stdout, stderr)
	case "demo":
		return demoCmd(ctx, rest, stdout, stderr, getenv)
	case "bench":
		return benchCmd(ctx, rest, stdout, stderr, getenv)
	case "version":
		return versionCmd(rest, stdout, stderr)
	case "--version", "-version":
		fmt.Fprintln(stdout, "agenthooks", version())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "agenthooks: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
}
