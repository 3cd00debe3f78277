package webhook_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/agenthooks/agenthooks/webhook"
	"github.com/agenthooks/agenthooks/webhook/signature"
)

// exampleSecret is a webhook's secret as agenthooks shows it.
const exampleSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// exampleSentAt is when the example deliveries were signed.
var exampleSentAt = time.Date(2024, 4, 5, 22, 26, 9, 0, time.UTC)

// exampleDelivery builds a request as agenthooks sends it, so that the
// examples are self-contained. A real receiver gets these from the network.
func exampleDelivery(body string) *http.Request {
	key, err := signature.ParseSecret(exampleSecret)
	if err != nil {
		log.Fatal(err)
	}
	var e struct{ ID string }
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		log.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/hooks", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(webhook.HeaderID, e.ID)
	r.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(exampleSentAt.Unix(), 10))
	r.Header.Set(webhook.HeaderSignature, signature.Sign(key, e.ID, exampleSentAt.Unix(), []byte(body)))
	return r
}

const formBody = `{"id": "018eb05e-7efd-7bef-a765-7bccbd9f39d9", "object": "event", "event": "captured_form.created",
"created_at": "2024-04-05 22:26:08", "data": {"form_id": "018eaff3-67cb-7d86-bb5e-65c952c8dc2a",
"form_name": "Leads", "widget_id": "018cd9c9-a864-7de1-98c0-6478c74b9c2b", "assistant_id": "018cd9c8-e317-7079-accd-17be51784256",
"field_values": {"name": "Smith Stevens", "email": "smith@example.com"}, "conversation_id": "018eb05d-cf6c-7631-8992-fd8377db4145",
"captured_form_id": "018eb05e-7177-7374-af12-66132614cb9f", "device_type": "desktop", "attributes": {}}}`

// A Verifier checks the signature and the age of a delivery; Parse and
// Decode turn the body into a typed event.
func ExampleVerifier_Verify() {
	v, err := webhook.NewVerifier(exampleSecret)
	if err != nil {
		log.Fatal(err)
	}
	v.Now = func() time.Time { return exampleSentAt } // in production, leave Now nil

	r := exampleDelivery(formBody)
	body, err := v.Verify(r)
	if err != nil {
		fmt.Println("rejected:", err)
		return
	}
	e, err := webhook.Parse(body)
	if err != nil {
		log.Fatal(err)
	}
	data, err := e.Decode()
	if err != nil {
		log.Fatal(err)
	}
	form := data.(*webhook.CapturedForm)
	fmt.Println(e.Type, form.FormName, form.FieldValues["email"])
	// Output: captured_form.created Leads smith@example.com
}

// A delivery replayed after the tolerance (5 minutes by default), or signed
// with another secret, is refused.
func ExampleVerifier_VerifyPayload() {
	r := exampleDelivery(formBody)
	body := []byte(formBody)

	late, err := webhook.NewVerifier(exampleSecret)
	if err != nil {
		log.Fatal(err)
	}
	late.Now = func() time.Time { return exampleSentAt.Add(10 * time.Minute) }
	err = late.VerifyPayload(body, r.Header)
	fmt.Println(errors.Is(err, webhook.ErrTimestampTooOld))

	other, err := webhook.NewVerifier("whsec_c2Vjb25kLXNlY3JldC1mb3Itcm90YXRpb24tdGVzdHM=")
	if err != nil {
		log.Fatal(err)
	}
	other.Now = func() time.Time { return exampleSentAt }
	err = other.VerifyPayload(body, r.Header)
	fmt.Println(err)
	// Output:
	// true
	// signature: no matching signature
}

// NewHandler verifies, parses and deduplicates; the function sees each event
// once, and its error decides whether the platform retries.
func ExampleNewHandler() {
	v, err := webhook.NewVerifier(exampleSecret)
	if err != nil {
		log.Fatal(err)
	}
	v.Now = func() time.Time { return exampleSentAt }

	h := webhook.NewHandler(v, func(ctx context.Context, e *webhook.Event) error {
		data, err := e.Decode()
		if err != nil {
			return webhook.Permanent(err) // 400: this delivery will never decode
		}
		switch d := data.(type) {
		case *webhook.CapturedForm:
			fmt.Println("new lead:", d.FieldValues["name"])
		case *webhook.Conversation:
			fmt.Println("conversation", d.ConversationID, "has", d.ChatCount, "messages")
		case json.RawMessage: // a type of the platform's own (or a newer one): its data as sent
			fmt.Println(e.Type, "data:", string(d))
		}
		return nil // 200; an error would answer 500 and the delivery would be retried
	})
	// In a server: http.Handle("POST /hooks", h)

	for range 2 { // the second delivery of the same event is acknowledged, not processed
		w := httptest.NewRecorder()
		h.ServeHTTP(w, exampleDelivery(formBody))
		fmt.Println(w.Code)
	}

	unsigned := httptest.NewRequest(http.MethodPost, "/hooks", strings.NewReader(formBody))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, unsigned)
	fmt.Println(w.Code)
	// Output:
	// new lead: Smith Stevens
	// 200
	// 200
	// 401
}

// Decode returns a pointer to the struct of the event's type.
func ExampleEvent_Decode() {
	e, err := webhook.Parse([]byte(`{"id": "018ec93a-1393-7002-a528-199c149be8e3", "object": "event",
	"event": "conversation.closed", "created_at": "2024-04-10 18:16:50", "data": {"widget_id": "w",
	"chat_count": 2, "contact_id": null, "device_type": "desktop", "assistant_id": "a",
	"first_message": "User: hi", "conversation_id": "c", "attributes": {}, "transcript": [
	{"id": "m1", "conversation_id": "c", "sender_type": "user", "message_type": "text", "text": "hi",
	 "voice_base64": null, "data_sources": null, "created_at": "2024-04-10 18:15:02", "updated_at": "2024-04-10 18:15:02", "char_count": 2},
	{"id": "m2", "conversation_id": "c", "sender_type": "bot", "message_type": "text", "text": "Hello! How can I help?",
	 "voice_base64": null, "data_sources": null, "created_at": "2024-04-10 18:15:03", "updated_at": "2024-04-10 18:15:03", "char_count": 22}]}}`))
	if err != nil {
		log.Fatal(err)
	}
	created, err := e.CreatedTime()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(e.Type, "at", created.Format(time.RFC3339))

	data, err := e.Decode()
	if err != nil {
		log.Fatal(err)
	}
	switch c := data.(type) {
	case *webhook.Conversation:
		fmt.Println("contact:", c.ContactID == nil)
		for _, m := range c.Transcript {
			fmt.Printf("%s: %s\n", m.SenderType, m.Text)
		}
	}
	// Output:
	// conversation.closed at 2024-04-10T18:16:50Z
	// contact: true
	// user: hi
	// bot: Hello! How can I help?
}

// A SQLDeduper keeps processed ids in your database, so that replicas and
// restarts share them. Any database/sql driver for SQLite or PostgreSQL works;
// this one needs a driver registered as "sqlite" (import _ "modernc.org/sqlite").
// The SDK requires no driver, so this example is compiled, not run here; the
// server's module runs it, driver and all, in internal/sdktest.
func ExampleNewSQLDeduper() {
	dir, err := os.MkdirTemp("", "receiver")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "receiver.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	ctx := context.Background()
	dedup, err := webhook.NewSQLDeduper(ctx, db)
	if err != nil {
		log.Fatal(err)
	}

	v, err := webhook.NewVerifier(exampleSecret)
	if err != nil {
		log.Fatal(err)
	}
	v.Now = func() time.Time { return exampleSentAt }
	calls := 0
	h := webhook.NewHandler(v, func(ctx context.Context, e *webhook.Event) error {
		calls++
		if calls == 1 {
			return errors.New("CRM unavailable") // 500: not marked as seen
		}
		return nil
	}, webhook.WithDeduper(dedup))

	for range 3 { // the platform retries after the 500; the third copy is a duplicate
		w := httptest.NewRecorder()
		h.ServeHTTP(w, exampleDelivery(formBody))
		fmt.Print(w.Code, " ")
	}
	fmt.Println("calls:", calls)
	// Prints: 500 200 200 calls: 2
}

// Handling a delivery by hand, without NewHandler.
func ExampleVerifier_Verify_manual() {
	v, err := webhook.NewVerifier(exampleSecret)
	if err != nil {
		log.Fatal(err)
	}
	v.Now = func() time.Time { return exampleSentAt }

	mux := http.NewServeMux()
	mux.HandleFunc("POST /hooks", func(w http.ResponseWriter, r *http.Request) {
		body, err := v.Verify(r)
		if err != nil {
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		e, err := webhook.Parse(body)
		if err != nil {
			http.Error(w, "not an event", http.StatusBadRequest)
			return
		}
		fmt.Println("received", e.Type, e.ID == r.Header.Get(webhook.HeaderID))
	})

	w := httptest.NewRecorder()
	mux.ServeHTTP(w, exampleDelivery(formBody))
	fmt.Println(w.Code)
	bad := exampleDelivery(formBody)
	bad.Body = io.NopCloser(strings.NewReader(`{"id":"forged"}`))
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, bad)
	fmt.Println(w.Code)
	// Output:
	// received captured_form.created true
	// 200
	// 401
}
