// Package filter matches event envelopes against a webhook's filter, in
// Convoy's syntax (docs/events.md, "Filters"): a JSON object whose keys are
// paths into the envelope (nested objects and dotted keys alike) and whose
// values are plain values to equal or operator objects ($eq, $neq, $gt,
// $gte, $lt, $lte, $in, $nin, $exist, $regex), with $or and $and over lists
// of filters.
//
// Parse validates and compiles a filter once; Match is then pure, safe for
// concurrent use, and reads of the envelope only what the filter's paths
// name. The package knows nothing of webhooks, HTTP or SQL.
package filter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// MaxSize is the largest filter, in bytes of JSON (CONTRACT section 3).
const MaxSize = 4 << 10

// maxNesting bounds how deep a filter's objects and lists go.
const maxNesting = 32

// Error is a filter that cannot be used: Path is where in it the problem is
// (dotted, "" for the whole filter), Msg what it is, in plain words.
type Error struct {
	Path string
	Msg  string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// Filter is a compiled filter. A nil *Filter matches every envelope.
type Filter struct {
	src  string
	root expr
	trie *trie
}

type op uint8

const (
	opAnd op = iota
	opOr
	opEq
	opNeq
	opGt
	opGte
	opLt
	opLte
	opIn
	opNin
	opExist
	opRegex
)

var operators = map[string]op{
	"$and": opAnd, "$or": opOr, "$eq": opEq, "$neq": opNeq, "$gt": opGt, "$gte": opGte, "$lt": opLt,
	"$lte": opLte, "$in": opIn, "$nin": opNin, "$exist": opExist, "$regex": opRegex,
}

// expr is one node of a compiled filter: $and or $or over kids, or a
// condition on the values at path.
type expr struct {
	op    op
	kids  []expr
	path  []string
	arg   value
	exist bool
	re    *regexp.Regexp
}

// trie holds every path a filter reads, so that Match builds only those
// values. full marks a node whose value is read whole (a condition tests it,
// or a path goes on into its array).
type trie struct {
	kids map[string]*trie
	full bool
}

// Parse compiles a filter from its JSON. JSON null (or nothing) is no
// filter: a nil *Filter and no error. Anything else must be a JSON object of
// at most MaxSize bytes, with known operators and operands of their types
// and regular expressions that compile (RE2); otherwise the error is an
// *Error naming where the problem is.
func Parse(src []byte) (*Filter, error) {
	if len(src) > MaxSize {
		return nil, &Error{Msg: fmt.Sprintf("a filter is at most %d bytes of JSON; this one has %d", MaxSize, len(src))}
	}
	src = bytes.TrimSpace(src)
	if len(src) == 0 || string(src) == "null" {
		return nil, nil
	}
	v, err := decode(src)
	if err != nil {
		var any json.RawMessage
		if jerr := json.Unmarshal(src, &any); jerr != nil {
			return nil, &Error{Msg: "not valid JSON: " + jerr.Error()}
		}
		return nil, &Error{Msg: fmt.Sprintf("nested too deep (at most %d levels)", maxNesting)}
	}
	if v.kind != kObj {
		return nil, &Error{Msg: "a filter is a JSON object, such as {\"data.intent_name\": \"SALES\"}"}
	}
	c := compiler{}
	kids, err := c.object(nil, &v, 1)
	if err != nil {
		return nil, err
	}
	f := &Filter{src: string(src), root: expr{op: opAnd, kids: kids}, trie: &trie{}}
	f.root.paths(f.trie)
	return f, nil
}

// String returns the filter's JSON as it was parsed.
func (f *Filter) String() string {
	if f == nil {
		return "null"
	}
	return f.src
}

// Match reports whether the envelope (JSON) passes the filter. A nil filter
// passes everything; an envelope that is not valid JSON passes no filter.
func (f *Filter) Match(envelope []byte) bool {
	if f == nil {
		return true
	}
	// The decoded value dies with this call, before the caller can touch
	// envelope again, so its strings may share envelope's memory.
	r := getReader(envelope)
	defer putReader(r)
	v, err := r.document(f.trie)
	if err != nil {
		return false
	}
	return f.root.eval(&v)
}

type compiler struct{}

func pathName(path []string, key string) string {
	p := strings.Join(path, ".")
	switch {
	case p == "":
		return key
	case key == "":
		return p
	}
	return p + "." + key
}

// isPathKey reports whether a key starting with $ is a path ("$" or "$.x":
// any element of an array) rather than an operator.
func isPathKey(key string) bool { return key == "$" || strings.HasPrefix(key, "$.") }

// object compiles the members of a filter object found at path: each is a
// condition that must hold.
func (c compiler) object(path []string, v *value, depth int) ([]expr, error) {
	if depth > maxNesting {
		return nil, &Error{Path: pathName(path, ""), Msg: fmt.Sprintf("a filter nests at most %d levels", maxNesting)}
	}
	var out []expr
	for i := range v.obj {
		key, val := v.obj[i].key, &v.obj[i].val
		if strings.HasPrefix(key, "$") && !isPathKey(key) {
			e, err := c.operator(path, key, val, depth)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
			continue
		}
		segs := strings.Split(key, ".")
		for _, s := range segs {
			switch {
			case s == "":
				return nil, &Error{Path: pathName(path, key), Msg: "a path has no empty parts (two dots, or a dot at an end)"}
			case s != "$" && strings.HasPrefix(s, "$"):
				return nil, &Error{Path: pathName(path, key), Msg: fmt.Sprintf("%q inside a path: an operator is a key of its own, as in {\"a\": {\"$gt\": 1}}", s)}
			}
		}
		p := append(append([]string(nil), path...), segs...)
		if val.kind == kObj && len(val.obj) > 0 {
			kids, err := c.object(p, val, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, kids...)
			continue
		}
		out = append(out, expr{op: opEq, path: p, arg: *val})
	}
	return out, nil
}

func (c compiler) operator(path []string, key string, val *value, depth int) (expr, error) {
	o, ok := operators[key]
	at := pathName(path, key)
	if !ok {
		return expr{}, &Error{Path: at, Msg: fmt.Sprintf("unknown operator %q; the operators are $eq, $neq, $gt, $gte, $lt, $lte, $in, $nin, $exist, $regex, $or and $and", key)}
	}
	e := expr{op: o, path: path, arg: *val}
	switch o {
	case opAnd, opOr:
		if val.kind != kArr || len(val.arr) == 0 {
			return expr{}, &Error{Path: at, Msg: key + " takes a non-empty list of filters"}
		}
		e.arg = value{}
		for i := range val.arr {
			el := &val.arr[i]
			if el.kind != kObj {
				return expr{}, &Error{Path: at + "." + strconv.Itoa(i), Msg: "each element of " + key + " is a filter (a JSON object)"}
			}
			kids, err := c.object(path, el, depth+1)
			if err != nil {
				return expr{}, err
			}
			e.kids = append(e.kids, expr{op: opAnd, kids: kids})
		}
	case opGt, opGte, opLt, opLte:
		if val.kind != kNum && val.kind != kStr {
			return expr{}, &Error{Path: at, Msg: key + " takes a number (or a string, compared as text)"}
		}
	case opIn, opNin:
		if val.kind != kArr {
			return expr{}, &Error{Path: at, Msg: key + " takes a list of values"}
		}
	case opExist:
		if val.kind != kBool {
			return expr{}, &Error{Path: at, Msg: "$exist takes true or false"}
		}
		e.exist = val.b
	case opRegex:
		if val.kind != kStr {
			return expr{}, &Error{Path: at, Msg: "$regex takes a regular expression as a string"}
		}
		re, err := regexp.Compile(val.s)
		if err != nil {
			return expr{}, &Error{Path: at, Msg: "not a valid regular expression (RE2 syntax): " + strings.TrimPrefix(err.Error(), "error parsing regexp: ")}
		}
		e.re = re
	}
	return e, nil
}

// paths adds the paths e reads to t.
func (e *expr) paths(t *trie) {
	if e.op == opAnd || e.op == opOr {
		for i := range e.kids {
			e.kids[i].paths(t)
		}
		return
	}
	n := t
	for _, s := range e.path {
		if n.full {
			return
		}
		if s == "$" || isIndex(s) {
			// Arrays are read whole: a path through one names no members.
			n.full = true
			return
		}
		if n.kids == nil {
			n.kids = map[string]*trie{}
		}
		k, ok := n.kids[s]
		if !ok {
			k = &trie{}
			n.kids[s] = k
		}
		n = k
	}
	if e.op != opExist {
		n.full = true
	}
}

func isIndex(s string) bool {
	if s == "" || len(s) > 9 {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func (e *expr) eval(root *value) bool {
	switch e.op {
	case opAnd:
		for i := range e.kids {
			if !e.kids[i].eval(root) {
				return false
			}
		}
		return true
	case opOr:
		for i := range e.kids {
			if e.kids[i].eval(root) {
				return true
			}
		}
		return false
	case opExist:
		return e.some(root, e.path) == e.exist
	case opNeq, opNin:
		// Not equal to (or in) anything there: a missing field qualifies.
		return !e.some(root, e.path)
	}
	return e.some(root, e.path)
}

// some reports whether any value at path (a path through "$" may name
// several) passes e's test.
func (e *expr) some(v *value, path []string) bool {
	if len(path) == 0 {
		return e.test(v)
	}
	s := path[0]
	switch v.kind {
	case kObj:
		if c, ok := v.get(s); ok {
			return e.some(c, path[1:])
		}
	case kArr:
		if s == "$" {
			for i := range v.arr {
				if e.some(&v.arr[i], path[1:]) {
					return true
				}
			}
			return false
		}
		if isIndex(s) {
			if i, _ := strconv.Atoi(s); i < len(v.arr) {
				return e.some(&v.arr[i], path[1:])
			}
		}
	}
	return false
}

// test is e's condition on one value. $neq and $nin test as $eq and $in;
// eval negates them over all the values.
func (e *expr) test(v *value) bool {
	switch e.op {
	case opExist:
		return true
	case opEq, opNeq:
		return matchEq(v, &e.arg)
	case opIn, opNin:
		for i := range e.arg.arr {
			if matchEq(v, &e.arg.arr[i]) {
				return true
			}
		}
		return false
	case opGt, opGte, opLt, opLte:
		if v.kind == kArr {
			for i := range v.arr {
				if compare(e.op, &v.arr[i], &e.arg) {
					return true
				}
			}
			return false
		}
		return compare(e.op, v, &e.arg)
	case opRegex:
		if v.kind == kArr {
			for i := range v.arr {
				if v.arr[i].kind == kStr && e.re.MatchString(v.arr[i].s) {
					return true
				}
			}
			return false
		}
		return v.kind == kStr && e.re.MatchString(v.s)
	}
	return false
}

// matchEq is a plain value's rule: v equals want, or v is an array with an
// element equal to want.
func matchEq(v, want *value) bool {
	if equal(v, want) {
		return true
	}
	if v.kind == kArr {
		for i := range v.arr {
			if equal(&v.arr[i], want) {
				return true
			}
		}
	}
	return false
}

// compare orders numbers as numbers and strings as text; other pairs do
// not compare.
func compare(o op, v, arg *value) bool {
	var c int
	switch {
	case v.kind == kNum && arg.kind == kNum:
		c = cmpFloat(v.n, arg.n)
	case v.kind == kStr && arg.kind == kStr:
		c = strings.Compare(v.s, arg.s)
	default:
		return false
	}
	switch o {
	case opGt:
		return c > 0
	case opGte:
		return c >= 0
	case opLt:
		return c < 0
	}
	return c <= 0
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// equal is JSON equality: numbers by value, objects whatever their order.
func equal(a, b *value) bool {
	if a.kind != b.kind {
		return false
	}
	switch a.kind {
	case kNull:
		return true
	case kBool:
		return a.b == b.b
	case kNum:
		return a.n == b.n
	case kStr:
		return a.s == b.s
	case kArr:
		if len(a.arr) != len(b.arr) {
			return false
		}
		for i := range a.arr {
			if !equal(&a.arr[i], &b.arr[i]) {
				return false
			}
		}
		return true
	}
	return sameMembers(a, b) && sameMembers(b, a)
}

// sameMembers reports whether every member of a is in b, equal.
func sameMembers(a, b *value) bool {
	for i := range a.obj {
		av, _ := a.get(a.obj[i].key)
		bv, ok := b.get(a.obj[i].key)
		if !ok || !equal(av, bv) {
			return false
		}
	}
	return true
}
