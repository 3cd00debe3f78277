// Package agenthooks is the domain of the agenthooks webhook platform: the
// accounts, webhooks, assistants, widgets, forms, intents, contacts and
// conversations that an AI agent platform manages, and the events and
// deliveries that carry what the agents capture to customers' endpoints.
//
// Delivery semantics. An API call that fires an event stores the event and one
// delivery per routed webhook in the same database transaction as the call's
// own writes, and answers 2xx only once that transaction is committed and
// fsynced. The queue is that deliveries table: workers claim due rows under a
// lease, POST the event, record the attempt and schedule the next one. So an
// accepted event is delivered at least once to every webhook it was routed to,
// across crashes and restarts, or ends failed after the last attempt of the
// retry schedule (AGENTHOOKS_RETRY_SCHEDULE, counted from the end of the
// previous attempt, with up to ±20% jitter).
//
// Each delivery is retried on its own, so one failing event never holds back
// the next; receivers deduplicate on the webhook-id header, which is the event
// id and is the same on every attempt. Event ids are UUIDv7: sorting by id gives
// creation order.
//
// Signatures follow Standard Webhooks: webhook-signature carries
// "v1,"+base64(HMAC-SHA256(secret, id+"."+timestamp+"."+body)), keyed with the
// base64-decoded part of the webhook's "whsec_" secret.
//
// This package knows nothing of HTTP or SQL: the store packages (sqlite,
// postgres) implement Store, the service package implements the operations,
// and httpapi exposes them.
package agenthooks
