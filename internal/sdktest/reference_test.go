package sdktest_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/agenthooks/agenthooks/webhook/signature"
)

// vecSecret is the Standard Webhooks test vector's secret.
const vecSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func mustKey(t testing.TB, secret string) []byte {
	t.Helper()
	key, err := signature.ParseSecret(secret)
	if err != nil {
		t.Fatalf("ParseSecret(%q): %v", secret, err)
	}
	return key
}

// TestReferenceLibrary cross-checks this package with the Standard Webhooks
// reference Go library, in both directions.
func TestReferenceLibrary(t *testing.T) {
	t.Parallel()

	secret, err := signature.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	key := mustKey(t, secret)
	ref, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	refVec, err := standardwebhooks.NewWebhook(vecSecret)
	if err != nil {
		t.Fatal(err)
	}

	now := time.Now()
	bodies := []string{`{}`, `{"id":"0190","object":"event","event":"conversation.closed","data":{"text":"héllo ✓"}}`, "", "\x00\xff binary"}
	for i, body := range bodies {
		id := "msg_" + strconv.Itoa(i)

		t.Run("OursVerifiedByReference/"+id, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			h.Set(standardwebhooks.HeaderWebhookID, id)
			h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
			h.Set(standardwebhooks.HeaderWebhookSignature, signature.Sign(key, id, now.Unix(), []byte(body)))
			if err := ref.Verify([]byte(body), h); err != nil {
				t.Fatalf("reference rejects our signature: %v", err)
			}
			// With a rotation header, the reference accepts it with the second key alone.
			h.Set(standardwebhooks.HeaderWebhookSignature, signature.Header([][]byte{mustKey(t, vecSecret), key}, id, now.Unix(), []byte(body)))
			if err := ref.Verify([]byte(body), h); err != nil {
				t.Fatalf("reference rejects our rotation header: %v", err)
			}
		})

		t.Run("ReferenceVerifiedByOurs/"+id, func(t *testing.T) {
			t.Parallel()
			sig, err := ref.Sign(id, now, []byte(body))
			if err != nil {
				t.Fatal(err)
			}
			ts := strconv.FormatInt(now.Unix(), 10)
			if err := signature.Verify([][]byte{key}, id, ts, sig, []byte(body), now, signature.DefaultTolerance); err != nil {
				t.Fatalf("we reject the reference's signature %q: %v", sig, err)
			}
			vecSig, err := refVec.Sign(id, now, []byte(body))
			if err != nil {
				t.Fatal(err)
			}
			if got := signature.Sign(mustKey(t, vecSecret), id, now.Unix(), []byte(body)); got != vecSig {
				t.Fatalf("Sign = %q, reference = %q", got, vecSig)
			}
		})
	}
}
