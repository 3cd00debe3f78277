package signature_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks/webhook/signature"
)

// The test vector published with the Standard Webhooks specification.
const (
	vecSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vecID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vecTS     = 1614265330
	vecBody   = `{"test": 2432232314}`
	vecSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func mustKey(t testing.TB, secret string) []byte {
	t.Helper()
	key, err := signature.ParseSecret(secret)
	if err != nil {
		t.Fatalf("ParseSecret(%q): %v", secret, err)
	}
	return key
}

func TestNewSecret(t *testing.T) {
	t.Parallel()

	a, err := signature.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, err := signature.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatalf("two secrets are equal: %q", a)
	}
	if !strings.HasPrefix(a, signature.Prefix) {
		t.Fatalf("secret %q lacks prefix %q", a, signature.Prefix)
	}
	key, err := signature.ParseSecret(a)
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != signature.KeySize {
		t.Fatalf("key length = %d, want %d", len(key), signature.KeySize)
	}
}

func TestParseSecret(t *testing.T) {
	t.Parallel()

	raw, _ := base64.StdEncoding.DecodeString("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	tests := []struct {
		name   string
		secret string
		want   []byte
	}{
		{"OK", vecSecret, raw},
		{"OKWithoutPrefix", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", raw},
		{"OKTrailingNewline", vecSecret + "\n", raw},
		{"OKPadded", "whsec_AAAA", []byte{0, 0, 0}},
		{"ErrEmpty", "", nil},
		{"ErrPrefixOnly", signature.Prefix, nil},
		{"ErrNotBase64", "whsec_not base64!", nil},
		{"ErrURLEncoding", "whsec_-_-_", nil},
		{"ErrMissingPadding", "whsec_AAA", nil},
		{"ErrSpaces", "   ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := signature.ParseSecret(tt.secret)
			if tt.want == nil {
				if !errors.Is(err, signature.ErrInvalidSecret) {
					t.Fatalf("ParseSecret(%q) error = %v, want ErrInvalidSecret", tt.secret, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSecret(%q): %v", tt.secret, err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("ParseSecret(%q) = %x, want %x", tt.secret, got, tt.want)
			}
		})
	}
}

func TestSign(t *testing.T) {
	t.Parallel()

	key := mustKey(t, vecSecret)
	if got := signature.Sign(key, vecID, vecTS, []byte(vecBody)); got != vecSig {
		t.Fatalf("Sign = %q, want the specification's %q", got, vecSig)
	}
	// Every input is part of the signed content.
	base := signature.Sign(key, "id", 1, []byte("body"))
	for name, other := range map[string]string{
		"key":  signature.Sign([]byte("other"), "id", 1, []byte("body")),
		"id":   signature.Sign(key, "id2", 1, []byte("body")),
		"ts":   signature.Sign(key, "id", 2, []byte("body")),
		"body": signature.Sign(key, "id", 1, []byte("body2")),
		// The separators keep the parts apart: "id.1" + "." is not "id" + ".1.".
		"split": signature.Sign(key, "id.1", 1, []byte("body")),
	} {
		if other == base {
			t.Errorf("changing %s does not change the signature", name)
		}
	}
}

func TestHeader(t *testing.T) {
	t.Parallel()

	k1, k2 := []byte("key-one"), []byte("key-two")
	body := []byte(`{"a":1}`)
	tests := []struct {
		name string
		keys [][]byte
		want string
	}{
		{"Empty", nil, ""},
		{"One", [][]byte{k1}, signature.Sign(k1, "m", 7, body)},
		{"TwoInKeyOrder", [][]byte{k2, k1}, signature.Sign(k2, "m", 7, body) + " " + signature.Sign(k1, "m", 7, body)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := signature.Header(tt.keys, "m", 7, body); got != tt.want {
				t.Fatalf("Header = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseTimestamp(t *testing.T) {
	t.Parallel()

	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"0", 0, false},
		{"1614265330", 1614265330, false},
		{"9223372036854775807", 1<<63 - 1, false},
		{"", 0, true},
		{"9223372036854775808", 0, true},
		{"99999999999999999999", 0, true},
		{"-1", 0, true},
		{"+1614265330", 0, true},
		{"01614265330", 0, true},
		{"1614265330.5", 0, true},
		{" 1614265330", 0, true},
		{"1e9", 0, true},
		{"abc", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := signature.ParseTimestamp(tt.in)
			if tt.wantErr {
				if !errors.Is(err, signature.ErrInvalidTimestamp) {
					t.Fatalf("ParseTimestamp(%q) = %d, %v; want ErrInvalidTimestamp", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseTimestamp(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()

	now := time.Unix(1_700_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	body := []byte(`{"id":"e1","object":"event","event":"webhook.test"}`)
	oldKey, newKey, otherKey := []byte("old-key"), []byte("new-key"), []byte("other")
	sigOld := signature.Sign(oldKey, "msg_1", now.Unix(), body)
	sigNew := signature.Sign(newKey, "msg_1", now.Unix(), body)
	at := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	signedAt := func(d time.Duration) string { return signature.Sign(newKey, "msg_1", now.Add(d).Unix(), body) }
	tamper := func(sig string) string {
		b := []byte(sig)
		if b[5] == 'A' {
			b[5] = 'B'
		} else {
			b[5] = 'A'
		}
		return string(b)
	}

	tests := []struct {
		name    string
		keys    [][]byte
		id, ts  string
		sig     string
		body    []byte
		wantErr error
	}{
		{"OK", [][]byte{newKey}, "msg_1", ts, sigNew, body, nil},
		{"OKSecondKey", [][]byte{otherKey, newKey}, "msg_1", ts, sigNew, body, nil},
		{"OKRotationOldEntry", [][]byte{oldKey}, "msg_1", ts, sigNew + " " + sigOld, body, nil},
		{"OKRotationNewEntry", [][]byte{newKey}, "msg_1", ts, sigNew + " " + sigOld, body, nil},
		{"OKUnknownVersionsSkipped", [][]byte{newKey}, "msg_1", ts, "v1a,abc v2,xyz garbage " + sigNew, body, nil},
		{"OKDoubleSpace", [][]byte{newKey}, "msg_1", ts, sigOld + "  " + sigNew, body, nil},
		{"OKAtToleranceOld", [][]byte{newKey}, "msg_1", at(-5 * time.Minute), signedAt(-5 * time.Minute), body, nil},
		{"OKAtToleranceNew", [][]byte{newKey}, "msg_1", at(5 * time.Minute), signedAt(5 * time.Minute), body, nil},
		{"ErrMissingID", [][]byte{newKey}, "", ts, sigNew, body, signature.ErrMissingHeaders},
		{"ErrMissingTimestamp", [][]byte{newKey}, "msg_1", "", sigNew, body, signature.ErrMissingHeaders},
		{"ErrMissingSignature", [][]byte{newKey}, "msg_1", ts, "", body, signature.ErrMissingHeaders},
		{"ErrInvalidTimestamp", [][]byte{newKey}, "msg_1", "yesterday", sigNew, body, signature.ErrInvalidTimestamp},
		{"ErrNegativeTimestamp", [][]byte{newKey}, "msg_1", "-" + ts, sigNew, body, signature.ErrInvalidTimestamp},
		{"ErrTooOld", [][]byte{newKey}, "msg_1", at(-5*time.Minute - time.Second), signedAt(-5*time.Minute - time.Second), body, signature.ErrTimestampTooOld},
		{"ErrTooNew", [][]byte{newKey}, "msg_1", at(5*time.Minute + time.Second), signedAt(5*time.Minute + time.Second), body, signature.ErrTimestampTooNew},
		{"ErrFarFuture", [][]byte{newKey}, "msg_1", "9223372036854775807", sigNew, body, signature.ErrTimestampTooNew},
		{"ErrWrongKey", [][]byte{otherKey}, "msg_1", ts, sigNew, body, signature.ErrNoMatchingSignature},
		{"ErrNoKeys", nil, "msg_1", ts, sigNew, body, signature.ErrNoMatchingSignature},
		{"ErrTamperedBody", [][]byte{newKey}, "msg_1", ts, sigNew, []byte(`{"id":"e2"}`), signature.ErrNoMatchingSignature},
		{"ErrOtherID", [][]byte{newKey}, "msg_2", ts, sigNew, body, signature.ErrNoMatchingSignature},
		{"ErrTamperedSignature", [][]byte{newKey}, "msg_1", ts, tamper(sigNew), body, signature.ErrNoMatchingSignature},
		{"ErrWrongVersion", [][]byte{newKey}, "msg_1", ts, "v2" + sigNew[2:], body, signature.ErrNoMatchingSignature},
		{"ErrBareSignature", [][]byte{newKey}, "msg_1", ts, sigNew[3:], body, signature.ErrNoMatchingSignature},
		{"ErrTruncated", [][]byte{newKey}, "msg_1", ts, sigNew[:len(sigNew)-1], body, signature.ErrNoMatchingSignature},
		{"ErrCommaSeparated", [][]byte{newKey}, "msg_1", ts, sigOld + "," + sigNew, body, signature.ErrNoMatchingSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := signature.Verify(tt.keys, tt.id, tt.ts, tt.sig, tt.body, now, signature.DefaultTolerance)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestSignAllocations(t *testing.T) {
	key := mustKey(t, vecSecret)
	body := bytes.Repeat([]byte("x"), 4096)
	allocs := testing.AllocsPerRun(100, func() {
		_ = signature.Sign(key, vecID, vecTS, body)
	})
	// The HMAC state and the returned string; nothing proportional to the input.
	if allocs > 8 {
		t.Fatalf("Sign allocates %v times per call, want at most 8", allocs)
	}
}

// FuzzVerify checks that header parsing never panics and that random headers
// never verify: only a signature computed with the key passes.
func FuzzVerify(f *testing.F) {
	key := []byte("fuzz-key")
	now := time.Unix(1_700_000_000, 0)
	good := signature.Sign(key, "msg_1", now.Unix(), []byte("{}"))
	f.Add("msg_1", "1700000000", good, []byte("{}"))
	f.Add("msg_1", "1700000000", "v1a,x v2,y "+good, []byte("{}"))
	f.Add("msg_1", "1700000000", "v1,", []byte("{}"))
	f.Add("", "", "", []byte(nil))
	f.Add("m", "-0", ",,, , v1,====", []byte("x"))
	f.Add("m", "17000000000000000000000", "v1,AAAA", []byte("x"))
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		err := signature.Verify([][]byte{key}, id, ts, sig, body, now, signature.DefaultTolerance)
		if err == nil {
			// Accept only if the header really carries the right signature.
			n, perr := signature.ParseTimestamp(ts)
			if perr != nil {
				t.Fatalf("verified with unparsable timestamp %q", ts)
			}
			want := signature.Sign(key, id, n, body)
			if !strings.Contains(" "+sig+" ", " "+want+" ") {
				t.Fatalf("verified id=%q ts=%q sig=%q without the right signature %q", id, ts, sig, want)
			}
			return
		}
		for _, sentinel := range []error{
			signature.ErrMissingHeaders, signature.ErrInvalidTimestamp, signature.ErrTimestampTooOld,
			signature.ErrTimestampTooNew, signature.ErrNoMatchingSignature,
		} {
			if errors.Is(err, sentinel) {
				return
			}
		}
		t.Fatalf("Verify returned a non-sentinel error: %v", err)
	})
}

func BenchmarkSign(b *testing.B) {
	key := mustKey(b, vecSecret)
	for _, size := range []int{256, 4096, 65536} {
		body := bytes.Repeat([]byte("x"), size)
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for range b.N {
				_ = signature.Sign(key, "0190b7e6-7c1a-7e3b-9f4e-1c2d3e4f5a6b", vecTS, body)
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	key := mustKey(b, vecSecret)
	body := bytes.Repeat([]byte("x"), 4096)
	now := time.Unix(vecTS, 0)
	sig := signature.Header([][]byte{[]byte("old"), key}, vecID, vecTS, body)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for range b.N {
		if err := signature.Verify([][]byte{key}, vecID, "1614265330", sig, body, now, signature.DefaultTolerance); err != nil {
			b.Fatal(err)
		}
	}
}
