package sqlstore

import (
	"context"

	"go.opentelemetry.io/otel/trace"
)

// traceparentOf is the W3C traceparent of the span in ctx, "" when there is
// none (traces off: the OpenTelemetry API's no-op costs a context lookup).
func traceparentOf(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return ""
	}
	return "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-" + sc.TraceFlags().String()
}

// WithTraceFrom makes the events this transaction stores carry the trace
// context of ctx (the caller's, where the engine runs the statements under
// a context of its own: SQLite's group commit).
func (tx *Tx) WithTraceFrom(ctx context.Context) *Tx {
	tx.traceparent = traceparentOf(ctx)
	return tx
}

// Traceparent is the trace context the transaction's events are stored
// with (service/handoff.go hands it to a worker of this process).
func (tx *Tx) Traceparent() string { return tx.traceparent }
