package main

import (
	"context"
	"fmt"
	"io"

	"github.com/agenthooks/agenthooks/internal/bench"
	"github.com/agenthooks/agenthooks/internal/destbench"
)

// benchHelp is bench's --help.
var benchHelp = help{"agenthooks bench --events N --webhooks M [--database-url URL] [--rate R] [--worker-processes K] [flags]",
	`The throughput benchmark. It starts its own server in this process (on a
fresh SQLite file by default; on a postgres:// server it creates a database
of its own and drops it after) and a receiver on loopback, and measures:
  raw         plain keep-alive POSTs of the same bodies to the receiver, best of
              16, 64 and 256 connections: the machine's ceiling;
  end to end  N conversations closed through the API by concurrent clients, each
              close one conversation.closed event delivered to one of the M
              webhooks; from the first close to the last arrival;
  drain       N more events accepted while delivery is paused, then from
              resuming to the last arrival.
Progress goes to stderr; the last line of stdout is one JSON object. The
AGENTHOOKS_* settings of the delivery workers (AGENTHOOKS_WORKERS,
AGENTHOOKS_WEBHOOK_MAX_IN_FLIGHT, AGENTHOOKS_DELIVERY_TIMEOUT, ...) apply.
With --worker-processes K (PostgreSQL only) the server in this process is
the API alone and K child processes of this binary ('serve --role worker'
on the bench's database, each on its own loopback port) deliver; they are
stopped at the end, and the JSON gains their summed peak RSS.
With --destination rabbitmq|nats|redis it drains N events to that broker
instead (a consumer of its own counts them) and, in the same run, measures
a plain publisher that waits for each confirmation: the JSON line has
drain_per_s and broker_publish_per_s.
With --filter every webhook has a filter that every event matches, so the
deliveries are the same and the figures carry its cost; the JSON line has
"filter": true.`}

// benchCmd runs internal/bench against an agenthooks of its own.
func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := newFlagSet("bench", stderr)
	o := bench.Options{Getenv: getenv, Progress: stderr, Start: startBenchServer}
	fs.IntVar(&o.Events, "events", 20000, "events per phase (end to end, and drain)")
	fs.IntVar(&o.Webhooks, "webhooks", 10, "webhooks, one per assistant, each receiving 1/M of the events")
	fs.StringVar(&o.DatabaseURL, "database-url", "", "a postgres:// server to create the bench's database on (empty: a fresh SQLite file)")
	fs.Float64Var(&o.Rate, "rate", 0, "close calls per second in the end-to-end phase (0: as fast as the clients go)")
	fs.DurationVar(&o.Timeout, "timeout", 0, "bound on the whole run (0: 2m plus 2ms per event)")
	fs.IntVar(&o.Clients, "clients", 64, "concurrent API clients closing conversations")
	fs.IntVar(&o.RawPosts, "raw-posts", 0, "POSTs per raw run (0: the number of events, at least 50000, at most 100000)")
	fs.DurationVar(&o.ReceiverLatency, "receiver-latency", 0, "the receiver waits this long before answering each request (e.g. 50ms)")
	fs.IntVar(&o.BadEndpoints, "bad-endpoints", 0, "extra webhooks whose endpoint hangs until the delivery timeout; they get 1/M of the events each, not counted in the figures")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the end-to-end and drain phases to this file")
	fs.StringVar(&o.MemProfile, "memprofile", "", "write an allocation profile (all allocations of the run) to this file at the end")
	fs.IntVar(&o.WorkerProcesses, "worker-processes", 0, "run the delivery workers as this many 'serve --role worker' child processes (PostgreSQL only; 0: in this process)")
	fs.BoolVar(&o.Filter, "filter", false, "give every webhook a filter that every event matches (docs/events.md), to measure its cost")
	fs.StringVar(&o.PprofAddr, "pprof", "", "serve net/http/pprof on this loopback address while running (e.g. 127.0.0.1:6060)")
	fs.StringVar(&o.Transform, "transform", "", "every webhook runs this transformation template: slack, discord, teams or google_chat (the JSON line reports it)")
	// bench_destination.go
	var dest destbench.Options
	fs.StringVar(&dest.Destination, "destination", "", "drain to a broker instead: rabbitmq, nats or redis (docs/destinations.md)")
	fs.StringVar(&dest.BrokerURL, "broker-url", "", "the broker's URL with --destination (default: the local server)")
	egressProxy := fs.String("egress-proxy", "", "send every delivery through this forward proxy (AGENTHOOKS_EGRESS_PROXY), to measure its hop")
	if code, done := parseFlags(fs, args, benchHelp, stdout, stderr); done {
		return code
	}
	if dest.Destination != "" {
		dest.Events, dest.Webhooks, dest.Progress = o.Events, o.Webhooks, stderr
		return benchDestination(ctx, dest, stdout, stderr, getenv)
	}
	if *egressProxy != "" {
		o.Getenv = withEnv(getenv, "AGENTHOOKS_EGRESS_PROXY", *egressProxy)
	}
	if err := o.Validate(); err != nil {
		fmt.Fprintf(stderr, "agenthooks bench: %v\n", err)
		return 2
	}
	res, err := bench.Run(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "agenthooks bench: %v\n", err)
		return 1
	}
	return printJSON(stdout, res)
}

// startBenchServer starts the bench's server in this process: the whole
// agenthooks (role "all"), or its API alone (role "api").
func startBenchServer(ctx context.Context, role string, getenv func(string) string, logs io.Writer) (*bench.Server, error) {
	a, first, err := startInProcess(ctx, role, getenv, logs)
	if err != nil {
		return nil, err
	}
	var delivery bench.Pauser
	if a.pool != nil { // not a nil *delivery.Pool in the interface
		delivery = a.pool
	}
	return &bench.Server{
		URL: a.URL(), APIKey: first.APIKey, AccountID: first.ID,
		Store: a.store, Service: a.svc, Delivery: delivery,
		Workers: a.cfg.Workers, MaxInFlightPerWebhook: a.cfg.WebhookMaxInFlight,
		UserAgent: "agenthooks/" + version(),
		Stop:      a.stop,
	}, nil
}
