package transform

import (
	"encoding/json"
	"errors"
	"net/textproto"
	"slices"
	"strings"
	"testing"

	"github.com/dop251/goja"
)

// parseJSON gives what JSON.parse gives, or declines (and JSON.parse is
// used): compared by JSON.stringify, and by key order and own properties
// where stringify could hide a difference.
func FuzzParseJSON(f *testing.F) {
	for _, env := range golden(f) {
		f.Add(string(env))
	}
	for _, s := range []string{
		`{}`, `[]`, `""`, `0`, `-0`, `1e400`, `-1.5e-3`, `01`, `1.`, `.5`, `true`, `nul`, ` [1, 2 ,3 ] `,
		`{"a":1,"a":2,"b":3}`, `{"__proto__":{"x":1}}`, `"\ud800"`, `"\u00e9\n\"\\"`, "\"\xff\"", "\"a\tb\"",
		`{"a":[{"b":[null,false,{"c":"d"}]}]}`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `[` + strings.Repeat("[", 600) + `]`,
		`"é😀"`, `123456789012345678901234567890`, `{"1":1,"0":0,"b":2}`,
	} {
		f.Add(s)
	}
	rt := goja.New()
	parse, _ := goja.AssertFunction(rt.Get("JSON").ToObject(rt).Get("parse"))
	check, _ := goja.AssertFunction(must(rt.RunString(`(function (a, b) {
  function same(a, b) {
    if (typeof a !== typeof b) return false;
    if (a === null || typeof a !== "object") return Object.is(a, b) || (a !== a && b !== b);
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
    var ka = Object.getOwnPropertyNames(a), kb = Object.getOwnPropertyNames(b);
    if (ka.length !== kb.length) return false;
    for (var i = 0; i < ka.length; i++) {
      if (ka[i] !== kb[i] || !same(a[ka[i]], b[kb[i]])) return false;
    }
    return true;
  }
  return same(a, b) && JSON.stringify(a) === JSON.stringify(b);
})`)))
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseJSON(rt, []byte(s))
		want, err := parse(goja.Undefined(), rt.ToValue(s))
		if !ok {
			return // JSON.parse decides, as before
		}
		if err != nil {
			t.Fatalf("parseJSON took %q, which JSON.parse refuses: %v", s, err)
		}
		same, err := check(goja.Undefined(), got, want)
		if err != nil || !same.ToBoolean() {
			t.Fatalf("parseJSON(%q) differs from JSON.parse (%v)", s, err)
		}
	})
}

func must(v goja.Value, err error) goja.Value {
	if err != nil {
		panic(err)
	}
	return v
}

// The native writer writes what JSON.stringify writes, or declines (and
// JSON.stringify is used), for any value a handler can return.
func FuzzWriteJSON(f *testing.F) {
	for _, env := range golden(f) {
		f.Add(string(env))
	}
	for _, s := range []string{
		`{}`, `[]`, `""`, `0`, `-0`, `1e21`, `0.1`, `-1.5e-7`, `NaN`, `Infinity`, `true`, `null`, `undefined`,
		`[1, , 3]`, `[undefined, function(){}, Symbol("s")]`, `{a: undefined, b: function(){}, c: 1}`,
		`{"__proto__": 1}`, `Object.create(null)`, `Object.create({inherited: 1})`, `{2: "b", 1: "a", x: 0}`,
		`"\ud800"`, `"é😀\u2028\u0007\"\\\/"`, `"\ufffd"`, `new Date(0)`, `new String("s")`, `new Number(3)`,
		`{toJSON: function () { return 5 }}`, `{get g() { return {deep: [1]} }}`, `10n`, `new Map([[1, 2]])`,
		`new Uint8Array(3)`, `(function () { return arguments })(1, 2)`, `new Error("e")`, `/re/g`,
		`(function () { var a = []; a.push(a); return a })()`, `new Proxy({a: 1}, {})`, `new Proxy([1, 2], {})`,
		`[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]`, `{a: {b: {c: [{d: "e"}]}}}`, `"x".repeat(1000)`,
		`Object.defineProperty({}, "hidden", {value: 1, enumerable: false})`, `2147483648`, `-2147483649`,
		`9007199254740993`, `5e-324`, `1.7976931348623157e308`,
	} {
		f.Add(s)
	}
	rt := goja.New()
	rt.SetMaxCallStackSize(maxCallStack)
	stringify, _ := goja.AssertFunction(rt.Get("JSON").ToObject(rt).Get("stringify"))
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 4096 {
			return
		}
		var v goja.Value
		if err := guard(rt, func() error {
			var err error
			v, err = rt.RunString("(" + src + "\n)")
			return err
		}); err != nil || goja.IsUndefined(v) {
			return
		}
		w := &jsonWriter{}
		var res int
		if err := guard(rt, func() (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = &Error{Message: "threw"} // a getter's throw; the VM path returns it as an error
				}
			}()
			res = w.write(v, 0)
			return nil
		}); err != nil || res != writeOK {
			return
		}
		var want goja.Value
		if err := guard(rt, func() error {
			var err error
			want, err = stringify(goja.Undefined(), v)
			return err
		}); err != nil {
			t.Fatalf("%s: the writer took it, JSON.stringify threw: %v", src, err)
		}
		if goja.IsUndefined(want) || string(w.buf) != want.String() {
			t.Fatalf("%s: writer %s, JSON.stringify %v", src, w.buf, want)
		}
	})
}

// Any handler body on any payload bytes: Run never panics, an error is an
// *Error, and what it returns holds to the limits (a JSON body of at most
// MaxOutput, a method and URL allowed, headers that are tokens, not
// reserved, one line each).
func FuzzRun(f *testing.F) {
	env := golden(f)["conversation.closed"]
	for _, s := range []string{
		`return w`, `w.payload = w.payload.data; return w`, `w.headers["X-A"] = "b"; return w`, `w.cancel = true; return w`,
		`w.payload = {get x() { throw new Error("g") }}; return w`, `w.payload = new Proxy({}, {ownKeys: function () { throw 1 }}); return w`,
		`w.payload = [w, w.payload]; return w`, `w.headers = {"Webhook-Signature": "x"}; return w`, `w.url = "http://" + "a".repeat(3000); return w`,
		`w.method = {toString: function () { return "PUT" }}; return w`, `Object.prototype.toJSON = function () { return 1 }; return w`,
		`w.payload = Symbol("s"); return w`, `w.payload = 10n; return w`, `return new Proxy(w, {})`, `w.headers = new Proxy({}, {}); return w`,
	} {
		f.Add(s, string(env))
		f.Add(s, `{"event": "x", "data": [1, "\ud800", {"__proto__": null}]}`)
	}
	f.Add(`return w`, `not json`)
	f.Fuzz(func(t *testing.T, body, payload string) {
		if len(body) > 1024 || len(payload) > 8192 {
			return
		}
		p, err := Compile("function handler(w) {\n" + body + "\n}")
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("compile error of type %T: %v", err, err)
			}
			return
		}
		out, err := p.Run(Input{Method: "POST", URL: "https://example.com/hook", Payload: []byte(payload), Headers: map[string]string{"X-A": "1"}})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("run error of type %T: %v", err, err)
			}
			return
		}
		if out.Cancel {
			return
		}
		if !json.Valid(out.Body) || len(out.Body) > MaxOutput {
			t.Fatalf("body %.200q", out.Body)
		}
		if checkURL(out.URL) != nil || (out.Method != "POST" && out.Method != "PUT" && out.Method != "PATCH") {
			t.Fatalf("request %s %q", out.Method, out.URL)
		}
		if len(out.Headers) > MaxHeaders {
			t.Fatalf("%d headers", len(out.Headers))
		}
		for k, v := range out.Headers {
			if !validToken(k) || slices.Contains(reserved, textproto.CanonicalMIMEHeaderKey(k)) || strings.ContainsAny(v, "\r\n\x00") {
				t.Fatalf("header %q: %q", k, v)
			}
		}
	})
}
