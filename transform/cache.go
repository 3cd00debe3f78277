package transform

import (
	"sync"
)

// Cache keeps compiled programs by their code, so a webhook's code is
// compiled once per version and shared by every delivery (and by webhooks
// with the same code). It holds at most max programs; past that it starts
// over, which costs a compile each, never a wrong program.
//
// Keyed by the code itself, not a digest: a lookup hashes and compares the
// code in well under a microsecond, where SHA-256 of a template (6 KB) cost
// 30-40 us per delivery, as much as the run. The key costs no memory of its
// own: it is the string the program was compiled from, which goja keeps as
// the program's source.
type Cache struct {
	mu  sync.Mutex
	m   map[string]cached
	max int
}

type cached struct {
	p   *Program
	err error
}

// NewCache returns a cache of at most max programs (0: 4096).
func NewCache(max int) *Cache {
	if max <= 0 {
		max = 4096
	}
	return &Cache{m: map[string]cached{}, max: max}
}

// Program returns code compiled, from the cache when it was before
// (a compile error is cached as well: the same code fails the same way).
func (c *Cache) Program(code string) (*Program, error) {
	c.mu.Lock()
	e, ok := c.m[code]
	c.mu.Unlock()
	if ok {
		return e.p, e.err
	}
	p, err := Compile(code)
	c.mu.Lock()
	if len(c.m) >= c.max {
		c.m = map[string]cached{}
	}
	c.m[code] = cached{p, err}
	c.mu.Unlock()
	return p, err
}

// Len is the number of programs held.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
