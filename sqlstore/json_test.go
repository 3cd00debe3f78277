package sqlstore

import (
	"encoding/json"
	"slices"
	"testing"
)

// simpleStringList is a fast path for json.Unmarshal: where it answers, it
// must answer exactly what encoding/json does.
func FuzzSimpleStringList(f *testing.F) {
	for _, s := range []string{`[]`, `["a"]`, `["conversation.closed","captured_form.created"]`, `[""]`, `["a",]`, `[,]`, `["a" ,"b"]`,
		`["a\"b"]`, `["a","b"`, `["a"]]`, `["é"]`, `[ ]`, `null`, `["a"]x`, `[1]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := simpleStringList(s)
		if !ok {
			return
		}
		var want []string
		if err := json.Unmarshal([]byte(s), &want); err != nil {
			t.Fatalf("simpleStringList(%q) = %q, but encoding/json fails: %v", s, got, err)
		}
		if !slices.Equal(got, want) || (got == nil) != (want == nil) {
			t.Fatalf("simpleStringList(%q) = %#v, encoding/json %#v", s, got, want)
		}
	})
}
