package filter

import (
	"encoding/json"
	"reflect"
	"testing"
)

// toAny converts a decoded value to what encoding/json gives for it.
func toAny(v *value) any {
	switch v.kind {
	case kBool:
		return v.b
	case kNum:
		return v.n
	case kStr:
		return v.s
	case kArr:
		out := make([]any, len(v.arr))
		for i := range v.arr {
			out[i] = toAny(&v.arr[i])
		}
		return out
	case kObj:
		out := make(map[string]any, len(v.obj))
		for i := range v.obj {
			out[v.obj[i].key] = toAny(&v.obj[i].val)
		}
		return out
	}
	return nil
}

// FuzzDecode holds the reader to encoding/json: the same documents are
// valid, they decode to the same values, and reading only what a trie
// names (skipping the rest) accepts exactly the same documents.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `{"a":[1,2.5e3,-0,"x\u00e9\ud83d\ude00"],"b":{"c":null,"d":true}}`,
		`"\ud800"`, `"\ud800\u0041"`, "\"\xff\"", `{"a":1,"a":2}`, `[1,]`, `01`, `1.`, `-`, `1e`, `{"a" 1}`, ` [ true , false ] `} {
		f.Add([]byte(s))
	}
	some := &trie{kids: map[string]*trie{"a": {full: true}, "b": {kids: map[string]*trie{"c": {}}}}}
	f.Fuzz(func(t *testing.T, b []byte) {
		valid := json.Valid(b)
		v, err := decode(b)
		if _, serr := decodeWith(b, some, true); (serr == nil) != (err == nil) {
			t.Fatalf("%q: partial read says %v, full read %v", b, serr, err)
		}
		if _, serr := decodeWith(b, skipAll, true); (serr == nil) != (err == nil) {
			t.Fatalf("%q: skipping read says %v, full read %v", b, serr, err)
		}
		// A pooled reader (Match's: arenas reused, strings aliased) reads
		// the same, however many reads it served before.
		for range 2 {
			r := getReader(b)
			pv, perr := r.document(nil)
			if (perr == nil) != (err == nil) || err == nil && !reflect.DeepEqual(toAny(&pv), toAny(&v)) {
				t.Fatalf("%q: the pooled reader says %v, %v; the plain one %v, %v", b, toAny(&pv), perr, toAny(&v), err)
			}
			putReader(r)
		}
		if !valid {
			if err == nil {
				t.Fatalf("%q is not JSON, yet decodes", b)
			}
			return
		}
		var want any
		if json.Unmarshal(b, &want) != nil {
			return // valid but out of float64's range, or nested past encoding/json's limit
		}
		if err != nil {
			t.Fatalf("%q is JSON, yet: %v", b, err)
		}
		if got := toAny(&v); !reflect.DeepEqual(got, want) {
			t.Fatalf("%q decodes to %#v, encoding/json to %#v", b, got, want)
		}
	})
}
