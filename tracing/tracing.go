// Package tracing exports OpenTelemetry traces over OTLP/HTTP with the
// official Go SDK: a span per API request and per delivery attempt. It is
// off unless the standard variables ask for it (Enabled), and off costs
// nothing: no provider, no spans, the pool's tracer hook stays nil.
package tracing

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/delivery"
)

// Enabled reports whether the standard OTEL_* variables turn traces on:
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT set, or
// OTEL_TRACES_EXPORTER=otlp (the SDK's default endpoint then); never when
// OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none.
func Enabled(getenv func(string) string) bool {
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER"))) {
	case "none":
		return false
	case "otlp":
		return true
	}
	return getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != ""
}

// Options configures New.
type Options struct {
	// Getenv reads the OTEL_* variables (os.Getenv in serve).
	Getenv func(string) string
	// Role is serve's --role, a resource attribute (agenthooks.role).
	Role string
	// Version is the service.version.
	Version string
	// Traceparent sends a W3C traceparent header with each delivery
	// (AGENTHOOKS_TRACEPARENT).
	Traceparent bool
}

// Tracing is a running tracer provider and its exporter.
type Tracing struct {
	tp          *sdktrace.TracerProvider
	tracer      trace.Tracer
	prop        propagation.TextMapPropagator
	traceparent bool
}

// New starts the provider, or returns nil when Enabled is false. The
// exporter reads the OTLP variables the SDK documents itself
// (OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _COMPRESSION, ...); the endpoint is
// read through Getenv, so that tests need not change the process's
// environment: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is the full URL,
// OTEL_EXPORTER_OTLP_ENDPOINT a base URL that /v1/traces is appended to.
// The sampler is OTEL_TRACES_SAMPLER's (the SDK's default: parentbased_always_on),
// the resource OTEL_SERVICE_NAME's and OTEL_RESOURCE_ATTRIBUTES' over
// service.name=agenthooks.
func New(ctx context.Context, o Options) (*Tracing, error) {
	if o.Getenv == nil || !Enabled(o.Getenv) {
		return nil, nil
	}
	var opts []otlptracehttp.Option
	if u := o.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"); u != "" {
		opts = append(opts, otlptracehttp.WithEndpointURL(u))
	} else if u := o.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT"); u != "" {
		opts = append(opts, otlptracehttp.WithEndpointURL(strings.TrimRight(u, "/")+"/v1/traces"))
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("otlp trace exporter: %w", err)
	}
	attrs := []attribute.KeyValue{semconv.ServiceName("agenthooks"), semconv.ServiceVersion(o.Version), attribute.String("agenthooks.role", o.Role)}
	if name := o.Getenv("OTEL_SERVICE_NAME"); name != "" {
		attrs[0] = semconv.ServiceName(name)
	}
	res, err := resource.Merge(resource.NewSchemaless(attrs...), resource.NewSchemaless(resourceAttributes(o.Getenv("OTEL_RESOURCE_ATTRIBUTES"))...))
	if err != nil {
		return nil, fmt.Errorf("trace resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return &Tracing{tp: tp, tracer: tp.Tracer("github.com/agenthooks/agenthooks"), prop: propagation.TraceContext{}, traceparent: o.Traceparent}, nil
}

// resourceAttributes parses OTEL_RESOURCE_ATTRIBUTES (key=value,...).
func resourceAttributes(s string) []attribute.KeyValue {
	var kv []attribute.KeyValue
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(part, "=")
		if k = strings.TrimSpace(k); ok && k != "" {
			kv = append(kv, attribute.String(k, strings.TrimSpace(v)))
		}
	}
	return kv
}

// Shutdown flushes the spans still batched and stops the exporter.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.tp.Shutdown(ctx)
}

// ForceFlush exports the spans batched so far.
func (t *Tracing) ForceFlush(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.tp.ForceFlush(ctx)
}

// Tracer is the provider's tracer (service.Service.Tracer), nil when t is.
func (t *Tracing) Tracer() trace.Tracer {
	if t == nil {
		return nil
	}
	return t.tracer
}

// Handler wraps next in a server span per request: "METHOD route" with the
// method, the route pattern and the status. A traceparent the client sent
// is continued.
func (t *Tracing) Handler(next http.Handler) http.Handler {
	if t == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := t.prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := t.tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(semconv.HTTPRequestMethodKey.String(r.Method), semconv.URLPath(r.URL.Path)))
		defer span.End()
		rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		r = r.WithContext(ctx)
		next.ServeHTTP(rec, r)
		route := r.Pattern // set by the ServeMux that served r
		if _, p, ok := strings.Cut(route, " "); ok {
			route = p
		}
		if route == "" {
			route = "unmatched"
		}
		span.SetName(r.Method + " " + route)
		span.SetAttributes(semconv.HTTPRoute(route), semconv.HTTPResponseStatusCode(rec.status))
		if rec.status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(rec.status))
		}
	})
}

// statusWriter records the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the writer (flush, deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// AttemptTracer is the delivery pool's tracer (delivery.Options.Tracer), or
// nil when t is nil: a nil interface, so that the pool skips tracing
// altogether.
func (t *Tracing) AttemptTracer() delivery.AttemptTracer {
	if t == nil {
		return nil
	}
	return attemptTracer{t}
}

type attemptTracer struct{ t *Tracing }

// StartAttempt starts a client span for one attempt of j.
func (a attemptTracer) StartAttempt(j *agenthooks.Job) delivery.AttemptSpan {
	// The event's trace context, stored with it (sqlstore/trace.go): the
	// attempt is a child of the span that stored the event, whichever
	// process stored it.
	ctx := context.Background()
	if j.Traceparent != "" {
		ctx = a.t.prop.Extract(ctx, propagation.MapCarrier{"traceparent": j.Traceparent})
	}
	_, span := a.t.tracer.Start(ctx, "delivery attempt", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			attribute.String("agenthooks.webhook.id", j.Delivery.WebhookID),
			attribute.String("agenthooks.delivery.id", j.Delivery.ID),
			attribute.String("agenthooks.event.id", j.Delivery.EventID),
			attribute.Int("agenthooks.attempt", j.Delivery.AttemptCount+1),
		))
	return &attemptSpan{span: span, t: a.t}
}

type attemptSpan struct {
	span trace.Span
	t    *Tracing
}

// Inject writes the span's traceparent on the request when
// AGENTHOOKS_TRACEPARENT is on.
func (s *attemptSpan) Inject(h http.Header) {
	if !s.t.traceparent {
		return
	}
	s.t.prop.Inject(trace.ContextWithSpan(context.Background(), s.span), propagation.HeaderCarrier(h))
}

// End records the outcome and ends the span.
func (s *attemptSpan) End(outcome string, status int, d time.Duration, err error) {
	s.span.SetAttributes(attribute.String("agenthooks.outcome", outcome), attribute.Float64("agenthooks.duration_ms", float64(d)/float64(time.Millisecond)))
	if status != 0 {
		s.span.SetAttributes(semconv.HTTPResponseStatusCode(status))
	}
	if outcome != delivery.OutcomeSucceeded {
		msg := outcome
		if err != nil {
			msg = err.Error()
		}
		s.span.SetStatus(codes.Error, msg)
	}
	s.span.End()
}
