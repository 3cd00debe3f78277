// Package signature implements the Standard Webhooks signature scheme
// (https://www.standardwebhooks.com) that agenthooks uses to sign every delivery.
//
// A secret is "whsec_" followed by the standard base64 encoding of a random key.
// A delivery carries three headers: webhook-id, webhook-timestamp (Unix seconds)
// and webhook-signature, a space-separated list of "v1,<base64>" entries where each
// entry is the HMAC-SHA256, keyed with one secret's decoded key, of
//
//	{webhook-id}.{webhook-timestamp}.{body}
//
// During a secret rotation the sender lists one entry per active secret, and a
// receiver accepts the delivery if any entry matches any of its keys.
//
// The package is pure (no I/O besides crypto/rand in NewSecret) so that it can be
// fuzzed and used by both the server and the receivers' SDK.
package signature

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Prefix starts every secret in its textual form.
const Prefix = "whsec_"

// Header names of the Standard Webhooks scheme, lower case as sent on the wire
// (net/http canonicalises them on lookup, so either case works with http.Header).
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// Version is the scheme identifier that starts each signature entry ("v1,...").
const Version = "v1"

// DefaultTolerance is the clock skew that Standard Webhooks recommends accepting
// between the webhook-timestamp header and the receiver's clock, in both directions.
const DefaultTolerance = 5 * time.Minute

// KeySize is the number of random bytes in a secret made by NewSecret.
const KeySize = 32

// Errors returned by Verify and ParseSecret. Match them with errors.Is.
var (
	// ErrMissingHeaders means webhook-id, webhook-timestamp or webhook-signature is empty.
	ErrMissingHeaders = errors.New("signature: missing webhook-id, webhook-timestamp or webhook-signature header")
	// ErrInvalidTimestamp means webhook-timestamp is not a canonical decimal Unix time in seconds.
	ErrInvalidTimestamp = errors.New("signature: invalid webhook-timestamp header")
	// ErrTimestampTooOld means webhook-timestamp is further in the past than the tolerance allows.
	ErrTimestampTooOld = errors.New("signature: webhook-timestamp too old")
	// ErrTimestampTooNew means webhook-timestamp is further in the future than the tolerance allows.
	ErrTimestampTooNew = errors.New("signature: webhook-timestamp too new")
	// ErrNoMatchingSignature means no v1 entry of webhook-signature matches any key.
	ErrNoMatchingSignature = errors.New("signature: no matching signature")
	// ErrInvalidSecret means a secret is empty or not valid base64.
	ErrInvalidSecret = errors.New("signature: invalid secret")
)

// sigLen is the length of the base64 encoding of an HMAC-SHA256 sum.
var sigLen = base64.StdEncoding.EncodedLen(sha256.Size)

// entryLen is the length of one "v1,<base64>" entry.
var entryLen = len(Version) + 1 + sigLen

// NewSecret returns a new random secret: Prefix followed by the standard base64
// encoding of KeySize bytes from crypto/rand.
func NewSecret() (string, error) {
	var key [KeySize]byte
	if _, err := rand.Read(key[:]); err != nil {
		return "", fmt.Errorf("signature: read random key: %w", err)
	}
	return Prefix + base64.StdEncoding.EncodeToString(key[:]), nil
}

// ParseSecret decodes a secret into its raw HMAC key. It accepts "whsec_<base64>"
// and the bare base64 without the prefix; surrounding white space (a trailing
// newline from a file, say) is ignored. It returns an error wrapping
// ErrInvalidSecret when the secret is empty, is not standard base64, or decodes
// to no bytes.
func ParseSecret(s string) ([]byte, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), Prefix)
	if s == "" {
		return nil, fmt.Errorf("%w: empty", ErrInvalidSecret)
	}
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSecret, err)
	}
	if len(key) == 0 {
		return nil, fmt.Errorf("%w: empty key", ErrInvalidSecret)
	}
	return key, nil
}

// scratch is the per-call working memory of signing, pooled so that the hot
// path allocates little besides the HMAC state and the returned string.
type scratch struct {
	prefix []byte // msgID + "." + ts + "."
	sum    []byte // HMAC output, then the candidate signature in Verify
	out    []byte // "v1,<base64>" entries
}

var scratchPool = sync.Pool{New: func() any {
	return &scratch{
		prefix: make([]byte, 0, 64),
		sum:    make([]byte, 0, sha256.Size),
		out:    make([]byte, 0, 2*entryLen+1),
	}
}}

// maxPooled bounds the buffers kept in the pool, so one huge msgID or header
// does not pin memory forever.
const maxPooled = 4 << 10

func getScratch(msgID string, ts int64) *scratch {
	s := scratchPool.Get().(*scratch)
	s.prefix = append(s.prefix[:0], msgID...)
	s.prefix = append(s.prefix, '.')
	s.prefix = strconv.AppendInt(s.prefix, ts, 10)
	s.prefix = append(s.prefix, '.')
	s.out = s.out[:0]
	return s
}

func putScratch(s *scratch) {
	if cap(s.prefix) > maxPooled || cap(s.out) > maxPooled {
		return
	}
	scratchPool.Put(s)
}

// appendSum appends the base64 HMAC-SHA256 of s.prefix+body under key to dst.
func (s *scratch) appendSum(dst, key, body []byte) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write(s.prefix)
	mac.Write(body)
	s.sum = mac.Sum(s.sum[:0])
	return base64.StdEncoding.AppendEncode(dst, s.sum)
}

// Sign returns one signature entry, "v1," followed by the standard base64 of
// HMAC-SHA256(key, msgID + "." + ts + "." + body), where ts is written in decimal.
func Sign(key []byte, msgID string, ts int64, body []byte) string {
	s := getScratch(msgID, ts)
	s.out = append(s.out, Version...)
	s.out = append(s.out, ',')
	s.out = s.appendSum(s.out, key, body)
	sig := string(s.out)
	putScratch(s)
	return sig
}

// Header returns the webhook-signature header value for several keys: one Sign
// entry per key, in key order, separated by single spaces. Senders use it while a
// secret is being rotated, so that receivers holding either secret accept the
// delivery. It returns "" when keys is empty.
func Header(keys [][]byte, msgID string, ts int64, body []byte) string {
	if len(keys) == 0 {
		return ""
	}
	s := getScratch(msgID, ts)
	for i, key := range keys {
		if i > 0 {
			s.out = append(s.out, ' ')
		}
		s.out = append(s.out, Version...)
		s.out = append(s.out, ',')
		s.out = s.appendSum(s.out, key, body)
	}
	h := string(s.out)
	putScratch(s)
	return h
}

// ParseTimestamp parses a webhook-timestamp header: Unix seconds written as a
// canonical non-negative decimal (digits only, no sign, no leading zeros). The
// canonical form is required because the signed content contains the number as
// the sender wrote it. It returns ErrInvalidTimestamp otherwise.
func ParseTimestamp(h string) (int64, error) {
	if h == "" || len(h) > 19 || (len(h) > 1 && h[0] == '0') {
		return 0, ErrInvalidTimestamp
	}
	for i := 0; i < len(h); i++ {
		if h[i] < '0' || h[i] > '9' {
			return 0, ErrInvalidTimestamp
		}
	}
	ts, err := strconv.ParseInt(h, 10, 64)
	if err != nil {
		return 0, ErrInvalidTimestamp
	}
	return ts, nil
}

// Verify checks a delivery's headers and body against any of keys.
//
// tsHeader must be Unix seconds (see ParseTimestamp) no more than tolerance away
// from now, in either direction. sigHeader is a space-separated list of
// "version,base64" entries; entries of other versions than v1 and malformed
// entries are skipped, and the delivery passes if any v1 entry equals the
// signature computed with any key (compared in constant time with hmac.Equal).
//
// It returns nil on success, or one of ErrMissingHeaders, ErrInvalidTimestamp,
// ErrTimestampTooOld, ErrTimestampTooNew and ErrNoMatchingSignature (possibly
// wrapped; use errors.Is). The timestamp is checked before any HMAC is computed.
func Verify(keys [][]byte, msgID, tsHeader, sigHeader string, body []byte, now time.Time, tolerance time.Duration) error {
	if msgID == "" || tsHeader == "" || sigHeader == "" {
		return ErrMissingHeaders
	}
	ts, err := ParseTimestamp(tsHeader)
	if err != nil {
		return err
	}
	// time.Unix overflows near the int64 limit; such a timestamp is billions of
	// years ahead of any clock.
	if ts > 1<<62 {
		return ErrTimestampTooNew
	}
	t := time.Unix(ts, 0)
	if now.Sub(t) > tolerance {
		return ErrTimestampTooOld
	}
	if t.Sub(now) > tolerance {
		return ErrTimestampTooNew
	}
	if len(keys) == 0 || !hasV1Entry(sigHeader) {
		return ErrNoMatchingSignature
	}

	s := getScratch(msgID, ts)
	defer putScratch(s)
	// s.out holds the expected base64 signature of each key, back to back.
	for _, key := range keys {
		s.out = s.appendSum(s.out, key, body)
	}
	rest := sigHeader
	for rest != "" {
		var entry string
		entry, rest, _ = strings.Cut(rest, " ")
		version, sig, ok := strings.Cut(entry, ",")
		if !ok || version != Version || len(sig) != sigLen {
			continue
		}
		// Copy into pooled memory: converting sig to []byte would allocate.
		s.sum = append(s.sum[:0], sig...)
		for i := range keys {
			if hmac.Equal(s.sum, s.out[i*sigLen:(i+1)*sigLen]) {
				return nil
			}
		}
	}
	return ErrNoMatchingSignature
}

// hasV1Entry reports whether sigHeader contains an entry that could be a v1
// signature, so that Verify spends no HMAC on headers that cannot match.
func hasV1Entry(sigHeader string) bool {
	rest := sigHeader
	for rest != "" {
		var entry string
		entry, rest, _ = strings.Cut(rest, " ")
		if len(entry) == entryLen && strings.HasPrefix(entry, Version+",") {
			return true
		}
	}
	return false
}
