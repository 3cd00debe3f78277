package service

import (
	"context"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// traceWrite starts the span of one store write ("store write") under the
// caller's (the API request's), when s.Tracer is set: the events the write
// stores carry its trace context (sqlstore/trace.go), which each delivery
// attempt continues, in whichever process makes it. Without a tracer it
// costs nothing.
func (s *Service) traceWrite(ctx context.Context) (context.Context, func(error)) {
	if s.Tracer == nil {
		return ctx, func(error) {}
	}
	ctx, span := s.Tracer.Start(ctx, "store write", trace.WithSpanKind(trace.SpanKindInternal))
	return ctx, func(err error) {
		if err != nil {
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}
}
