// Package webhook is the Go SDK for receivers of agenthooks deliveries: it
// verifies their Standard Webhooks signatures, parses the events into typed
// structs and deduplicates retries.
//
// The quickest way in is NewHandler, an http.Handler that does all three and
// turns the outcome of your function into the status code the platform
// understands:
//
//	v, err := webhook.NewVerifier(os.Getenv("WEBHOOK_SECRET")) // "whsec_..."
//	if err != nil { ... }
//	http.Handle("POST /hooks", webhook.NewHandler(v, func(ctx context.Context, e *webhook.Event) error {
//		data, err := e.Decode()
//		if err != nil {
//			return webhook.Permanent(err) // 400: retrying will not help
//		}
//		switch d := data.(type) {
//		case *webhook.CapturedForm:
//			return saveLead(ctx, d.FieldValues) // an error answers 500 and the delivery is retried
//		}
//		return nil // 200
//	}))
//
// agenthooks delivers each event at least once and retries failed attempts
// for about a day, so the same event (the same webhook-id header, which is also
// Event.ID) can arrive more than once. The handler remembers processed ids in
// a Deduper: in memory by default (NewMemoryDeduper), or in your database with
// NewSQLDeduper so that several replicas and restarts share what was seen. A
// delivery whose function failed is not remembered, so its retry runs again.
//
// During a secret rotation agenthooks signs with both the old and the new
// secret for 24 hours; pass both to NewVerifier (as two arguments, or as one
// "old,new" string) and deliveries keep verifying throughout.
//
// To verify by hand, call Verifier.Verify on the request (or VerifyPayload on
// a body you already read) and then Parse the body.
//
// This is a module of its own, github.com/agenthooks/agenthooks/webhook, that
// needs Go 1.22 and the standard library only: requiring it brings nothing of
// the server into a receiver's go.sum. The signature scheme itself is its
// package signature, which the server signs with; dedupetest is the
// conformance suite for a Deduper of your own.
package webhook
