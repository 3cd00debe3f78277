package webhook_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks/webhook"
	"github.com/agenthooks/agenthooks/webhook/signature"
)

const (
	testSecret  = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	otherSecret = "whsec_c2Vjb25kLXNlY3JldC1mb3Itcm90YXRpb24tdGVzdHM="
)

// testNow is the fixed clock of the tests.
var testNow = time.Date(2024, 4, 10, 18, 16, 50, 0, time.UTC)

func newVerifier(t testing.TB, secrets ...string) *webhook.Verifier {
	t.Helper()
	v, err := webhook.NewVerifier(secrets...)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	v.Now = func() time.Time { return testNow }
	return v
}

// signedHeaders returns the headers agenthooks would send for body, signed
// with every secret (as during a rotation).
func signedHeaders(t testing.TB, secrets []string, id string, ts time.Time, body []byte) http.Header {
	t.Helper()
	keys := make([][]byte, 0, len(secrets))
	for _, s := range secrets {
		key, err := signature.ParseSecret(s)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(webhook.HeaderID, id)
	h.Set(webhook.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(webhook.HeaderSignature, signature.Header(keys, id, ts.Unix(), body))
	return h
}

// signedRequest returns a delivery of body signed with testSecret at testNow.
func signedRequest(t testing.TB, id string, body []byte) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/hooks", bytes.NewReader(body))
	r.Header = signedHeaders(t, []string{testSecret}, id, testNow, body)
	return r
}

// fixture returns a payload from testdata.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// eventBody returns a small webhook.test event with the given id.
func eventBody(id string) []byte {
	return []byte(`{"id":"` + id + `","object":"event","event":"webhook.test","created_at":"2024-04-10 18:16:50","data":{"webhook_id":"w1","message":"hello"}}`)
}
