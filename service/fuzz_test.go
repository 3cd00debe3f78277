package service

import (
	"bytes"
	"encoding/json"
	"testing"
)

// depthOf is JSONDepth by decoding: the reference it is checked against.
func depthOf(v any) int {
	switch v := v.(type) {
	case map[string]any:
		d := 0
		for _, e := range v {
			d = max(d, depthOf(e))
		}
		return d + 1
	case []any:
		d := 0
		for _, e := range v {
			d = max(d, depthOf(e))
		}
		return d + 1
	}
	return 0
}

// FuzzJSONDepth: the bracket scan agrees with a decoder on every valid JSON
// text (strings with brackets and escapes included).
func FuzzJSONDepth(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `1`, `"{["`, `{"a":"\"}"}`, `{"a":[{"b":[]}]}`, `[[[[1]]],{}]`, `{"\\":"\\\"["}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !json.Valid(raw) {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		var v any
		if err := dec.Decode(&v); err != nil {
			return // deeper than the decoder takes
		}
		if got, want := JSONDepth(raw), depthOf(v); got != want {
			t.Fatalf("JSONDepth(%q) = %d, want %d", raw, got, want)
		}
	})
}
