package payload_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/payload"
)

// Every sent type has an example, with every key its schema requires.
func TestEveryEventTypeHasAnExample(t *testing.T) {
	t.Parallel()
	for _, name := range agenthooks.SentEventTypes {
		ex := payload.Example(name)
		if ex == nil {
			t.Errorf("%s has no example", name)
			continue
		}
		b, err := json.Marshal(ex)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		for _, k := range payload.Schema(payload.DataOf(name))["required"].([]string) {
			if _, ok := got[k]; !ok {
				t.Errorf("%s example lacks %s", name, k)
			}
		}
		if len(got) != len(payload.Schema(payload.DataOf(name))["required"].([]string)) {
			t.Errorf("%s example has keys %v", name, slices.Collect(func(yield func(string) bool) {
				for k := range got {
					if !yield(k) {
						return
					}
				}
			}))
		}
	}
	if payload.Example("call.ended") != nil {
		t.Error("an own type has a built-in example")
	}
}
