package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	collector "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/agenthooks/agenthooks/internal/testdb"
)

// otlpSink is an OTLP/HTTP trace receiver: POST /v1/traces with a protobuf
// ExportTraceServiceRequest, as the SDK's exporter sends it.
type otlpSink struct {
	srv   *httptest.Server
	mu    sync.Mutex
	spans []*tracepb.Span
	attrs map[string]string        // resource attributes seen
	roles map[*tracepb.Span]string // each span's process (resource attribute agenthooks.role)
}

func newOTLPSink(t *testing.T) *otlpSink {
	t.Helper()
	s := &otlpSink{attrs: map[string]string{}, roles: map[*tracepb.Span]string{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
			http.Error(w, "want POST /v1/traces (protobuf)", http.StatusBadRequest)
			return
		}
		b, _ := io.ReadAll(r.Body)
		var req collector.ExportTraceServiceRequest
		if err := proto.Unmarshal(b, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		for _, rs := range req.ResourceSpans {
			role := ""
			for _, kv := range rs.GetResource().GetAttributes() {
				s.attrs[kv.Key] = kv.GetValue().GetStringValue()
				if kv.Key == "agenthooks.role" {
					role = kv.GetValue().GetStringValue()
				}
			}
			for _, ss := range rs.ScopeSpans {
				s.spans = append(s.spans, ss.Spans...)
				for _, sp := range ss.Spans {
					s.roles[sp] = role
				}
			}
		}
		s.mu.Unlock()
		out, _ := proto.Marshal(&collector.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *otlpSink) find(name string) []*tracepb.Span {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*tracepb.Span
	for _, sp := range s.spans {
		if sp.Name == name {
			out = append(out, sp)
		}
	}
	return out
}

func spanAttr(sp *tracepb.Span, key string) any {
	for _, kv := range sp.Attributes {
		if kv.Key == key {
			switch v := kv.Value.Value.(type) {
			case *commonpb.AnyValue_StringValue:
				return v.StringValue
			case *commonpb.AnyValue_IntValue:
				return v.IntValue
			case *commonpb.AnyValue_DoubleValue:
				return v.DoubleValue
			}
		}
	}
	return nil
}

// TestTracing: with OTEL_EXPORTER_OTLP_ENDPOINT set, serve exports over
// OTLP/HTTP a server span per API request (method, route, status) and a
// span per delivery attempt (webhook id, status, duration, outcome), and
// with AGENTHOOKS_TRACEPARENT=true the receiver gets a traceparent of the
// attempt's span.
func TestTracing(t *testing.T) {
	t.Parallel()
	sink := newOTLPSink(t)
	var mu sync.Mutex
	var traceparent string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		traceparent = r.Header.Get("traceparent")
		mu.Unlock()
	}))
	defer recv.Close()
	a, apiKey, stop := launch(t, env{
		"AGENTHOOKS_DATABASE_URL":     "sqlite:" + filepath.Join(t.TempDir(), "tracing.db"),
		"OTEL_EXPORTER_OTLP_ENDPOINT": sink.srv.URL,
		"OTEL_SERVICE_NAME":           "agenthooks-test",
		"OTEL_RESOURCE_ATTRIBUTES":    "deployment.environment=test",
		"AGENTHOOKS_TRACEPARENT":      "true",
	})
	c := &client{t: t, base: a.URL(), key: apiKey}
	w := c.must(http.StatusCreated, "POST", "/outbound_webhook", map[string]any{"name": "traced", "endpoint": recv.URL})
	if att := testAttempt(t, c, w["id"].(string)); att["status_code"] != 200.0 {
		t.Fatalf("test attempt: %v", att)
	}
	stop() // flushes the batch

	api := sink.find("POST /api/v1/outbound_webhook/{id}/test")
	attempts := sink.find("delivery attempt")
	if len(api) != 1 || len(attempts) != 1 {
		sink.mu.Lock()
		var names []string
		for _, sp := range sink.spans {
			names = append(names, sp.Name)
		}
		sink.mu.Unlock()
		t.Fatalf("spans %q: want one API span of the test call and one attempt span", names)
	}
	if got := spanAttr(api[0], "http.response.status_code"); got != int64(200) {
		t.Errorf("API span status %v", got)
	}
	if got := spanAttr(api[0], "http.route"); got != "/api/v1/outbound_webhook/{id}/test" {
		t.Errorf("API span route %v", got)
	}
	at := attempts[0]
	if spanAttr(at, "agenthooks.webhook.id") != w["id"] || spanAttr(at, "agenthooks.outcome") != "succeeded" || spanAttr(at, "http.response.status_code") != int64(200) {
		t.Errorf("attempt span attributes %v", at.Attributes)
	}
	if d, _ := spanAttr(at, "agenthooks.duration_ms").(float64); d <= 0 || time.Duration(at.EndTimeUnixNano-at.StartTimeUnixNano) <= 0 {
		t.Errorf("attempt span has no duration: %v", at.Attributes)
	}
	mu.Lock()
	tp := traceparent
	mu.Unlock()
	parts := strings.Split(tp, "-")
	if len(parts) != 4 || parts[1] != hex.EncodeToString(at.TraceId) || parts[2] != hex.EncodeToString(at.SpanId) {
		t.Errorf("receiver's traceparent %q, want the attempt span's trace %x and span %x", tp, at.TraceId, at.SpanId)
	}
	checkLinked(t, sink, api[0], at)
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if sink.attrs["service.name"] != "agenthooks-test" || sink.attrs["deployment.environment"] != "test" {
		t.Errorf("resource attributes %v", sink.attrs)
	}
}

// TestTracingOff: without the OTEL_* variables nothing is traced and no
// traceparent is sent, even with AGENTHOOKS_TRACEPARENT=true.
func TestTracingOff(t *testing.T) {
	t.Parallel()
	got := make(chan string, 1)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- r.Header.Get("traceparent"):
		default:
		}
	}))
	defer recv.Close()
	a, apiKey, stop := launch(t, env{"AGENTHOOKS_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "off.db"), "AGENTHOOKS_TRACEPARENT": "true"})
	defer stop()
	if a.tracing != nil || a.pool.TracerSet() {
		t.Fatal("tracing is on without OTEL_EXPORTER_OTLP_ENDPOINT")
	}
	c := &client{t: t, base: a.URL(), key: apiKey}
	w := c.must(http.StatusCreated, "POST", "/outbound_webhook", map[string]any{"name": "untraced", "endpoint": recv.URL})
	testAttempt(t, c, w["id"].(string))
	if tp := <-got; tp != "" {
		t.Fatalf("traceparent %q sent with tracing off", tp)
	}
}

// checkLinked checks that attempt continues api's trace through the span
// that stored the event: api → store write → delivery attempt.
func checkLinked(t *testing.T, sink *otlpSink, api, attempt *tracepb.Span) {
	t.Helper()
	if !bytes.Equal(api.TraceId, attempt.TraceId) {
		t.Fatalf("the attempt's trace %x is not the API call's %x", attempt.TraceId, api.TraceId)
	}
	for _, w := range sink.find("store write") {
		if bytes.Equal(w.SpanId, attempt.ParentSpanId) {
			if !bytes.Equal(w.ParentSpanId, api.SpanId) {
				t.Fatalf("the store write %x is not the API span's child", w.SpanId)
			}
			return
		}
	}
	t.Fatalf("the attempt's parent %x is no store write span", attempt.ParentSpanId)
}

// TestTracingAcrossRoles: on PostgreSQL, the API call in a --role api
// process and the attempt in a --role worker process are one trace (the
// trace context stored with the event), both exported over OTLP.
func TestTracingAcrossRoles(t *testing.T) {
	t.Parallel()
	sink := newOTLPSink(t)
	recv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer recv.Close()
	e := env{"AGENTHOOKS_DATABASE_URL": testdb.PostgresURL(t), "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": sink.srv.URL + "/v1/traces"}
	api, key := startApp(t, e, "--role", "api")
	worker, _ := startAppQuiet(t, e, "--role", "worker")
	c := &client{t: t, base: api.URL(), key: key}
	w := c.must(http.StatusCreated, "POST", "/outbound_webhook", map[string]any{"name": "split", "endpoint": recv.URL})
	if att := testAttempt(t, c, w["id"].(string)); att["status_code"] != 200.0 {
		t.Fatalf("test attempt: %v", att)
	}
	for _, a := range []*app{api, worker} {
		if err := a.tracing.ForceFlush(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	apiSpans := sink.find("POST /api/v1/outbound_webhook/{id}/test")
	attempts := sink.find("delivery attempt")
	if len(apiSpans) != 1 || len(attempts) != 1 {
		t.Fatalf("%d API spans, %d attempt spans: want one of each", len(apiSpans), len(attempts))
	}
	sink.mu.Lock()
	apiRole, attemptRole := sink.roles[apiSpans[0]], sink.roles[attempts[0]]
	sink.mu.Unlock()
	if apiRole != "api" || attemptRole != "worker" {
		t.Fatalf("API span from %q, attempt from %q: want api and worker", apiRole, attemptRole)
	}
	checkLinked(t, sink, apiSpans[0], attempts[0])
}

// startAppQuiet is startApp for a process that prints nothing (a worker).
func startAppQuiet(t *testing.T, e env, args ...string) (*app, string) {
	t.Helper()
	e = mergeEnv(env{"AGENTHOOKS_ADDR": "127.0.0.1:0", "AGENTHOOKS_ALLOW_PRIVATE_ENDPOINTS": "true", "AGENTHOOKS_LOG_LEVEL": "warn"}, e)
	cfg := testConfig(t, e, args...)
	a, err := newApp(context.Background(), cfg, newLogger(cfg, testWriter{t}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a.start()
	t.Cleanup(a.stop)
	return a, ""
}
