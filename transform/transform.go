// Package transform runs a webhook's JavaScript transformation, in Svix's
// shape: the code defines function handler(webhook), gets
// {method, url, eventType, payload, headers} and returns it changed (or with
// cancel = true). The engine is goja (pure Go): a Program is compiled once
// per webhook version (Cache) and shared; runtimes are not shareable, so
// each Program keeps a pool of its own (one webhook's globals never reach
// another's). A run has MaxDuration and an output of at most MaxOutput; the
// runtime has no require, no network, no timers and no host objects.
package transform

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/textproto"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"
)

// Limits of a transformation.
const (
	MaxCode        = 64 << 10               // bytes of code
	MaxOutput      = 256 << 10              // bytes of the body (payload) it returns
	MaxDuration    = 100 * time.Millisecond // wall time of one run
	MaxHeaders     = 20                     // headers it may return
	MaxHeaderBytes = 4 << 10                // names and values in all
	// maxCallStack bounds recursion: goja's default is unbounded, which a
	// recursing handler turns into heap until the interrupt.
	maxCallStack = 1024
)

// reserved are the headers a transformation cannot set: the signature
// headers, the body's framing and type, hop-by-hop headers (as a webhook's
// extra headers, service/webhook.go).
var reserved = []string{
	"Webhook-Id", "Webhook-Timestamp", "Webhook-Signature", "Content-Type", "Content-Length",
	"Content-Encoding", "Transfer-Encoding", "Host", "Connection", "Keep-Alive", "Te", "Trailer", "Upgrade",
	"Proxy-Authorization", "Proxy-Connection",
}

// Input is what handler(webhook) receives.
type Input struct {
	Method    string // "POST"
	URL       string
	EventType string // "": the envelope's "event"
	Payload   []byte // the envelope, JSON
	Headers   map[string]string
}

// Output is what the run decided: the request to send, or Cancel.
type Output struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"` // the payload it returned, as JSON
	Cancel  bool              `json:"cancel"`
}

// Error is a transformation's failure: a syntax error, a throw, a time-out
// or a bad return value, with the line and column in the code when known.
type Error struct {
	Message string `json:"message"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("transformation: line %d, column %d: %s", e.Line, e.Column, e.Message)
	}
	return "transformation: " + e.Message
}

// Program is compiled code, safe for concurrent use.
type Program struct {
	prog *goja.Program
	// free holds idle runtimes. Not a sync.Pool: that drops them at every
	// GC, and a new runtime costs far more than a run. Two per program
	// (the cores of the machine it was sized for); more concurrent runs
	// make runtimes that are dropped after.
	free chan *vm
}

// vm is one runtime with the code run in it: handler and the JSON
// functions it needs, looked up once.
type vm struct {
	rt        *goja.Runtime
	handler   goja.Callable
	parse     goja.Callable
	stringify goja.Callable
	// write is the native JSON writer (json.go) as a function of rt; it
	// writes into w, whose buffer each run starts afresh and hands over.
	write goja.Callable
	w     jsonWriter
	// sizeHint is the output buffer's first capacity: the run's input size.
	sizeHint int
}

const fileName = "transformation.js"

// Compile compiles code and checks that it defines function handler.
func Compile(code string) (*Program, error) {
	if len(code) > MaxCode {
		return nil, &Error{Message: fmt.Sprintf("code is %d bytes, at most %d", len(code), MaxCode)}
	}
	prog, err := goja.Compile(fileName, code, false)
	if err != nil {
		return nil, compileError(err)
	}
	p := &Program{prog: prog, free: make(chan *vm, 2)}
	v, err := p.newVM()
	if err != nil {
		return nil, err
	}
	p.free <- v
	return p, nil
}

func compileError(err error) *Error {
	var list parser.ErrorList
	var one *parser.Error
	var ce *goja.CompilerSyntaxError
	var re *goja.CompilerReferenceError
	switch {
	case errors.As(err, &list) && len(list) > 0:
		return &Error{Message: "SyntaxError: " + list[0].Message, Line: list[0].Position.Line, Column: list[0].Position.Column}
	case errors.As(err, &one):
		return &Error{Message: "SyntaxError: " + one.Message, Line: one.Position.Line, Column: one.Position.Column}
	case errors.As(err, &ce):
		return posError("SyntaxError: "+ce.Message, &ce.CompilerError)
	case errors.As(err, &re):
		return posError("ReferenceError: "+re.Message, &re.CompilerError)
	}
	return &Error{Message: err.Error()}
}

// lineCol is how goja writes a parser error's position into the message
// when it has no file to resolve an offset with.
var lineCol = regexp.MustCompile(`^(?:[^:]*: )?Line (\d+):(\d+) `)

func posError(msg string, ce *goja.CompilerError) *Error {
	e := &Error{Message: msg}
	if ce.File != nil {
		pos := ce.File.Position(ce.Offset)
		e.Line, e.Column = pos.Line, pos.Column
	} else if m := lineCol.FindStringSubmatch(ce.Message); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Column, _ = strconv.Atoi(m[2])
		kind, _, _ := strings.Cut(msg, ": ")
		e.Message = kind + ": " + ce.Message[len(m[0]):]
	}
	return e
}

// newVM makes a runtime and runs the code in it (the top level, under the
// time limit too: it may loop).
func (p *Program) newVM() (*vm, error) {
	rt := goja.New()
	rt.SetMaxCallStackSize(maxCallStack)
	v := &vm{rt: rt}
	if err := guard(rt, func() error {
		_, err := rt.RunProgram(p.prog)
		return err
	}); err != nil {
		return nil, err
	}
	h, ok := goja.AssertFunction(rt.Get("handler"))
	if !ok {
		return nil, &Error{Message: "the code must define function handler(webhook)"}
	}
	v.handler = h
	j := rt.Get("JSON").ToObject(rt)
	v.parse, _ = goja.AssertFunction(j.Get("parse"))
	v.stringify, _ = goja.AssertFunction(j.Get("stringify"))
	v.write, _ = goja.AssertFunction(rt.ToValue(func(call goja.FunctionCall) goja.Value {
		return rt.ToValue(v.w.write(call.Argument(0), 0))
	}))
	return v, nil
}

var errTimeout = errors.New("timeout")

// timeout is MaxDuration; tests of this package raise it for the runs
// that are not about the limit (the race detector on a loaded machine).
var timeout = MaxDuration

// guard runs f under MaxDuration and turns what the runtime raised into an
// *Error with its position.
func guard(rt *goja.Runtime, f func() error) (err error) {
	// A timer that fires as f returns must not leave the interrupt set on a
	// runtime that goes back to the pool: the next run, another delivery's,
	// would fail at once as "timed out". Once f has returned, the timer
	// interrupts no more, and whatever it set is cleared.
	var mu sync.Mutex
	finished := false
	t := time.AfterFunc(timeout, func() {
		mu.Lock()
		defer mu.Unlock()
		if !finished {
			rt.Interrupt(errTimeout)
		}
	})
	defer func() {
		mu.Lock()
		finished = true
		mu.Unlock()
		t.Stop()
		rt.ClearInterrupt()
	}()
	defer func() {
		// goja panics only on its own bugs; a transformation must not take
		// the process with it.
		if r := recover(); r != nil {
			err = &Error{Message: fmt.Sprintf("internal error: %v", r)}
		}
	}()
	return runError(f())
}

func runError(err error) error {
	if err == nil {
		return nil
	}
	var ie *goja.InterruptedError
	var so *goja.StackOverflowError
	var ex *goja.Exception
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.As(err, &ie):
		return withPos(&Error{Message: fmt.Sprintf("timed out after %s", timeout)}, ie.Stack())
	case errors.As(err, &so):
		return withPos(&Error{Message: "RangeError: maximum call stack size exceeded"}, so.Stack())
	case errors.As(err, &ex):
		msg := ex.Value().String()
		if o, ok := ex.Value().(*goja.Object); ok {
			if s := o.Get("stack"); s != nil && !goja.IsUndefined(s) {
				// "Error: msg\n\tat ...": the first line is the message.
				msg, _, _ = strings.Cut(s.String(), "\n")
			}
		}
		return withPos(&Error{Message: msg}, ex.Stack())
	}
	return &Error{Message: err.Error()}
}

// withPos takes the innermost frame of the transformation's own file.
func withPos(e *Error, stack []goja.StackFrame) *Error {
	for _, f := range stack {
		if f.SrcName() == fileName {
			pos := f.Position()
			e.Line, e.Column = pos.Line, pos.Column
			break
		}
	}
	return e
}

// Run calls handler with in and decodes what it returned. An error is
// always an *Error.
func (p *Program) Run(in Input) (*Output, error) {
	var v *vm
	select {
	case v = <-p.free:
	default:
		var err error
		if v, err = p.newVM(); err != nil {
			return nil, err
		}
	}
	out, reuse, err := v.run(in)
	if reuse {
		select {
		case p.free <- v:
		default:
		}
	}
	return out, err
}

// run makes one call; reuse is false when the runtime was interrupted or
// may be in a bad state, and must be dropped.
func (v *vm) run(in Input) (out *Output, reuse bool, err error) {
	rt := v.rt
	err = guard(rt, func() error {
		v.sizeHint = len(in.Payload)
		payload, ok := parseJSON(rt, in.Payload)
		if !ok {
			var err error
			if payload, err = v.parse(goja.Undefined(), rt.ToValue(string(in.Payload))); err != nil {
				return &Error{Message: "payload is not JSON"}
			}
		}
		eventType := in.EventType
		if eventType == "" {
			if o, ok := payload.(*goja.Object); ok {
				eventType, _ = exportString(o.Get("event"))
			}
		}
		w := rt.NewObject()
		headers := rt.NewObject()
		for k, val := range in.Headers {
			_ = headers.Set(k, val)
		}
		method := in.Method
		if method == "" {
			method = "POST"
		}
		_ = w.Set("method", method)
		_ = w.Set("url", in.URL)
		_ = w.Set("eventType", eventType)
		_ = w.Set("payload", payload)
		_ = w.Set("headers", headers)
		ret, err := v.handler(goja.Undefined(), w)
		if err != nil {
			return err
		}
		out, err = v.decode(ret, in.URL)
		return err
	})
	var e *Error
	if err != nil && errors.As(err, &e) && strings.HasPrefix(e.Message, "timed out") {
		return nil, false, err
	}
	if err != nil && strings.HasPrefix(err.Error(), "transformation: internal error") {
		return nil, false, err
	}
	return out, true, err
}

// decode checks the handler's return value (stringify runs under the
// guard too: a getter or toJSON is the transformation's code).
//
// A url left as it came (in) is the webhook's own endpoint, held to the
// endpoint rules when saved: a broker destination's (amqp://, nats://,
// redis://) passes as it is; a url the code changed must be http or https.
func (v *vm) decode(ret goja.Value, in string) (*Output, error) {
	o, ok := ret.(*goja.Object)
	if !ok || goja.IsNull(ret) {
		return nil, &Error{Message: "handler must return the webhook object, got " + typeName(ret)}
	}
	out := &Output{}
	if c := o.Get("cancel"); c != nil && c.ToBoolean() {
		out.Cancel = true
		return out, nil
	}
	m := o.Get("method")
	if m == nil || goja.IsUndefined(m) {
		out.Method = "POST"
	} else if s, ok := m.Export().(string); ok && slices.Contains([]string{"POST", "PUT", "PATCH"}, strings.ToUpper(s)) {
		out.Method = strings.ToUpper(s)
	} else {
		return nil, &Error{Message: "method must be POST, PUT or PATCH"}
	}
	u, _ := exportString(o.Get("url"))
	if err := checkURL(u); err != nil && (u != in || u == "") {
		return nil, err
	}
	out.URL = u
	hs, err := v.headers(o.Get("headers"))
	if err != nil {
		return nil, err
	}
	out.Headers = hs
	pv := o.Get("payload")
	if pv == nil || goja.IsUndefined(pv) {
		return nil, &Error{Message: "payload is undefined: return the webhook with a payload"}
	}
	if _, ok := goja.AssertFunction(pv); ok {
		return nil, &Error{Message: "payload must be a JSON value"}
	}
	v.w.buf = make([]byte, 0, v.sizeHint)
	res, err := v.write(goja.Undefined(), pv)
	body := v.w.buf
	v.w.buf = nil
	if err != nil {
		return nil, err
	}
	switch res.ToInteger() {
	case writeOK:
		if len(body) > MaxOutput {
			return nil, &Error{Message: fmt.Sprintf("payload is %d bytes as JSON, at most %d", len(body), MaxOutput)}
		}
		out.Body = body
		return out, nil
	case writeTooBig:
		return nil, &Error{Message: fmt.Sprintf("payload is more than %d bytes as JSON, at most %d", MaxOutput, MaxOutput)}
	}
	js, err := v.stringify(goja.Undefined(), pv)
	if err != nil {
		return nil, err
	}
	if goja.IsUndefined(js) {
		return nil, &Error{Message: "payload must be a JSON value, got " + typeName(pv)}
	}
	s := js.String()
	if len(s) > MaxOutput {
		return nil, &Error{Message: fmt.Sprintf("payload is %d bytes as JSON, at most %d", len(s), MaxOutput)}
	}
	out.Body = json.RawMessage(s)
	return out, nil
}

func exportString(v goja.Value) (string, bool) {
	if v == nil {
		return "", false
	}
	s, ok := v.Export().(string)
	return s, ok
}

func typeName(v goja.Value) string {
	switch {
	case v == nil || goja.IsUndefined(v):
		return "undefined"
	case goja.IsNull(v):
		return "null"
	}
	return v.ExportType().String()
}

// checkURL allows an absolute http or https URL; the endpoint rules
// (private addresses) are held at dial time by the egress client.
func checkURL(s string) error {
	if s == "" {
		return &Error{Message: "url must be a string"}
	}
	if len(s) > 2048 {
		return &Error{Message: "url is longer than 2048 characters"}
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &Error{Message: "url must be an absolute http or https URL"}
	}
	return nil
}

func (v *vm) headers(h goja.Value) (map[string]string, error) {
	if h == nil || goja.IsUndefined(h) || goja.IsNull(h) {
		return map[string]string{}, nil
	}
	o, ok := h.(*goja.Object)
	if !ok {
		return nil, &Error{Message: "headers must be an object of strings"}
	}
	keys := o.Keys()
	if len(keys) > MaxHeaders {
		return nil, &Error{Message: fmt.Sprintf("at most %d headers", MaxHeaders)}
	}
	out := make(map[string]string, len(keys))
	total := 0
	for _, k := range keys {
		val, ok := exportString(o.Get(k))
		if !ok {
			return nil, &Error{Message: fmt.Sprintf("header %s must be a string", k)}
		}
		if !validToken(k) {
			return nil, &Error{Message: fmt.Sprintf("header name %q is not an HTTP token", k)}
		}
		if slices.Contains(reserved, textproto.CanonicalMIMEHeaderKey(k)) {
			return nil, &Error{Message: fmt.Sprintf("header %s is set by agenthooks and cannot be changed", k)}
		}
		if strings.ContainsAny(val, "\r\n\x00") {
			return nil, &Error{Message: fmt.Sprintf("header %s must be one line", k)}
		}
		total += len(k) + len(val)
		out[k] = val
	}
	if total > MaxHeaderBytes {
		return nil, &Error{Message: fmt.Sprintf("headers are more than %d bytes in all", MaxHeaderBytes)}
	}
	return out, nil
}

func validToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return true
}
