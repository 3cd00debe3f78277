package webhook_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks/webhook"
	"github.com/agenthooks/agenthooks/webhook/signature"
)

func TestNewVerifier(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		secrets []string
		wantErr bool
	}{
		{"OK", []string{testSecret}, false},
		{"OKTwo", []string{testSecret, otherSecret}, false},
		{"OKBareBase64", []string{strings.TrimPrefix(testSecret, signature.Prefix)}, false},
		{"OKEmptySkipped", []string{"", testSecret, " "}, false},
		{"ErrNone", nil, true},
		{"ErrOnlyEmpty", []string{"", ""}, true},
		{"ErrInvalid", []string{testSecret, "whsec_%%%"}, true},
		{"OKOldCommaNew", []string{testSecret + "," + otherSecret}, false},
		{"OKCommaEmptySkipped", []string{testSecret + ","}, false},
		{"ErrCommaInvalid", []string{testSecret + ",whsec_%%%"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := webhook.NewVerifier(tt.secrets...)
			if tt.wantErr {
				if err == nil {
					t.Fatal("NewVerifier succeeded, want an error")
				}
				if strings.Contains(err.Error(), "%%%") {
					t.Fatalf("error %q repeats the secret", err)
				}
				return
			}
			if err != nil || v == nil {
				t.Fatalf("NewVerifier: %v", err)
			}
		})
	}
}

// TestNewVerifierCommaForm: "old,new" in one string, as `agenthooks listen
// --secret` takes it, accepts a delivery signed with either secret alone.
func TestNewVerifierCommaForm(t *testing.T) {
	t.Parallel()
	v := newVerifier(t, testSecret+","+otherSecret)
	body := eventBody("e1")
	for _, secret := range []string{testSecret, otherSecret} {
		if err := v.VerifyPayload(body, signedHeaders(t, []string{secret}, "e1", testNow, body)); err != nil {
			t.Errorf("signed with one of the two: %v", err)
		}
	}
	third := "whsec_" + strings.Repeat("A", 32)
	if err := v.VerifyPayload(body, signedHeaders(t, []string{third}, "e1", testNow, body)); !errors.Is(err, webhook.ErrNoMatchingSignature) {
		t.Errorf("signed with neither: %v, want ErrNoMatchingSignature", err)
	}
}

func TestVerifierVerifyPayload(t *testing.T) {
	t.Parallel()

	body := eventBody("evt_1")
	both := []string{otherSecret, testSecret}
	lowercase := func(h http.Header) http.Header {
		out := http.Header{}
		for k, v := range h {
			out[strings.ToLower(k)] = v
		}
		return out
	}
	split := func(h http.Header) http.Header {
		sigs := strings.Fields(h.Get(webhook.HeaderSignature))
		h.Del(webhook.HeaderSignature)
		for _, s := range sigs {
			h.Add(webhook.HeaderSignature, s)
		}
		return h
	}

	tests := []struct {
		name      string
		verifier  []string
		header    http.Header
		body      []byte
		tolerance time.Duration
		wantErr   error
	}{
		{"OK", []string{testSecret}, signedHeaders(t, []string{testSecret}, "evt_1", testNow, body), body, 0, nil},
		{"OKRotationBothSignatures", []string{testSecret}, signedHeaders(t, both, "evt_1", testNow, body), body, 0, nil},
		{"OKRotationOldSecretOnly", []string{otherSecret}, signedHeaders(t, both, "evt_1", testNow, body), body, 0, nil},
		{"OKRotationVerifierHasBoth", both, signedHeaders(t, []string{testSecret}, "evt_1", testNow, body), body, 0, nil},
		{"OKSlightlyOld", []string{testSecret}, signedHeaders(t, []string{testSecret}, "evt_1", testNow.Add(-4*time.Minute), body), body, 0, nil},
		{"OKLowercaseMapKeys", []string{testSecret}, lowercase(signedHeaders(t, []string{testSecret}, "evt_1", testNow, body)), body, 0, nil},
		{"OKSplitSignatureHeader", []string{testSecret}, split(signedHeaders(t, both, "evt_1", testNow, body)), body, 0, nil},
		{"OKCustomTolerance", []string{testSecret}, signedHeaders(t, []string{testSecret}, "evt_1", testNow.Add(-time.Hour), body), body, 2 * time.Hour, nil},
		{"ErrExpired", []string{testSecret}, signedHeaders(t, []string{testSecret}, "evt_1", testNow.Add(-6*time.Minute), body), body, 0, webhook.ErrTimestampTooOld},
		{"ErrExpiredCustomTolerance", []string{testSecret}, signedHeaders(t, []string{testSecret}, "evt_1", testNow.Add(-2*time.Minute), body), body, time.Minute, webhook.ErrTimestampTooOld},
		{"ErrFuture", []string{testSecret}, signedHeaders(t, []string{testSecret}, "evt_1", testNow.Add(6*time.Minute), body), body, 0, webhook.ErrTimestampTooNew},
		{"ErrWrongSecret", []string{otherSecret}, signedHeaders(t, []string{testSecret}, "evt_1", testNow, body), body, 0, webhook.ErrNoMatchingSignature},
		{"ErrTamperedBody", []string{testSecret}, signedHeaders(t, []string{testSecret}, "evt_1", testNow, body), eventBody("evt_2"), 0, webhook.ErrNoMatchingSignature},
		{"ErrNoHeaders", []string{testSecret}, http.Header{}, body, 0, webhook.ErrMissingHeaders},
		{"ErrBadTimestamp", []string{testSecret}, func() http.Header {
			h := signedHeaders(t, []string{testSecret}, "evt_1", testNow, body)
			h.Set(webhook.HeaderTimestamp, "2024-04-10T18:16:50Z")
			return h
		}(), body, 0, webhook.ErrInvalidTimestamp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := newVerifier(t, tt.verifier...)
			v.Tolerance = tt.tolerance
			err := v.VerifyPayload(tt.body, tt.header)
			if tt.wantErr == nil && err != nil || !errors.Is(err, tt.wantErr) {
				t.Fatalf("VerifyPayload = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestVerifierVerify(t *testing.T) {
	t.Parallel()

	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		body := eventBody("evt_1")
		r := signedRequest(t, "evt_1", body)
		got, err := newVerifier(t, testSecret).Verify(r)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, body) {
			t.Fatalf("Verify returned %q, want %q", got, body)
		}
		// The body can be read again.
		again, err := io.ReadAll(r.Body)
		if err != nil || !bytes.Equal(again, body) {
			t.Fatalf("r.Body after Verify = %q, %v", again, err)
		}
	})

	t.Run("ErrTooLarge", func(t *testing.T) {
		t.Parallel()
		body := bytes.Repeat([]byte("x"), webhook.MaxBodyBytes+1)
		r := signedRequest(t, "evt_1", body)
		if _, err := newVerifier(t, testSecret).Verify(r); !errors.Is(err, webhook.ErrBodyTooLarge) {
			t.Fatalf("Verify = %v, want ErrBodyTooLarge", err)
		}
	})

	t.Run("OKAtLimit", func(t *testing.T) {
		t.Parallel()
		body := bytes.Repeat([]byte("x"), webhook.MaxBodyBytes)
		r := signedRequest(t, "evt_1", body)
		if _, err := newVerifier(t, testSecret).Verify(r); err != nil {
			t.Fatalf("Verify = %v", err)
		}
	})

	t.Run("ErrUnsigned", func(t *testing.T) {
		t.Parallel()
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}"))
		if _, err := newVerifier(t, testSecret).Verify(r); !errors.Is(err, webhook.ErrMissingHeaders) {
			t.Fatalf("Verify = %v, want ErrMissingHeaders", err)
		}
	})

	t.Run("DefaultClock", func(t *testing.T) {
		t.Parallel()
		v, err := webhook.NewVerifier(testSecret)
		if err != nil {
			t.Fatal(err)
		}
		body := eventBody("evt_now")
		h := signedHeaders(t, []string{testSecret}, "evt_now", time.Now(), body)
		if err := v.VerifyPayload(body, h); err != nil {
			t.Fatalf("VerifyPayload with the real clock: %v", err)
		}
		h = signedHeaders(t, []string{testSecret}, "evt_now", testNow, body)
		if err := v.VerifyPayload(body, h); !errors.Is(err, webhook.ErrTimestampTooOld) {
			t.Fatalf("VerifyPayload of a 2024 delivery = %v, want ErrTimestampTooOld", err)
		}
	})
}

// FuzzVerifyPayload feeds arbitrary headers to a Verifier: it must never panic,
// and must accept only a correctly signed delivery.
func FuzzVerifyPayload(f *testing.F) {
	body := eventBody("evt_1")
	good := signedHeaders(f, []string{testSecret}, "evt_1", testNow, body)
	f.Add("evt_1", good.Get(webhook.HeaderTimestamp), good.Get(webhook.HeaderSignature), body)
	f.Add("evt_1", "1712773010", "v1,abc v1a,def v2", body)
	f.Add("", "", "", []byte(nil))
	f.Add("x", "99999999999999999999", "v1,,,,", []byte("{}"))
	v := newVerifier(f, testSecret)
	key, err := signature.ParseSecret(testSecret)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set(webhook.HeaderID, id)
		h.Set(webhook.HeaderTimestamp, ts)
		h.Set(webhook.HeaderSignature, sig)
		if err := v.VerifyPayload(body, h); err == nil {
			// Only the right signature for exactly these headers may pass.
			n, err := signature.ParseTimestamp(h.Get(webhook.HeaderTimestamp))
			if err != nil {
				t.Fatalf("accepted unparsable timestamp %q", ts)
			}
			want := signature.Sign(key, h.Get(webhook.HeaderID), n, body)
			if !strings.Contains(" "+h.Get(webhook.HeaderSignature)+" ", " "+want+" ") {
				t.Fatalf("accepted id=%q ts=%q sig=%q", id, ts, sig)
			}
		}
	})
}
