package transform

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// The payload goes into the runtime as JS values built here, straight from
// the stored bytes: goja's JSON.parse reads through encoding/json's Token
// API, one allocated token at a time, and was a fifth of a template run's
// CPU. The result is what JSON.parse gives (keys in order, a duplicate key's
// last value in its first place, "__proto__" an own property, numbers as
// float64, strings unescaped as encoding/json does); on anything this
// parser does not take (bad JSON, nesting deeper than maxParseDepth) the
// caller falls back to JSON.parse, which then says what is wrong. A fuzz
// test holds the two equal.

// maxParseDepth bounds the recursion of parseJSON; deeper input goes to
// JSON.parse.
const maxParseDepth = 512

type jsonParser struct {
	rt   *goja.Runtime
	b    []byte
	i    int
	vals []goja.Value // scratch for arrays, reused across nesting levels
}

// parseJSON returns b as JS values of rt, or ok false when b is not JSON
// this parser takes.
func parseJSON(rt *goja.Runtime, b []byte) (v goja.Value, ok bool) {
	p := &jsonParser{rt: rt, b: b}
	v, ok = p.value(0)
	if !ok {
		return nil, false
	}
	p.space()
	return v, p.i == len(p.b)
}

func (p *jsonParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) value(depth int) (goja.Value, bool) {
	if depth > maxParseDepth {
		return nil, false
	}
	p.space()
	if p.i >= len(p.b) {
		return nil, false
	}
	switch c := p.b[p.i]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		s, ok := p.str()
		if !ok {
			return nil, false
		}
		return p.rt.ToValue(s), true
	case c == 't':
		return p.literal("true", p.rt.ToValue(true))
	case c == 'f':
		return p.literal("false", p.rt.ToValue(false))
	case c == 'n':
		return p.literal("null", goja.Null())
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	return nil, false
}

func (p *jsonParser) literal(word string, v goja.Value) (goja.Value, bool) {
	if len(p.b)-p.i < len(word) || string(p.b[p.i:p.i+len(word)]) != word {
		return nil, false
	}
	p.i += len(word)
	return v, true
}

func (p *jsonParser) object(depth int) (goja.Value, bool) {
	p.i++ // {
	o := p.rt.NewObject()
	p.space()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return o, true
	}
	for {
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return nil, false
		}
		k, ok := p.str()
		if !ok {
			return nil, false
		}
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return nil, false
		}
		p.i++
		v, ok := p.value(depth + 1)
		if !ok {
			return nil, false
		}
		// A data property of its own, as JSON.parse makes: Set would run
		// the __proto__ setter.
		if o.DefineDataProperty(k, v, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE) != nil {
			return nil, false
		}
		p.space()
		if p.i >= len(p.b) {
			return nil, false
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return o, true
		default:
			return nil, false
		}
	}
}

func (p *jsonParser) array(depth int) (goja.Value, bool) {
	p.i++ // [
	start := len(p.vals)
	defer func() { p.vals = p.vals[:start] }()
	p.space()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return p.rt.NewArray(), true
	}
	for {
		v, ok := p.value(depth + 1)
		if !ok {
			return nil, false
		}
		p.vals = append(p.vals, v)
		p.space()
		if p.i >= len(p.b) {
			return nil, false
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			items := make([]any, len(p.vals)-start)
			for i, v := range p.vals[start:] {
				items[i] = v
			}
			return p.rt.NewArray(items...), true
		default:
			return nil, false
		}
	}
}

// str reads a string at p.i (a '"'). One without escapes in valid UTF-8 is
// sliced; any other goes through encoding/json, as JSON.parse's does (a lone
// surrogate or an invalid byte becomes U+FFFD).
func (p *jsonParser) str() (string, bool) {
	start := p.i
	p.i++
	plain := true
	for p.i < len(p.b) {
		switch c := p.b[p.i]; {
		case c == '"':
			p.i++
			raw := p.b[start:p.i]
			if plain {
				if s := raw[1 : len(raw)-1]; utf8.Valid(s) {
					return string(s), true
				}
			}
			var s string
			if json.Unmarshal(raw, &s) != nil {
				return "", false
			}
			return s, true
		case c == '\\':
			plain = false
			p.i += 2
		case c < 0x20:
			return "", false
		default:
			p.i++
		}
	}
	return "", false
}

// number reads a JSON number (its grammar checked: strconv takes more) as
// a float64, as JSON.parse does.
func (p *jsonParser) number() (goja.Value, bool) {
	start := p.i
	if p.b[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		n := 0
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	intStart := p.i
	n := digits()
	if n == 0 || (n > 1 && p.b[intStart] == '0') {
		return nil, false
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return nil, false
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return nil, false
		}
	}
	f, err := strconv.ParseFloat(string(p.b[start:p.i]), 64)
	if err != nil {
		// Out of float64's range: encoding/json refuses it as well.
		return nil, false
	}
	return p.rt.ToValue(f), true
}

// The returned payload is serialised here, in Go, into bytes: goja's
// JSON.stringify writes rune by rune into a UTF-16 string that then has to
// be turned back into UTF-8 bytes, and was a quarter of a template run's
// CPU. This writer takes plain data only (objects of class Object, arrays,
// strings, finite and non-finite numbers, booleans, null, undefined where
// JSON.stringify drops it); anything else (a toJSON anywhere, a Date, a
// boxed primitive, a BigInt, a symbol, a function, a string with U+FFFD,
// which may stand for a lone surrogate, nesting deeper than maxWriteDepth,
// which may be a cycle) makes it decline, and JSON.stringify runs as before.
// It stops as soon as the output passes MaxOutput. It runs as a native
// function of the runtime, so that a getter's throw or the interrupt comes
// back as an error, as from JSON.stringify. A fuzz test holds its output
// equal to JSON.stringify's.

const maxWriteDepth = 256

// Results of the native writer.
const (
	writeOK       = 0
	writeDeclined = 1
	writeTooBig   = 2
)

type jsonWriter struct {
	buf []byte
}

var (
	typeString  = reflect.TypeFor[string]()
	typeInt64   = reflect.TypeFor[int64]()
	typeFloat64 = reflect.TypeFor[float64]()
	typeBool    = reflect.TypeFor[bool]()
	typeMap     = reflect.TypeFor[map[string]any]()
	typeSlice   = reflect.TypeFor[[]any]()
)

// write appends v as JSON and returns a result code. Undefined is
// declined here: the callers drop it (in an object) or write null (in an
// array) first.
func (w *jsonWriter) write(v goja.Value, depth int) int {
	if len(w.buf) > MaxOutput {
		return writeTooBig
	}
	if v == nil || goja.IsUndefined(v) {
		return writeDeclined // the caller drops or writes null
	}
	if goja.IsNull(v) {
		w.buf = append(w.buf, "null"...)
		return writeOK
	}
	if o, ok := v.(*goja.Object); ok {
		if depth >= maxWriteDepth {
			return writeDeclined
		}
		// The export type first: it tells goja's plain objects and arrays
		// from proxies (whose class name may even throw), functions and
		// host objects.
		et := o.ExportType()
		if et != typeMap && et != typeSlice {
			return writeDeclined
		}
		if tj := o.Get("toJSON"); tj != nil && !goja.IsUndefined(tj) {
			return writeDeclined
		}
		switch c := o.ClassName(); {
		case c == "Array" && et == typeSlice:
			return w.array(o, depth)
		case c == "Object" && et == typeMap:
			return w.object(o, depth)
		}
		return writeDeclined
	}
	switch v.ExportType() {
	case typeString:
		s := v.String()
		if strings.ContainsRune(s, utf8.RuneError) {
			return writeDeclined
		}
		w.quote(s)
	case typeInt64:
		w.buf = strconv.AppendInt(w.buf, v.ToInteger(), 10)
	case typeFloat64:
		if f := v.ToFloat(); math.IsNaN(f) || math.IsInf(f, 0) {
			w.buf = append(w.buf, "null"...)
		} else {
			w.buf = append(w.buf, v.String()...) // JS's Number::toString
		}
	case typeBool:
		if v.ToBoolean() {
			w.buf = append(w.buf, "true"...)
		} else {
			w.buf = append(w.buf, "false"...)
		}
	default:
		return writeDeclined
	}
	return writeOK
}

func (w *jsonWriter) array(o *goja.Object, depth int) int {
	n := o.Get("length").ToInteger()
	w.buf = append(w.buf, '[')
	for i := range n {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		if len(w.buf) > MaxOutput { // holes are written here, not in write
			return writeTooBig
		}
		e := o.Get(strconv.FormatInt(i, 10))
		if e == nil || goja.IsUndefined(e) {
			w.buf = append(w.buf, "null"...)
			continue
		}
		if r := w.write(e, depth+1); r != writeOK {
			return r
		}
	}
	w.buf = append(w.buf, ']')
	return writeOK
}

func (w *jsonWriter) object(o *goja.Object, depth int) int {
	w.buf = append(w.buf, '{')
	first := true
	for _, k := range o.Keys() {
		e := o.Get(k)
		if e == nil || goja.IsUndefined(e) {
			continue // dropped, as JSON.stringify does
		}
		if !first {
			w.buf = append(w.buf, ',')
		}
		first = false
		if strings.ContainsRune(k, utf8.RuneError) {
			return writeDeclined
		}
		w.quote(k)
		w.buf = append(w.buf, ':')
		if r := w.write(e, depth+1); r != writeOK {
			return r
		}
	}
	w.buf = append(w.buf, '}')
	return writeOK
}

// quote writes s as JSON.stringify quotes a string: `"` and `\` escaped,
// the short escapes, other control characters as \u00XX, the rest as is.
func (w *jsonWriter) quote(s string) {
	const hex = "0123456789abcdef"
	w.buf = append(w.buf, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		w.buf = append(w.buf, s[start:i]...)
		switch c {
		case '"', '\\':
			w.buf = append(w.buf, '\\', c)
		case '\b':
			w.buf = append(w.buf, '\\', 'b')
		case '\t':
			w.buf = append(w.buf, '\\', 't')
		case '\n':
			w.buf = append(w.buf, '\\', 'n')
		case '\f':
			w.buf = append(w.buf, '\\', 'f')
		case '\r':
			w.buf = append(w.buf, '\\', 'r')
		default:
			w.buf = append(w.buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		}
		start = i + 1
	}
	w.buf = append(w.buf, s[start:]...)
	w.buf = append(w.buf, '"')
}
