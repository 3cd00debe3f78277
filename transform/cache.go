package transform

import (
	"crypto/sha256"
	"sync"
)

// Cache keeps compiled programs by the code's hash, so a webhook's code is
// compiled once per version and shared by every delivery (and by webhooks
// with the same code). It holds at most max programs; past that it starts
// over, which costs a compile each, never a wrong program.
type Cache struct {
	mu  sync.Mutex
	m   map[[32]byte]cached
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
	return &Cache{m: map[[32]byte]cached{}, max: max}
}

// Program returns code compiled, from the cache when it was before
// (a compile error is cached as well: the same code fails the same way).
func (c *Cache) Program(code string) (*Program, error) {
	k := sha256.Sum256([]byte(code))
	c.mu.Lock()
	e, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return e.p, e.err
	}
	p, err := Compile(code)
	c.mu.Lock()
	if len(c.m) >= c.max {
		c.m = map[[32]byte]cached{}
	}
	c.m[k] = cached{p, err}
	c.mu.Unlock()
	return p, err
}

// Len is the number of programs held.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
