package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/agenthooks/agenthooks"
)

// FuzzRequestKey: the key a request carries is the one key it names, in
// ?api_key= or a Bearer token; two different keys are refused, never one of
// them picked.
func FuzzRequestKey(f *testing.F) {
	for _, s := range [][2]string{{"api_key=a", "Bearer a"}, {"api_key=a", "Bearer b"}, {"api_key=a&api_key=b", ""},
		{"", "bearer  a "}, {"", "Basic a"}, {"api_key=", "Bearer"}, {"api_key=%ff", "Bearer \x00"}, {"", ""}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, query, auth string) {
		r := &http.Request{URL: &url.URL{RawQuery: query}, Header: http.Header{}}
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		key, err := requestKey(r)
		names := map[string]bool{}
		for _, v := range r.URL.Query()["api_key"] {
			if v != "" {
				names[v] = true
			}
		}
		if scheme, token, _ := strings.Cut(auth, " "); strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(token) != "" {
			names[strings.TrimSpace(token)] = true
		}
		switch {
		case len(names) > 1:
			if agenthooks.ErrorCode(err) != agenthooks.EUNAUTHORIZED {
				t.Fatalf("two keys %v: got %q, %v; want 401", names, key, err)
			}
		case err != nil:
			t.Fatalf("one key or none %v: %v", names, err)
		case len(names) == 1 && !names[key], len(names) == 0 && key != "":
			t.Fatalf("keys %v: got %q", names, key)
		}
	})
}

// FuzzRedact: a remembered response keeps no secret field's value, and
// anything else stays as it was.
func FuzzRedact(f *testing.F) {
	f.Add([]byte(`{"message":"Webhook created","data":{"id":"w","secret":"whsec_abc","name":"n"}}`))
	f.Add([]byte(`{"message":"x","data":{"api_key":"ak_1","key":"k"}}`))
	f.Add([]byte(`{"message":"x","data":[1,2]}`))
	f.Add([]byte(`not json`))
	f.Add([]byte(`{"data":{"secret":null}}`))
	f.Fuzz(func(t *testing.T, response []byte) {
		out := redact(response)
		data := func(b []byte) map[string]json.RawMessage {
			var body map[string]json.RawMessage
			var d map[string]json.RawMessage
			if json.Unmarshal(b, &body) != nil || json.Unmarshal(body["data"], &d) != nil {
				return nil
			}
			return d
		}
		in := data(response)
		if in == nil {
			if !bytes.Equal(out, response) {
				t.Fatalf("a response without a data object was changed: %q -> %q", response, out)
			}
			return
		}
		got := data(out)
		if got == nil {
			t.Fatalf("redacted response has no data object: %q", out)
		}
		for k, v := range in {
			isSecret := k == "secret" || k == "api_key" || k == "key" || k == "url"
			switch {
			case isSecret && string(v) != "null" && string(got[k]) != `"`+redacted+`"`:
				t.Fatalf("%s kept: %q", k, out)
			case !isSecret && len(got[k]) == 0:
				t.Fatalf("%s lost: %q", k, out)
			}
		}
	})
}
