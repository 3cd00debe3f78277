package filter_test

import (
	"os"
	"testing"

	"github.com/agenthooks/agenthooks/filter"
)

func fuzzSeeds(f *testing.F) {
	env, err := os.ReadFile("../payload/testdata/captured_intent.created.golden.json")
	if err != nil {
		f.Fatal(err)
	}
	for _, tc := range matchCases {
		f.Add([]byte(tc.filter), []byte(tc.payload))
		f.Add([]byte(tc.filter), env)
	}
}

// FuzzParse: any input either compiles or is refused with an *Error, never
// a panic; what compiles is at most MaxSize and matches deterministically.
func FuzzParse(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, src, env []byte) {
		flt, err := filter.Parse(src)
		if err != nil {
			if _, ok := err.(*filter.Error); !ok {
				t.Fatalf("Parse(%q) = %T %v, want *filter.Error", src, err, err)
			}
			return
		}
		if len(src) > filter.MaxSize {
			t.Fatalf("Parse accepted %d bytes", len(src))
		}
		again, err := filter.Parse([]byte(flt.String()))
		if err != nil {
			t.Fatalf("a parsed filter's String() does not parse again: %v", err)
		}
		if again.Match(env) != flt.Match(env) {
			t.Fatalf("re-parsed filter matches differently")
		}
	})
}

// FuzzMatch: Match never panics and answers the same every time (and from
// several goroutines at once).
func FuzzMatch(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, src, env []byte) {
		flt, err := filter.Parse(src)
		if err != nil {
			return
		}
		want := flt.Match(env)
		done := make(chan bool, 2)
		for range 2 {
			go func() { done <- flt.Match(env) }()
		}
		for range 2 {
			if <-done != want {
				t.Fatalf("Match(%q, %q) is not deterministic", src, env)
			}
		}
		if flt.Match(env) != want {
			t.Fatalf("Match(%q, %q) is not deterministic", src, env)
		}
	})
}
