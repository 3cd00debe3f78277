package filter_test

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks/filter"
)

// Convoy's documented examples (getconvoy.io/docs/product-manual/filters),
// then agenthooks' own envelope.
var matchCases = []struct {
	name, filter, payload string
	want                  bool
}{
	{"ConvoyDirect", `{"event_type": "created"}`, `{"event_type": "created"}`, true},
	{"ConvoyDirectOther", `{"event_type": "created"}`, `{"event_type": "deleted"}`, false},
	{"ConvoyNested", `{"event": {"type": "created"}}`, `{"event": {"type": "created", "n": 1}}`, true},
	{"ConvoyNestedDotted", `{"event.type": "created"}`, `{"event": {"type": "created"}}`, true},
	{"ConvoyNestedOther", `{"event": {"type": "created"}}`, `{"event": {"type": "deleted"}}`, false},
	{"ConvoyArrayContains", `{"dish": {"ingredients": "rice"}}`, `{"dish": {"ingredients": ["rice", "plantain", "yam"]}}`, true},
	{"ConvoyArrayContainsNot", `{"dish": {"ingredients": "beans"}}`, `{"dish": {"ingredients": ["rice", "plantain", "yam"]}}`, false},
	{"ConvoyNeq", `{"event": {"$neq": "created"}}`, `{"event": "deleted"}`, true},
	{"ConvoyNeqSame", `{"event": {"$neq": "created"}}`, `{"event": "created"}`, false},
	{"ConvoyOr", `{"$or": [{"cities": "london"}, {"type": "weekly"}]}`, `{"cities": ["lagos", "london"], "type": "daily"}`, true},
	{"ConvoyOrSecond", `{"$or": [{"cities": "london"}, {"type": "weekly"}]}`, `{"cities": ["lagos"], "type": "weekly"}`, true},
	{"ConvoyOrNone", `{"$or": [{"cities": "london"}, {"type": "weekly"}]}`, `{"cities": ["lagos"], "type": "daily"}`, false},
	{"ConvoyAndOr", `{"$and": [{"age": {"$gte": 10}}, {"$or": [{"type": "weekly"}, {"cities": "lagos"}]}]}`, `{"age": 10, "type": "daily", "cities": ["lagos"]}`, true},
	{"ConvoyAndOrYoung", `{"$and": [{"age": {"$gte": 10}}, {"$or": [{"type": "weekly"}, {"cities": "lagos"}]}]}`, `{"age": 9, "type": "weekly"}`, false},
	{"ConvoyIn", `{"operation": {"$in": ["created", "deleted"]}}`, `{"operation": "deleted"}`, true},
	{"ConvoyInNot", `{"operation": {"$in": ["created", "deleted"]}}`, `{"operation": "updated"}`, false},
	{"ConvoyNin", `{"operation": {"$nin": ["updated", "truncated"]}}`, `{"operation": "created"}`, true},
	{"ConvoyNinIn", `{"operation": {"$nin": ["updated", "truncated"]}}`, `{"operation": "updated"}`, false},
	{"ConvoyGt", `{"age": {"$gt": 1}}`, `{"age": 2}`, true},
	{"ConvoyGtEqual", `{"age": {"$gt": 1}}`, `{"age": 1}`, false},
	{"ConvoyGte", `{"age": {"$gte": 1}}`, `{"age": 1}`, true},
	{"ConvoyLt", `{"age": {"$lt": 1}}`, `{"age": 0.5}`, true},
	{"ConvoyLte", `{"age": {"$lte": 1}}`, `{"age": 1.5}`, false},
	{"ConvoyRange", `{"age": {"$gt": 1, "$lt": 10}}`, `{"age": 5}`, true},
	{"ConvoyRangeOut", `{"age": {"$gt": 1, "$lt": 10}}`, `{"age": 10}`, false},
	{"ConvoyExist", `{"person.age": {"$exist": true}}`, `{"person": {"age": null}}`, true},
	{"ConvoyExistMissing", `{"person.age": {"$exist": true}}`, `{"person": {}}`, false},
	{"ConvoyExistFalse", `{"person.age": {"$exist": false}}`, `{"person": {"name": "x"}}`, true},
	{"ConvoyRegex", `{"event_type": {"$regex": "^cr"}}`, `{"event_type": "created"}`, true},
	{"ConvoyRegexNot", `{"event_type": {"$regex": "^cr"}}`, `{"event_type": "deleted"}`, false},
	{"ConvoyPositional", `{"venues.$.name": "lagos"}`, `{"venues": [{"name": "abuja"}, {"name": "lagos"}]}`, true},
	{"ConvoyPositionalNone", `{"venues.$.name": "lagos"}`, `{"venues": [{"name": "abuja"}]}`, false},
	{"Index", `{"venues.1.name": "lagos"}`, `{"venues": [{"name": "abuja"}, {"name": "lagos"}]}`, true},
	{"IndexOther", `{"venues.0.name": "lagos"}`, `{"venues": [{"name": "abuja"}, {"name": "lagos"}]}`, false},
	{"IndexOutOfRange", `{"venues.7.name": "lagos"}`, `{"venues": [{"name": "lagos"}]}`, false},
	{"IndexOnObjectKey", `{"field_values.0": "x"}`, `{"field_values": {"0": "x"}}`, true},

	{"Empty", `{}`, `{"a": 1}`, true},
	{"AllKeysMustHold", `{"a": 1, "b": 2}`, `{"a": 1}`, false},
	{"MissingPlain", `{"a": 1}`, `{}`, false},
	{"MissingNeq", `{"a": {"$neq": 1}}`, `{}`, true},
	{"MissingNin", `{"a": {"$nin": [1]}}`, `{}`, true},
	{"MissingGt", `{"a": {"$gt": 1}}`, `{}`, false},
	{"NumbersAsNumbers", `{"n": 10}`, `{"n": 1e1}`, true},
	{"NumbersAsNumbersFloat", `{"n": {"$eq": 1}}`, `{"n": 1.0}`, true},
	{"NumberIsNotString", `{"n": 10}`, `{"n": "10"}`, false},
	{"NumberGtString", `{"n": {"$gt": 1}}`, `{"n": "5"}`, false},
	{"NumberOrder", `{"n": {"$gt": 9}}`, `{"n": 10}`, true},
	{"StringOrder", `{"s": {"$gte": "2024-04-10"}}`, `{"s": "2024-04-10 18:16:50"}`, true},
	{"GtOverArray", `{"n": {"$gt": 5}}`, `{"n": [1, 7]}`, true},
	{"EqObject", `{"a": {"$eq": {"x": 1, "y": [2]}}}`, `{"a": {"y": [2], "x": 1.0}}`, true},
	{"EqObjectExtra", `{"a": {"$eq": {"x": 1}}}`, `{"a": {"x": 1, "y": 2}}`, false},
	{"EmptyObjectIsValue", `{"a": {}}`, `{"a": {}}`, true},
	{"EmptyObjectIsValueNot", `{"a": {}}`, `{"a": {"b": 1}}`, false},
	{"EqArray", `{"a": [1, 2]}`, `{"a": [1, 2]}`, true},
	{"EqArrayElement", `{"a": [1, 2]}`, `{"a": [[1, 2], 3]}`, true},
	{"Null", `{"a": null}`, `{"a": null}`, true},
	{"NullNotMissing", `{"a": null}`, `{}`, false},
	{"Bool", `{"a": false}`, `{"a": false}`, true},
	{"InArray", `{"tags": {"$in": ["vip", "sales"]}}`, `{"tags": ["new", "sales"]}`, true},
	{"NinArray", `{"tags": {"$nin": ["vip", "sales"]}}`, `{"tags": ["new", "sales"]}`, false},
	{"NeqArray", `{"tags": {"$neq": "vip"}}`, `{"tags": ["new", "vip"]}`, false},
	{"RegexArray", `{"tags": {"$regex": "^v"}}`, `{"tags": [1, "vip"]}`, true},
	{"RegexNumber", `{"n": {"$regex": "1"}}`, `{"n": 1}`, false},
	{"OrNested", `{"data": {"$or": [{"intent_name": "SALES"}, {"intent_name": "LEAD"}]}}`, `{"data": {"intent_name": "LEAD"}}`, true},
	{"AndNestedFails", `{"data": {"$and": [{"intent_name": "SALES"}, {"chat_count": {"$gt": 3}}]}}`, `{"data": {"intent_name": "SALES", "chat_count": 2}}`, false},
	{"PathInsideArrayNeedsIndex", `{"list.name": "a"}`, `{"list": [{"name": "a"}]}`, false},
	{"ObjectWhereArray", `{"a.b": 1}`, `{"a": [1]}`, false},
	{"DuplicateKeyLastWins", `{"a": 2}`, `{"a": 1, "a": 2}`, true},
	{"Escapes", `{"s": "é\"\n"}`, `{"s": "\u00e9\"\u000a"}`, true},
	{"Surrogates", `{"s": "😀"}`, `{"s": "\ud83d\ude00"}`, true},
	{"UnicodeKey", `{"naïve": 1}`, `{"na\u00efve": 1}`, true},
	{"InvalidEnvelope", `{"a": 1}`, `{"a": 1`, false},
	{"InvalidEnvelopeTrailing", `{"a": 1}`, `{"a": 1} x`, false},
	{"InvalidEnvelopeSkipped", `{"a": 1}`, `{"a": 1, "b": [1,}`, false},
	{"EnvelopeNotObject", `{"a": 1}`, `[1]`, false},
	{"RootEq", `{"$eq": {"a": 1}}`, `{"a": 1}`, true},
}

func TestMatch(t *testing.T) {
	t.Parallel()
	for _, tc := range matchCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := filter.Parse([]byte(tc.filter))
			if err != nil {
				t.Fatalf("Parse(%s): %v", tc.filter, err)
			}
			if got := f.Match([]byte(tc.payload)); got != tc.want {
				t.Fatalf("Match(%s, %s) = %v, want %v", tc.filter, tc.payload, got, tc.want)
			}
		})
	}
}

// The contract's own example: nested objects and dotted keys are the same.
func TestMatchEnvelope(t *testing.T) {
	t.Parallel()
	env := readEnvelope(t, "captured_intent.created")
	conv := readEnvelope(t, "conversation.closed")
	for _, tc := range []struct {
		filter string
		env    []byte
		want   bool
	}{
		{`{"data": {"intent_name": "SALES"}}`, env, true},
		{`{"data.intent_name": "SALES"}`, env, true},
		{`{"data.intent_name": "SUPPORT"}`, env, false},
		{`{"event": "captured_intent.created", "data.chat_count": {"$gte": 2}}`, env, true},
		{`{"data.intent_name": {"$in": ["SALES", "LEAD"]}, "data.device_type": {"$neq": "desktop"}}`, env, true},
		{`{"event": {"$regex": "^conversation\\."}}`, env, false},
		{`{"event": {"$regex": "^conversation\\."}}`, conv, true},
		{`{"data.transcript.$.sender_type": "user"}`, conv, true},
		{`{"data.transcript.0.text": {"$regex": "(?i)FLU JAB"}}`, conv, true},
		{`{"data.transcript.1.sender_type": "user"}`, conv, false},
		{`{"data.contact_id": null}`, conv, true},
		{`{"data.contact_id": {"$exist": true}}`, conv, true},
		{`{"data.intent_name": {"$exist": false}}`, conv, true},
		{`{"data.intent_name": {"$neq": "SALES"}}`, conv, true},
	} {
		f, err := filter.Parse([]byte(tc.filter))
		if err != nil {
			t.Fatalf("Parse(%s): %v", tc.filter, err)
		}
		if got := f.Match(tc.env); got != tc.want {
			t.Errorf("Match(%s) = %v, want %v", tc.filter, got, tc.want)
		}
	}
}

func readEnvelope(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../payload/testdata/" + name + ".golden.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseNull(t *testing.T) {
	t.Parallel()
	for _, src := range []string{"", "null", "  null\n"} {
		f, err := filter.Parse([]byte(src))
		if err != nil || f != nil {
			t.Fatalf("Parse(%q) = %v, %v; want nil, nil", src, f, err)
		}
		if !f.Match([]byte(`{}`)) || f.String() != "null" {
			t.Fatalf("a nil filter matches everything and reads null")
		}
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, filter, path, msg string
	}{
		{"NotJSON", `{"a":`, "", "not valid JSON"},
		{"NotObject", `["a"]`, "", "a filter is a JSON object"},
		{"String", `"SALES"`, "", "a filter is a JSON object"},
		{"UnknownOperator", `{"data": {"intent_name": {"$like": "S%"}}}`, "data.intent_name.$like", `unknown operator "$like"`},
		{"UnknownTopOperator", `{"$not": {}}`, "$not", "unknown operator"},
		{"BadRegex", `{"data.intent_name": {"$regex": "(SALES"}}`, "data.intent_name.$regex", "not a valid regular expression"},
		{"PerlRegex", `{"a": {"$regex": "(?<=x)y"}}`, "a.$regex", "RE2"},
		{"RegexNotString", `{"a": {"$regex": 1}}`, "a.$regex", "string"},
		{"GtObject", `{"a": {"$gt": {}}}`, "a.$gt", "number"},
		{"LteBool", `{"a": {"$lte": true}}`, "a.$lte", "number"},
		{"InNotList", `{"a": {"$in": "x"}}`, "a.$in", "list"},
		{"NinNotList", `{"a": {"$nin": 1}}`, "a.$nin", "list"},
		{"ExistNotBool", `{"a": {"$exist": "yes"}}`, "a.$exist", "true or false"},
		{"OrNotList", `{"$or": {"a": 1}}`, "$or", "list of filters"},
		{"OrEmpty", `{"$or": []}`, "$or", "list of filters"},
		{"AndElement", `{"$and": [{"a": 1}, 2]}`, "$and.1", "filter"},
		{"InsideOr", `{"$or": [{"a": {"$foo": 1}}]}`, "a.$foo", "unknown operator"},
		{"EmptySegment", `{"a..b": 1}`, "a..b", "empty parts"},
		{"TrailingDot", `{"a.": 1}`, "a.", "empty parts"},
		{"OperatorInPath", `{"a.$gt": 1}`, "a.$gt", "inside a path"},
		{"TooLarge", `{"a": "` + strings.Repeat("x", filter.MaxSize) + `"}`, "", "at most 4096 bytes"},
		{"TooDeep", strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40), "", "nests at most"},
		{"TooDeepArrays", strings.Repeat(`[`, 2000) + strings.Repeat("]", 2000), "", "nested too deep"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := filter.Parse([]byte(tc.filter))
			var fe *filter.Error
			if !errors.As(err, &fe) {
				t.Fatalf("Parse(%s) = %v, want a *filter.Error", tc.filter, err)
			}
			if tc.path != "" && fe.Path != tc.path || !strings.Contains(fe.Msg, tc.msg) {
				t.Fatalf("Parse(%s) = {Path: %q, Msg: %q}, want path %q and %q in the message", tc.filter, fe.Path, fe.Msg, tc.path, tc.msg)
			}
		})
	}
}

func TestString(t *testing.T) {
	t.Parallel()
	f, err := filter.Parse([]byte(" {\"a\": 1} "))
	if err != nil {
		t.Fatal(err)
	}
	if f.String() != `{"a": 1}` {
		t.Fatalf("String() = %q", f.String())
	}
}

// BenchmarkMatch is the cost a filter adds to an event (issue 19: at most
// 5 µs of CPU): one filter on the captured_intent envelope.
func BenchmarkMatch(b *testing.B) {
	env := readEnvelope(b, "captured_intent.created")
	conv := readEnvelope(b, "conversation.closed")
	for _, bc := range []struct {
		name, filter string
		env          []byte
	}{
		{"intent/plain", `{"data.intent_name": "SALES"}`, env},
		{"intent/compound", `{"event": "captured_intent.created", "data": {"intent_name": {"$in": ["SALES", "LEAD"]}, "chat_count": {"$gte": 1}, "device_type": {"$regex": "^mob"}}}`, env},
		{"conversation/plain", `{"data.device_type": "mobile"}`, conv},
		{"conversation/transcript", `{"data.transcript.$.sender_type": "agent"}`, conv},
	} {
		f, err := filter.Parse([]byte(bc.filter))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.env)))
			cpu0 := cpuTime(b)
			for b.Loop() {
				f.Match(bc.env)
			}
			// Wall time per op counts the waits of a shared machine; the
			// process's CPU per op (GC included) is the cost.
			b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the CPU time the process has used (user and system).
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestCache(t *testing.T) {
	t.Parallel()
	c := filter.NewCache(2)
	if f, err := c.Filter(nil); f != nil || err != nil || c.Len() != 0 {
		t.Fatalf("no filter: %v, %v, %d held", f, err, c.Len())
	}
	a1, err := c.Filter([]byte(`{"a": 1}`))
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := c.Filter([]byte(`{"a": 1}`))
	if a1 != a2 || c.Len() != 1 {
		t.Fatalf("the same JSON compiled twice (%p, %p), %d held", a1, a2, c.Len())
	}
	if _, err := c.Filter([]byte(`{"a": {"$x": 1}}`)); err == nil {
		t.Fatal("a bad filter compiled")
	}
	if _, err := c.Filter([]byte(`{"a": {"$x": 1}}`)); err == nil || c.Len() != 2 {
		t.Fatalf("a bad filter's error is not kept: %v, %d held", err, c.Len())
	}
	b, _ := c.Filter([]byte(`{"b": 1}`))
	if c.Len() != 1 || !b.Match([]byte(`{"b": 1}`)) {
		t.Fatalf("past max the cache starts over: %d held", c.Len())
	}
}
