-- The W3C traceparent of the span that stored the event (OpenTelemetry,
-- tracing/): a delivery attempt's span continues it, in whichever process
-- makes the attempt. '' when traces are off.
ALTER TABLE events ADD COLUMN traceparent TEXT NOT NULL DEFAULT '';
