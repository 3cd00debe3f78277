package filter

import (
	"errors"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// A small JSON reader of its own: Match reads an envelope once per event and
// webhook, and encoding/json's reflection would cost more than the whole
// budget (a few µs). Guided by the filter's paths, it builds values only
// where a condition looks and skips the rest (a transcript it never reads
// costs a byte scan, no allocation).

type kind uint8

const (
	kNull kind = iota
	kBool
	kNum
	kStr
	kArr
	kObj
)

// value is a decoded JSON value; obj keeps its members in document order.
type value struct {
	kind kind
	b    bool
	n    float64
	s    string
	arr  []value
	obj  []member
}

type member struct {
	key string
	val value
}

// get returns the member named key (the last one, as encoding/json keeps).
func (v *value) get(key string) (*value, bool) {
	for i := len(v.obj) - 1; i >= 0; i-- {
		if v.obj[i].key == key {
			return &v.obj[i].val, true
		}
	}
	return nil, false
}

var errSyntax = errors.New("invalid JSON")

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxDepth = 1000

type reader struct {
	b     []byte
	i     int
	depth int
	// alias lets strings share b's memory instead of copying: for Match,
	// whose values live only as long as the call, never for a filter kept.
	alias bool

	// The members of the object being read, and the elements of the list,
	// gather on a stack and are then copied, contiguous, into an arena: a
	// read costs an allocation now and then instead of one per object, and
	// Match's readers (with their arenas) are pooled.
	mstack, marena []member
	vstack, varena []value
}

// keepMembers moves the members gathered since start into the arena.
func (r *reader) keepMembers(start int) []member {
	n := len(r.mstack) - start
	if n == 0 {
		return nil
	}
	if cap(r.marena)-len(r.marena) < n {
		// A new arena; the values read so far keep the old one alive.
		r.marena = make([]member, 0, max(2*cap(r.marena), n, 16))
	}
	off := len(r.marena)
	r.marena = append(r.marena, r.mstack[start:]...)
	clear(r.mstack[start:])
	r.mstack = r.mstack[:start]
	return r.marena[off:len(r.marena):len(r.marena)]
}

// keepValues is keepMembers for a list's elements.
func (r *reader) keepValues(start int) []value {
	n := len(r.vstack) - start
	if n == 0 {
		return nil
	}
	if cap(r.varena)-len(r.varena) < n {
		r.varena = make([]value, 0, max(2*cap(r.varena), n, 16))
	}
	off := len(r.varena)
	r.varena = append(r.varena, r.vstack[start:]...)
	clear(r.vstack[start:])
	r.vstack = r.vstack[:start]
	return r.varena[off:len(r.varena):len(r.varena)]
}

var readers = sync.Pool{New: func() any { return new(reader) }}

// maxPooled bounds the arenas a pooled reader keeps (a huge envelope read
// whole would otherwise pin its arenas in the pool).
const maxPooled = 1 << 12

// getReader is a pooled reader of b whose strings alias b; putReader must
// get it back once the values read are no longer used.
func getReader(b []byte) *reader {
	r := readers.Get().(*reader)
	r.b, r.i, r.depth, r.alias = b, 0, 0, true
	return r
}

func putReader(r *reader) {
	// Drop every reference into b (the strings alias it).
	clear(r.mstack[:cap(r.mstack)])
	clear(r.marena[:cap(r.marena)])
	clear(r.vstack[:cap(r.vstack)])
	clear(r.varena[:cap(r.varena)])
	r.mstack, r.marena, r.vstack, r.varena = r.mstack[:0], r.marena[:0], r.vstack[:0], r.varena[:0]
	if cap(r.marena) > maxPooled || cap(r.varena) > maxPooled || cap(r.mstack) > maxPooled || cap(r.vstack) > maxPooled {
		return
	}
	r.b = nil
	readers.Put(r)
}

func (r *reader) ws() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// value reads one value; t says which parts of it are wanted: nil means
// all of it, a trie node only the members it names (others are skipped).
func (r *reader) value(t *trie) (value, error) {
	r.ws()
	if r.i >= len(r.b) {
		return value{}, errSyntax
	}
	switch c := r.b[r.i]; {
	case c == '{':
		return r.object(t)
	case c == '[':
		return r.array(t)
	case c == '"':
		s, err := r.str()
		return value{kind: kStr, s: s}, err
	case c == 't':
		return value{kind: kBool, b: true}, r.lit("true")
	case c == 'f':
		return value{kind: kBool}, r.lit("false")
	case c == 'n':
		return value{kind: kNull}, r.lit("null")
	default:
		n, err := r.num()
		return value{kind: kNum, n: n}, err
	}
}

func (r *reader) enter() error {
	r.depth++
	if r.depth > maxDepth {
		return errSyntax
	}
	return nil
}

func (r *reader) object(t *trie) (value, error) {
	if err := r.enter(); err != nil {
		return value{}, err
	}
	defer func() { r.depth-- }()
	r.i++ // {
	v := value{kind: kObj}
	r.ws()
	if r.i < len(r.b) && r.b[r.i] == '}' {
		r.i++
		return v, nil
	}
	first := len(r.mstack)
	for {
		r.ws()
		if r.i >= len(r.b) || r.b[r.i] != '"' {
			return v, errSyntax
		}
		// The key is looked up in place (no copy) and copied only when
		// its member is kept.
		start := r.i
		end, esc, err := r.strEnd()
		if err != nil {
			return v, err
		}
		r.i = end
		r.ws()
		if r.i >= len(r.b) || r.b[r.i] != ':' {
			return v, errSyntax
		}
		r.i++
		var child *trie
		want := t == nil
		var key string
		if !want {
			if esc {
				if key, err = unescape(r.b[start+1 : end-1]); err != nil {
					return v, err
				}
				child, want = t.kids[key]
			} else {
				child, want = t.kids[string(r.b[start+1:end-1])]
			}
			if want && child.full {
				child = nil
			}
		}
		if want {
			if key == "" {
				if key, err = r.strAt(start, end, esc); err != nil {
					return v, err
				}
			}
			m, err := r.value(child)
			if err != nil {
				return v, err
			}
			r.mstack = append(r.mstack, member{key: key, val: m})
		} else if err := r.skip(); err != nil {
			return v, err
		}
		r.ws()
		if r.i >= len(r.b) {
			return v, errSyntax
		}
		switch r.b[r.i] {
		case ',':
			r.i++
		case '}':
			r.i++
			v.obj = r.keepMembers(first)
			return v, nil
		default:
			return v, errSyntax
		}
	}
}

// array reads every element in full: a path that goes through an array
// (an index or $) marks its node full, so t is nil here but for an array
// where an object was expected, whose elements no path names.
func (r *reader) array(t *trie) (value, error) {
	if err := r.enter(); err != nil {
		return value{}, err
	}
	defer func() { r.depth-- }()
	r.i++ // [
	v := value{kind: kArr}
	r.ws()
	if r.i < len(r.b) && r.b[r.i] == ']' {
		r.i++
		return v, nil
	}
	start := len(r.vstack)
	for {
		if t != nil {
			if err := r.skip(); err != nil {
				return v, err
			}
		} else {
			e, err := r.value(nil)
			if err != nil {
				return v, err
			}
			r.vstack = append(r.vstack, e)
		}
		r.ws()
		if r.i >= len(r.b) {
			return v, errSyntax
		}
		switch r.b[r.i] {
		case ',':
			r.i++
		case ']':
			r.i++
			v.arr = r.keepValues(start)
			return v, nil
		default:
			return v, errSyntax
		}
	}
}

func (r *reader) lit(s string) error {
	if len(r.b)-r.i < len(s) || string(r.b[r.i:r.i+len(s)]) != s {
		return errSyntax
	}
	r.i += len(s)
	return nil
}

// numEnd returns the end of the number at r.i, checking JSON's grammar.
func (r *reader) numEnd() (int, error) {
	b, i := r.b, r.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return 0, errSyntax
	}
	if i < len(b) && b[i] == '.' {
		i++
		s := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == s {
			return 0, errSyntax
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		s := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == s {
			return 0, errSyntax
		}
	}
	return i, nil
}

func (r *reader) num() (float64, error) {
	end, err := r.numEnd()
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseFloat(string(r.b[r.i:end]), 64)
	if err != nil {
		// Out of range: ParseFloat gives ±Inf, which still orders right.
		var ne *strconv.NumError
		if !errors.As(err, &ne) || ne.Err != strconv.ErrRange {
			return 0, errSyntax
		}
	}
	r.i = end
	return n, nil
}

// strEnd returns the index after the closing quote of the string at r.i
// and whether it holds an escape.
func (r *reader) strEnd() (int, bool, error) {
	b := r.b
	esc := false
	for i := r.i + 1; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1, esc, nil
		case c == '\\':
			esc = true
			i++
			if i >= len(b) {
				return 0, false, errSyntax
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if _, ok := hex4(b[i+1:]); !ok {
					return 0, false, errSyntax
				}
				i += 4
			default:
				return 0, false, errSyntax
			}
		case c < 0x20:
			return 0, false, errSyntax
		}
	}
	return 0, false, errSyntax
}

func (r *reader) str() (string, error) {
	start := r.i
	end, esc, err := r.strEnd()
	if err != nil {
		return "", err
	}
	r.i = end
	return r.strAt(start, end, esc)
}

// strAt decodes the string whose quotes are at start and end-1.
func (r *reader) strAt(start, end int, esc bool) (string, error) {
	raw := r.b[start+1 : end-1]
	if !esc {
		if !utf8.Valid(raw) {
			return string([]rune(string(raw))), nil // invalid bytes read as U+FFFD, as encoding/json does
		}
		if r.alias && len(raw) > 0 {
			return unsafe.String(&raw[0], len(raw)), nil
		}
		return string(raw), nil
	}
	return unescape(raw)
}

func unescape(raw []byte) (string, error) {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(raw) {
			return "", errSyntax
		}
		switch raw[i] {
		case '"', '\\', '/':
			out = append(out, raw[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r1, ok := hex4(raw[i+1:])
			if !ok {
				return "", errSyntax
			}
			i += 4
			if utf16.IsSurrogate(r1) {
				// A pair makes one rune; a lone half reads as U+FFFD and the
				// next escape is read on its own (as encoding/json does).
				if i+6 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
					if r2, ok := hex4(raw[i+3:]); ok {
						if d := utf16.DecodeRune(r1, r2); d != utf8.RuneError {
							out = utf8.AppendRune(out, d)
							i += 6
							continue
						}
					}
				}
				r1 = utf8.RuneError
			}
			out = utf8.AppendRune(out, r1)
		default:
			return "", errSyntax
		}
	}
	if !utf8.Valid(out) {
		return string([]rune(string(out))), nil
	}
	return string(out), nil
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// skip passes over one value without building it, checking its syntax.
func (r *reader) skip() error {
	r.ws()
	if r.i >= len(r.b) {
		return errSyntax
	}
	switch c := r.b[r.i]; {
	case c == '{', c == '[':
		_, err := r.value(skipAll)
		return err
	case c == '"':
		end, _, err := r.strEnd()
		r.i = end
		return err
	case c == 't':
		return r.lit("true")
	case c == 'f':
		return r.lit("false")
	case c == 'n':
		return r.lit("null")
	default:
		end, err := r.numEnd()
		r.i = end
		return err
	}
}

// skipAll is a trie that names nothing: reading with it checks a value and
// keeps none of its members.
var skipAll = &trie{}

// decode reads a whole document in full, its strings copied.
func decode(b []byte) (value, error) {
	return decodeWith(b, nil, false)
}

// decodeWith reads what t names of a document; with alias, its strings
// point into b, which must then outlive the value and not change.
func decodeWith(b []byte, t *trie, alias bool) (value, error) {
	r := reader{b: b, alias: alias}
	return r.document(t)
}

// document reads the whole of r.b as one value, keeping what t names.
func (r *reader) document(t *trie) (value, error) {
	if t != nil && t.full {
		t = nil
	}
	v, err := r.value(t)
	if err != nil {
		return value{}, err
	}
	r.ws()
	if r.i != len(r.b) {
		return value{}, errSyntax
	}
	return v, nil
}
