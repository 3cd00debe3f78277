package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/internal/heapmeter"
	"github.com/agenthooks/agenthooks/payload"
	"github.com/agenthooks/agenthooks/service"
)

// maxListHeap is the most heap the largest page a client can ask for may
// take: GET /event?size=100 of events whose envelopes all have the maximal
// size. Held whole, such a page takes several times its 25 MiB of payloads
// (the audit measured 104 MB answers and 1.56 GB of RSS for three
// at once).
const maxListHeap = 16 << 20

// TestLargestPageHeap measures the peak heap while GET /event?size=100
// answers a page of 100 maximal events, and fails above maxListHeap. It does
// not run in parallel: no other test may allocate while it measures.
func TestLargestPageHeap(t *testing.T) {
	b := setup(t)
	acct, err := b.svc.Authenticate(context.Background(), b.keyA)
	if err != nil {
		t.Fatal(err)
	}
	// Envelopes of exactly the maximal size, half of it a character that
	// JSON encoders escape by default for HTML (< as \u003c: six bytes).
	const n = 100
	err = b.store.Write(context.Background(), func(tx agenthooks.Tx) error {
		for i := range n {
			id := service.NewID()
			head := fmt.Sprintf(`{"id":%q,"object":"event","event":"conversation.updated","created_at":"2026-12-01 10:00:00","data":{"text":"`, id)
			tail := `"}}`
			fill := payload.MaxEnvelopeBytes - len(head) - len(tail)
			text := strings.Repeat("<", fill/2) + strings.Repeat("x", fill-fill/2)
			e := &agenthooks.Event{ID: id, AccountID: acct.ID, Type: agenthooks.EventConversationUpdated, Payload: json.RawMessage(head + text + tail), CreatedAt: tx.Now()}
			if len(e.Payload) != payload.MaxEnvelopeBytes || !json.Valid(e.Payload) {
				return fmt.Errorf("event %d: %d bytes", i, len(e.Payload))
			}
			if err := tx.CreateEvent(e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	var resp *http.Response
	var items, total int
	var bytes int64
	used := heapmeter.Peak(func() {
		req, err := http.NewRequest("GET", b.srv.URL+"/api/v1/event?size=100", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+b.keyA)
		if resp, err = b.srv.Client().Do(req); err != nil {
			t.Fatal(err)
		}
		// Decode as it arrives, keeping nothing: the body must be one
		// well-formed list of all 100 items.
		counting := &countingReader{r: resp.Body}
		dec := json.NewDecoder(counting)
		if err := walkList(dec, func() { items++ }, &total); err != nil {
			t.Fatalf("body: %v", err)
		}
		_, _ = io.Copy(io.Discard, counting)
		resp.Body.Close()
		bytes = counting.n
	})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if items != n || total != n {
		t.Fatalf("%d items, total %d, want %d", items, total, n)
	}
	t.Logf("GET /event?size=100: %d items, %.1f MiB of body, peak heap %.1f MiB above what was in use before it",
		items, float64(bytes)/(1<<20), float64(used)/(1<<20))
	if used > maxListHeap {
		t.Fatalf("peak heap %.1f MiB, over %d MiB", float64(used)/(1<<20), maxListHeap>>20)
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// walkList reads {"message", "data": {"items": [...], "total", ...}} token by
// token, calling item for each element of items (skipped, not kept).
func walkList(dec *json.Decoder, item func(), total *int) error {
	expect := func(want json.Delim) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if tok != want {
			return fmt.Errorf("got %v, want %v", tok, want)
		}
		return nil
	}
	if err := expect('{'); err != nil {
		return err
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return err
		}
		if key != "data" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return err
			}
			continue
		}
		if err := expect('{'); err != nil {
			return err
		}
		for dec.More() {
			key, err := dec.Token()
			if err != nil {
				return err
			}
			switch key {
			case "items":
				if err := expect('['); err != nil {
					return err
				}
				for dec.More() {
					var ev struct {
						ID      string          `json:"id"`
						Payload json.RawMessage `json:"payload"`
					}
					if err := dec.Decode(&ev); err != nil {
						return err
					}
					if ev.ID == "" || len(ev.Payload) < payload.MaxEnvelopeBytes {
						return fmt.Errorf("item %q with a %d-byte payload", ev.ID, len(ev.Payload))
					}
					item()
				}
				if err := expect(']'); err != nil {
					return err
				}
			case "total":
				if err := dec.Decode(total); err != nil {
					return err
				}
			default:
				var skip json.RawMessage
				if err := dec.Decode(&skip); err != nil {
					return err
				}
			}
		}
		if err := expect('}'); err != nil {
			return err
		}
	}
	return expect('}')
}
