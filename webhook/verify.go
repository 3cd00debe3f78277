package webhook

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/agenthooks/agenthooks/webhook/signature"
)

// Header names of a delivery, as sent by agenthooks.
const (
	// HeaderID carries the event id, the same on every attempt: the key to deduplicate on.
	HeaderID = signature.HeaderID
	// HeaderTimestamp carries the Unix time in seconds at which this attempt was signed.
	HeaderTimestamp = signature.HeaderTimestamp
	// HeaderSignature carries one or more space-separated "v1,<base64>" signatures.
	HeaderSignature = signature.HeaderSignature
)

// DefaultTolerance is the largest clock difference a Verifier accepts between
// the webhook-timestamp header and its own clock, in either direction.
const DefaultTolerance = signature.DefaultTolerance

// MaxBodyBytes is the largest body that Verifier.Verify and the handler read (1 MiB).
const MaxBodyBytes = 1 << 20

// Verification errors, matched with errors.Is. They are the signature
// package's sentinels, repeated here so receivers need only this package.
var (
	// ErrMissingHeaders means a webhook-id, webhook-timestamp or webhook-signature header is missing.
	ErrMissingHeaders = signature.ErrMissingHeaders
	// ErrInvalidTimestamp means webhook-timestamp is not Unix seconds.
	ErrInvalidTimestamp = signature.ErrInvalidTimestamp
	// ErrTimestampTooOld means the delivery was signed longer ago than the tolerance: a replay, or a slow clock.
	ErrTimestampTooOld = signature.ErrTimestampTooOld
	// ErrTimestampTooNew means the delivery was signed further in the future than the tolerance: a fast clock.
	ErrTimestampTooNew = signature.ErrTimestampTooNew
	// ErrNoMatchingSignature means no signature matches any of the Verifier's secrets.
	ErrNoMatchingSignature = signature.ErrNoMatchingSignature
	// ErrBodyTooLarge means the request body is over MaxBodyBytes.
	ErrBodyTooLarge = errors.New("webhook: body too large")
)

// Verifier checks that deliveries were signed by agenthooks with one of a
// webhook's secrets and signed recently. Set its fields, if at all, before
// first use; after that it is safe for concurrent use.
type Verifier struct {
	// Tolerance is the largest accepted difference between the webhook-timestamp
	// header and Now, in either direction. Zero means DefaultTolerance (5 minutes).
	Tolerance time.Duration
	// Now returns the current time. Nil means time.Now; tests set a fixed clock.
	Now func() time.Time

	keys [][]byte
}

// NewVerifier returns a Verifier that accepts deliveries signed with any of
// secrets ("whsec_..." as shown by agenthooks, or the bare base64). Pass the
// old and the new secret while rotating, as two arguments or as one
// "old,new" string (the form `agenthooks listen --secret` takes, so one
// environment variable can hold both). Empty strings are skipped, so optional
// secrets can come straight from the environment; it is an error if none is
// left or if one is not a valid secret.
func NewVerifier(secrets ...string) (*Verifier, error) {
	v := &Verifier{}
	n := 0
	for _, arg := range secrets {
		for _, s := range strings.Split(arg, ",") {
			n++
			if strings.TrimSpace(s) == "" {
				continue
			}
			key, err := signature.ParseSecret(s)
			if err != nil {
				// Name the position, never the secret itself.
				return nil, fmt.Errorf("webhook: secret %d: %w", n-1, err)
			}
			v.keys = append(v.keys, key)
		}
	}
	if len(v.keys) == 0 {
		return nil, errors.New("webhook: no secret given")
	}
	return v, nil
}

// VerifyPayload checks body against the delivery headers h. It returns nil if
// the timestamp is within the tolerance and a v1 signature matches one of the
// secrets, and otherwise one of the Err values of this package.
func (v *Verifier) VerifyPayload(body []byte, h http.Header) error {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	tolerance := v.Tolerance
	if tolerance == 0 {
		tolerance = DefaultTolerance
	}
	return signature.Verify(v.keys, headerValue(h, HeaderID), headerValue(h, HeaderTimestamp),
		signatureHeader(h), body, now(), tolerance)
}

// Verify reads the request body (at most MaxBodyBytes) and verifies it with
// VerifyPayload. It returns the body, which is also put back into r.Body so that
// a later handler can read it again. A body over the limit gives ErrBodyTooLarge.
func (v *Verifier) Verify(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("webhook: read body: %w", err)
	}
	if len(body) > MaxBodyBytes {
		return nil, ErrBodyTooLarge
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err := v.VerifyPayload(body, r.Header); err != nil {
		return nil, err
	}
	return body, nil
}

// headerValue returns the first value of the header name, also when h was
// built as a map literal with the lower-case wire name as key.
func headerValue(h http.Header, name string) string {
	if vs := headerValues(h, name); len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// headerValues returns the values of the header name, also when h was built
// as a map literal with the lower-case wire name as key.
func headerValues(h http.Header, name string) []string {
	if vs := h.Values(name); len(vs) > 0 {
		return vs
	}
	return h[strings.ToLower(name)]
}

// signatureHeader returns the signature entries of all webhook-signature
// header lines, space separated: a proxy may have split one header into several.
func signatureHeader(h http.Header) string {
	vs := headerValues(h, HeaderSignature)
	if len(vs) == 1 {
		return vs[0]
	}
	return strings.Join(vs, " ")
}
