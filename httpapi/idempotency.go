package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"

	"github.com/agenthooks/agenthooks"
)

// idempotent wraps a POST handler with Idempotency-Key (docs/api.md):
// per account, the same key, method, path and body within 24 hours gets the
// first response again and fires nothing; the same key with anything else is
// 422; the same key while the first request runs is 409. Responses 400, 401,
// 422 and 5xx are not remembered, so a corrected or retried request can use
// the key again.
func (s *Server) idempotent(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, a *agenthooks.Account) error {
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			return h(w, r, a)
		}
		if !validText(key) {
			return headerError("Idempotency-Key", "Input should be valid UTF-8 text without NUL characters", "string_type")
		}
		if len(key) > 255 {
			return headerError("Idempotency-Key", "String should have at most 255 characters", "string_too_long")
		}
		body, err := readBody(r)
		if err != nil {
			return err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.New()
		sum.Write([]byte(r.Method + " " + r.URL.Path + "\n"))
		// Query parameters are input too (POST /contact/upsert takes its
		// fields there); the key that authenticates is not.
		q := r.URL.Query()
		q.Del("api_key")
		if len(q) > 0 {
			sum.Write([]byte("?" + q.Encode() + "\n"))
		}
		sum.Write(body)
		fingerprint := hex.EncodeToString(sum.Sum(nil))

		rec, err := s.svc.ClaimIdempotencyKey(r.Context(), a.ID, key, fingerprint)
		if err != nil {
			return err
		}
		if rec != nil {
			switch {
			case rec.Fingerprint != fingerprint:
				return headerError("Idempotency-Key", "This key was already used with a different method, path or body", "idempotency_mismatch")
			case rec.Running:
				return agenthooks.Errorf(agenthooks.ECONFLICT, "A request with this Idempotency-Key is still being processed.")
			}
			response, err := s.unredact(r.Context(), a.ID, rec.Response)
			if err != nil {
				return err
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(rec.Status)
			_, _ = w.Write(response)
			return nil
		}

		rw := &recorder{ResponseWriter: w, status: http.StatusOK}
		herr := h(rw, r, a)
		if herr != nil {
			s.Error(rw, r, herr)
		}
		remember := true
		switch {
		case rw.status == http.StatusBadRequest, rw.status == http.StatusUnauthorized, rw.status == http.StatusUnprocessableEntity, rw.status >= 500:
			remember = false
		}
		// The request's own context may be gone (client hung up); the key
		// must still be settled.
		if err := s.svc.FinishIdempotencyKey(context.WithoutCancel(r.Context()), a.ID, key, remember, rw.status, redact(rw.body.Bytes())); err != nil {
			// A store that is down fails this too: the key stays running
			// until it is stale (a retry meanwhile answers 409), and the
			// outage is already logged, rate-limited, by Error.
			if !agenthooks.IsUnavailable(err) {
				s.log.Error("settle idempotency key", slog.Any("error", err))
			}
		}
		return nil
	}
}

// redacted stands for a secret left out of a remembered response.
const redacted = "(redacted)"

// secretFields are the fields of a response's data that hold a secret: the
// idempotency cache keeps none of them (docs/security.md). A webhook's
// secret is read again when the response is replayed, so that a replay
// after a rotation shows the current secret, never the old one; an API key
// and a portal link (url, with its single-use token) are stored hashed and
// cannot be read again, so a replay shows null.
var secretFields = []string{"secret", "api_key", "key", "url"}

// redact returns a response to remember, with every secret field of its
// data replaced by the redacted marker.
func redact(response []byte) []byte {
	var body map[string]json.RawMessage
	if json.Unmarshal(response, &body) != nil {
		return response
	}
	var data map[string]json.RawMessage
	if json.Unmarshal(body["data"], &data) != nil {
		return response
	}
	changed := false
	for _, f := range secretFields {
		if v, ok := data[f]; ok && string(v) != "null" {
			data[f] = json.RawMessage(`"` + redacted + `"`)
			changed = true
		}
	}
	if !changed {
		return response
	}
	return remarshal(body, data, response)
}

// unredact fills the secret fields of a remembered response again: a
// webhook's current secret, null for an API key (shown once only).
func (s *Server) unredact(ctx context.Context, accountID string, response []byte) ([]byte, error) {
	if !bytes.Contains(response, []byte(`"`+redacted+`"`)) {
		return response, nil
	}
	var body map[string]json.RawMessage
	var data map[string]json.RawMessage
	if json.Unmarshal(response, &body) != nil || json.Unmarshal(body["data"], &data) != nil {
		return response, nil
	}
	for _, f := range secretFields {
		if string(data[f]) != `"`+redacted+`"` {
			continue
		}
		data[f] = json.RawMessage("null")
		var id string
		if f != "secret" || json.Unmarshal(data["id"], &id) != nil {
			continue
		}
		wh, err := s.svc.GetWebhook(ctx, accountID, id)
		if agenthooks.ErrorCode(err) == agenthooks.ENOTFOUND {
			continue // deleted since: no secret to show
		} else if err != nil {
			return nil, err
		}
		secret, _ := json.Marshal(wh.Secret)
		data[f] = secret
	}
	return remarshal(body, data, response), nil
}

// remarshal puts data back into body; on failure it returns fallback.
func remarshal(body, data map[string]json.RawMessage, fallback []byte) []byte {
	d, err := json.Marshal(data)
	if err != nil {
		return fallback
	}
	body["data"] = d
	out, err := json.Marshal(body)
	if err != nil {
		return fallback
	}
	return append(out, '\n')
}

// recorder passes a response through and keeps a copy of it.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}
