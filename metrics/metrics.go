// Package metrics is agenthooks' Prometheus instrumentation
// (github.com/prometheus/client_golang): the counters and histogram of this
// process (events created, delivery attempts by outcome and their duration,
// circuits open), the queue as the store sees it (deliveries by status, the
// age of the most overdue due delivery), and the standard go_* and
// process_* series. Handler serves them at /metrics.
//
// Nothing here scans a table per scrape: the deliveries by status come from
// counters the store maintains and the oldest due from the due-order index
// (agenthooks.QueueStats), read at most once per CacheFor whatever the
// number of scrapers.
//
// Metrics implements the delivery pool's observer (AttemptFinished,
// CircuitChanged) and the service's event observer (EventCreated) without
// importing either package.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/agenthooks/agenthooks"
)

// Attempt outcomes, the values of agenthooks_delivery_attempts_total's
// outcome label.
const (
	OutcomeSucceeded = "succeeded" // a 2xx
	OutcomeFailed    = "failed"    // a non-2xx answer or a connection error
	OutcomeTimeout   = "timeout"   // no complete answer within the delivery timeout
	OutcomeBlocked   = "blocked"   // refused before sending (a private address, egress policy)
)

// Outcomes lists the attempt outcomes.
var Outcomes = []string{OutcomeSucceeded, OutcomeFailed, OutcomeTimeout, OutcomeBlocked}

// DurationBuckets are the attempt-duration histogram's buckets, in seconds:
// webhook receivers answer in milliseconds when healthy, and up to the
// delivery timeout (15 s by default; 30 s covers a raised one) when not.
var DurationBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15, 30}

// Options configure Metrics. Zero values take the defaults.
type Options struct {
	// Store is read for the queue gauges; nil leaves them out.
	Store agenthooks.Store
	// CacheFor is how long one reading of the store serves scrapes
	// (default 5s).
	CacheFor time.Duration
	// Version, Role label agenthooks_build_info.
	Version, Role string
	// Logger receives failures to read the store, at debug (the outage
	// itself is reported by agenthooks_up and /readyz).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Metrics holds one process's metrics. Build it with New.
type Metrics struct {
	reg      *prometheus.Registry
	events   *prometheus.CounterVec
	attempts *prometheus.CounterVec
	duration prometheus.Histogram

	circuitMu sync.Mutex
	open      map[string]bool
	circuits  prometheus.Gauge

	ownMu sync.Mutex
	own   map[string]bool // the own event types with a label of their own
}

// New registers the metrics on a registry of their own.
func New(o Options) *Metrics {
	if o.CacheFor <= 0 {
		o.CacheFor = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "agenthooks_events_total",
			Help: "Events created by this process, by event type.",
		}, []string{"event"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "agenthooks_delivery_attempts_total",
			Help: "Delivery attempts made by this process, by outcome (succeeded, failed, timeout, blocked).",
		}, []string{"outcome"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "agenthooks_delivery_attempt_duration_seconds",
			Help:    "Duration of delivery attempts made by this process, from connect to the answer's last byte.",
			Buckets: DurationBuckets,
		}),
		open: map[string]bool{},
		circuits: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "agenthooks_webhooks_circuit_open",
			Help: "Webhooks whose circuit is open in this process (attempts paused after consecutive failures).",
		}),
	}
	// Every series exists from the start, so that rate() and alerts see a
	// zero rather than nothing.
	for _, e := range agenthooks.EventTypes {
		m.events.WithLabelValues(e)
	}
	for _, o := range Outcomes {
		m.attempts.WithLabelValues(o)
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "agenthooks_build_info",
		Help:        "The running version, store and role (always 1).",
		ConstLabels: prometheus.Labels{"version": o.Version, "role": o.Role, "store": engine(o.Store)},
	})
	build.Set(1)
	m.reg.MustRegister(m.events, m.attempts, m.duration, m.circuits, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if o.Store != nil {
		m.reg.MustRegister(newQueueCollector(o))
	}
	return m
}

func engine(s agenthooks.Store) string {
	if s == nil {
		return ""
	}
	return s.Engine()
}

// Registry returns the registry, for collectors of other components.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// MaxOwnEventLabels is how many distinct names of accounts' own event types
// agenthooks_events_total labels per process; events of further own types
// count under OtherEventLabel. The built-in types are always their own
// label. Accounts name their types freely: without a cap a platform's
// customers could grow the series without end (docs/events.md).
const MaxOwnEventLabels = 100

// OtherEventLabel is the event label of own types past MaxOwnEventLabels.
const OtherEventLabel = "other"

// EventCreated counts an event of type eventType.
func (m *Metrics) EventCreated(eventType string) {
	m.events.WithLabelValues(m.eventLabel(eventType)).Inc()
}

func (m *Metrics) eventLabel(eventType string) string {
	if _, ok := agenthooks.LookupEventType(eventType); ok {
		return eventType
	}
	m.ownMu.Lock()
	defer m.ownMu.Unlock()
	if m.own[eventType] {
		return eventType
	}
	if len(m.own) >= MaxOwnEventLabels {
		return OtherEventLabel
	}
	if m.own == nil {
		m.own = map[string]bool{}
	}
	m.own[eventType] = true
	return eventType
}

// AttemptFinished counts an attempt with its outcome (one of Outcomes;
// anything else counts as failed) and records its duration. webhookID is
// not a label: one series per webhook would not scale to many accounts.
func (m *Metrics) AttemptFinished(webhookID, outcome string, d time.Duration) {
	switch outcome {
	case OutcomeSucceeded, OutcomeFailed, OutcomeTimeout, OutcomeBlocked:
	default:
		outcome = OutcomeFailed
	}
	m.attempts.WithLabelValues(outcome).Inc()
	m.duration.Observe(d.Seconds())
}

// CircuitChanged records that webhookID's circuit opened or closed.
func (m *Metrics) CircuitChanged(webhookID string, open bool) {
	m.circuitMu.Lock()
	defer m.circuitMu.Unlock()
	if open {
		m.open[webhookID] = true
	} else {
		delete(m.open, webhookID)
	}
	m.circuits.Set(float64(len(m.open)))
}

// queueCollector reads the queue from the store, at most once per cacheFor.
type queueCollector struct {
	o          Options
	deliveries *prometheus.Desc
	oldest     *prometheus.Desc
	up         *prometheus.Desc

	mu   sync.Mutex
	at   time.Time // of the last reading
	st   *agenthooks.QueueStats
	err  error
	read time.Time // the store's "now" of the last reading
}

func newQueueCollector(o Options) *queueCollector {
	return &queueCollector{
		o:          o,
		deliveries: prometheus.NewDesc("agenthooks_deliveries", "Deliveries in the store (every process's) by status.", []string{"status"}, nil),
		oldest: prometheus.NewDesc("agenthooks_queue_oldest_due_seconds",
			"How late the most overdue pending delivery of an enabled webhook is, in seconds (0 if none is due); a delivery held back by its circuit, cap or rate limit counts from when it first fell due.", nil, nil),
		up: prometheus.NewDesc("agenthooks_up", "Whether the store answered the last reading of the queue (1) or not (0).", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.deliveries
	ch <- c.oldest
	ch <- c.up
}

// Collect implements prometheus.Collector.
func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.o.Now()
	if c.at.IsZero() || now.Sub(c.at) >= c.o.CacheFor {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		var st *agenthooks.QueueStats
		err := c.o.Store.Read(ctx, func(tx agenthooks.Tx) error {
			var err error
			st, err = tx.QueueStats(tx.Now())
			return err
		})
		cancel()
		c.at, c.err, c.read = now, err, now
		if err != nil {
			c.o.Logger.Debug("metrics: read the queue", slog.Any("error", err))
		} else {
			c.st = st
		}
	}
	if c.err != nil || c.st == nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	for _, s := range agenthooks.DeliveryStatuses {
		ch <- prometheus.MustNewConstMetric(c.deliveries, prometheus.GaugeValue, float64(c.st.Deliveries[s]), s)
	}
	late := 0.0
	if !c.st.OldestDue.IsZero() {
		// As of this scrape: a cached reading still ages.
		late = max(0, now.Sub(c.st.OldestDue).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, late)
}
