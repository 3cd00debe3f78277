package transform

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

var envelope = []byte(`{"id":"e1","object":"event","event":"captured_intent.created","created_at":"2024-04-10 18:16:50","data":{"intent_name":"SALES","chat_count":2}}`)

func input() Input {
	return Input{Method: "POST", URL: "https://example.com/hook", EventType: "captured_intent.created", Payload: envelope, Headers: map[string]string{"X-A": "1"}}
}

func TestMain(m *testing.M) {
	timeout = time.Second
	os.Exit(m.Run())
}

func TestRun(t *testing.T) {
	cases := []struct {
		name, code string
		want       Output
		err        string // substring of the error; "" for none
		line       int
	}{
		{name: "identity", code: `function handler(w) { return w }`,
			want: Output{Method: "POST", URL: "https://example.com/hook", Headers: map[string]string{"X-A": "1"}, Body: envelope}},
		{name: "change all", code: `function handler(w) { w.method = "put"; w.url = "http://other.example/x"; w.headers = {"X-B": "2"}; w.payload = {n: w.payload.data.intent_name}; return w }`,
			want: Output{Method: "PUT", URL: "http://other.example/x", Headers: map[string]string{"X-B": "2"}, Body: []byte(`{"n":"SALES"}`)}},
		{name: "string payload", code: `function handler(w) { w.payload = "hi"; return w }`,
			want: Output{Method: "POST", URL: "https://example.com/hook", Headers: map[string]string{"X-A": "1"}, Body: []byte(`"hi"`)}},
		{name: "cancel", code: `function handler(w) { w.cancel = true; return w }`, want: Output{Cancel: true}},
		{name: "syntax error", code: "function handler(w) {\n  return w +;\n}", err: "SyntaxError", line: 2},
		{name: "no handler", code: `var x = 1`, err: "must define function handler"},
		{name: "throw", code: "function handler(w) {\n  throw new Error('boom')\n}", err: "Error: boom", line: 2},
		{name: "type error", code: "function handler(w) {\n\n  return w.nope.x\n}", err: "TypeError", line: 3},
		{name: "infinite loop", code: "function handler(w) {\n  for (;;) {}\n}", err: "timed out"},
		{name: "top-level loop", code: "while (true) {}\nfunction handler(w) { return w }", err: "timed out"},
		{name: "allocation", code: "function handler(w) {\n  var a = []; for (;;) { a.push(new Array(1000).join('x')) }\n}", err: "timed out"},
		{name: "recursion", code: "function f(n) { return f(n + 1) + 1 }\nfunction handler(w) { return f(0) }", err: "call stack", line: 1},
		{name: "returns undefined", code: `function handler(w) { }`, err: "must return the webhook object"},
		{name: "returns number", code: `function handler(w) { return 42 }`, err: "must return"},
		{name: "bad method", code: `function handler(w) { w.method = "DELETE"; return w }`, err: "method must be"},
		{name: "bad url", code: `function handler(w) { w.url = "ftp://x"; return w }`, err: "url must be"},
		{name: "no payload", code: `function handler(w) { delete w.payload; return w }`, err: "payload is undefined"},
		{name: "function payload", code: `function handler(w) { w.payload = function(){}; return w }`, err: "JSON value"},
		{name: "signature header", code: `function handler(w) { w.headers["webhook-signature"] = "x"; return w }`, err: "cannot be changed"},
		{name: "content type", code: `function handler(w) { w.headers["Content-Type"] = "text/plain"; return w }`, err: "cannot be changed"},
		{name: "header not string", code: `function handler(w) { w.headers["X-N"] = 1; return w }`, err: "must be a string"},
		{name: "header newline", code: `function handler(w) { w.headers["X-N"] = "a\nb"; return w }`, err: "one line"},
		{name: "output too big", code: `function handler(w) { w.payload = "x".repeat(300000); return w }`, err: "at most 262144"},
		{name: "no require", code: `function handler(w) { require("fs"); return w }`, err: "ReferenceError"},
		{name: "no timers", code: `function handler(w) { setTimeout(function(){}, 1); return w }`, err: "ReferenceError"},
		{name: "no fetch", code: `function handler(w) { fetch("http://x"); return w }`, err: "ReferenceError"},
		{name: "circular payload", code: `function handler(w) { var a = {}; a.a = a; w.payload = a; return w }`, err: "TypeError"},
		// The payload is written by a native writer (json.go): a getter's
		// throw and a looping getter come back as from JSON.stringify.
		{name: "getter throws", code: "function handler(w) {\n  w.payload = {get x() {\n    throw new Error('getter') } }; return w }", err: "Error: getter", line: 3},
		{name: "getter loops", code: "function handler(w) { w.payload = [{get x() { for (;;) {} }}]; return w }", err: "timed out"},
		{name: "huge sparse array", code: "function handler(w) { var a = []; a.length = 1e9; w.payload = a; return w }", err: "at most 262144"},
		{name: "toJSON", code: "function handler(w) { w.payload = {a: new Date(0), b: {toJSON: function () { return 'j' }}}; return w }",
			want: Output{Method: "POST", URL: "https://example.com/hook", Headers: map[string]string{"X-A": "1"}, Body: []byte(`{"a":"1970-01-01T00:00:00.000Z","b":"j"}`)}},
		{name: "dropped values", code: "function handler(w) { w.payload = {a: undefined, f: function () {}, n: [undefined, NaN, -0], s: 'é\u2028\u0001'}; return w }",
			want: Output{Method: "POST", URL: "https://example.com/hook", Headers: map[string]string{"X-A": "1"}, Body: []byte("{\"n\":[null,null,0],\"s\":\"é\u2028\\u0001\"}")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			p, err := Compile(c.code)
			var out *Output
			if err == nil {
				out, err = p.Run(input())
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %s", d)
			}
			if c.err != "" {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("err = %v (%T), want an *Error with %q", err, err, c.err)
				}
				if !strings.Contains(e.Error(), c.err) {
					t.Errorf("err = %q, want %q", e.Error(), c.err)
				}
				if c.line != 0 && (e.Line != c.line || e.Column == 0) {
					t.Errorf("err at %d:%d, want line %d", e.Line, e.Column, c.line)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(out)
			want, _ := json.Marshal(c.want)
			if string(got) != string(want) {
				t.Errorf("got %s\nwant %s", got, want)
			}
		})
	}
}

// TestRuntimesIsolated: a program's globals never reach another program's
// runs, and a runtime interrupted by the time limit is not reused.
func TestRuntimesIsolated(t *testing.T) {
	a, err := Compile(`function handler(w) { globalThis.leak = "a"; return w }`)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Compile(`function handler(w) { w.payload = typeof leak; return w }`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Run(input()); err != nil {
		t.Fatal(err)
	}
	out, err := b.Run(input())
	if err != nil {
		t.Fatal(err)
	}
	if string(out.Body) != `"undefined"` {
		t.Errorf("b sees a's global: %s", out.Body)
	}
	slow, err := Compile(`var n = 0; function handler(w) { n++; if (w.eventType === "loop") for (;;) {} w.payload = n; return w }`)
	if err != nil {
		t.Fatal(err)
	}
	loop := input()
	loop.EventType = "loop"
	if _, err := slow.Run(loop); err == nil {
		t.Fatal("first run did not time out")
	}
	out, err = slow.Run(input())
	if err != nil {
		t.Fatal(err)
	}
	if string(out.Body) != "1" {
		t.Errorf("second run = %s, want 1 (a fresh runtime)", out.Body)
	}
}

func TestConcurrent(t *testing.T) {
	p, err := Compile(Templates[0].Code)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	for i := 0; i < 8; i++ {
		go func() {
			for j := 0; j < 50; j++ {
				if _, err := p.Run(input()); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for i := 0; i < 8; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func TestCache(t *testing.T) {
	c := NewCache(2)
	code := `function handler(w) { return w }`
	p1, err := c.Program(code)
	if err != nil {
		t.Fatal(err)
	}
	p2, _ := c.Program(code)
	if p1 != p2 {
		t.Error("same code compiled twice")
	}
	if _, err := c.Program("function ("); err == nil {
		t.Error("bad code compiled")
	}
	_, _ = c.Program(`function handler(w) { return w } // 3`)
	if c.Len() > 2 {
		t.Errorf("cache holds %d, max 2", c.Len())
	}
}

func TestCodeLimit(t *testing.T) {
	code := "function handler(w) { return w }\n//" + strings.Repeat("x", MaxCode)
	if _, err := Compile(code); err == nil || !strings.Contains(err.Error(), "at most") {
		t.Errorf("err = %v", err)
	}
}

// golden returns the built-in events' golden envelopes.
func golden(t testing.TB) map[string][]byte {
	files, err := filepath.Glob("../payload/testdata/*.golden.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden envelopes: %v", err)
	}
	m := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m[strings.TrimSuffix(filepath.Base(f), ".golden.json")] = b
	}
	m["custom"] = []byte(`{"id":"e9","object":"event","event":"call.ended","created_at":"2024-04-10 18:16:50","data":{"duration":61}}`)
	return m
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{`w`, `1`, `null`, `{payload: 1}`, `{method: "PUT", url: "http://x", payload: [1, {}]}`, `{cancel: 1}`,
		`{url: "https://a", headers: {"X": "y"}, payload: "s"}`, `{payload: {toJSON: function() { return 5 }}, url: "http://a"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ret string) {
		if len(ret) > 512 {
			return
		}
		p, err := Compile("function handler(w) { return (" + ret + "\n) }")
		if err != nil {
			return
		}
		out, err := p.Run(input())
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if out.Cancel {
			return
		}
		if !json.Valid(out.Body) || len(out.Body) > MaxOutput {
			t.Fatalf("body %q", out.Body)
		}
		if err := checkURL(out.URL); err != nil {
			t.Fatalf("url %q passed", out.URL)
		}
		if out.Method != "POST" && out.Method != "PUT" && out.Method != "PATCH" {
			t.Fatalf("method %q", out.Method)
		}
	})
}

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRun is one run per op, as an attempt makes it (delivery/attempt.go):
// the program from the cache by its code, the event type left to the
// payload.
func BenchmarkRun(b *testing.B) {
	env := golden(b)["captured_form.created"]
	cache := NewCache(0)
	for _, tc := range []struct{ name, code string }{
		{"identity", `function handler(w) { return w }`},
		{"slack", Templates[0].Code},
		{"discord", Templates[1].Code},
		{"teams", Templates[2].Code},
		{"google_chat", Templates[3].Code},
	} {
		b.Run(tc.name, func(b *testing.B) {
			// A copy, as each claim reads the webhook's code afresh.
			code := strings.Clone(tc.code)
			if _, err := cache.Program(code); err != nil {
				b.Fatal(err)
			}
			in := Input{Method: "POST", URL: "https://hooks.slack.com/services/x", Payload: env}
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				p, err := cache.Program(tc.code)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := p.Run(in); err != nil {
					b.Fatal(err)
				}
			}
			// CPU per run: wall time on a shared machine measures the
			// neighbours as well.
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// A broker destination's endpoint (redis://, nats://, amqp://) is the url a
// transformation gets; left as it is, it passes; changed, the url must be
// http or https.
func TestBrokerURL(t *testing.T) {
	for _, c := range []struct {
		code, err string
	}{
		{`function handler(w) { w.payload = {a: 1}; return w }`, ""},
		{`function handler(w) { w.url = "redis://other:6379/0"; return w }`, "url must be"},
		{`function handler(w) { w.url = "https://example.com/x"; return w }`, ""},
	} {
		p, err := Compile(c.code)
		if err != nil {
			t.Fatal(err)
		}
		out, err := p.Run(Input{Method: "POST", URL: "redis://127.0.0.1:6379/0", Payload: envelope})
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.code, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: err %v, want %q", c.code, err, c.err)
		case c.err == "" && out.URL == "":
			t.Errorf("%s: no url", c.code)
		}
	}
}
