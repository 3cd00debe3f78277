package filter

import "sync"

// Cache keeps compiled filters by their JSON, so that a webhook's filter is
// compiled once per version and shared by every event (and by webhooks with
// the same filter). It holds at most max filters (each at most MaxSize
// bytes); past that it starts over, which costs a compile each, never a
// wrong filter. The key is the JSON itself: hashing a filter of a few dozen
// bytes in the map costs less than a digest would.
type Cache struct {
	mu  sync.RWMutex
	m   map[string]cached
	max int
}

type cached struct {
	f   *Filter
	err error
}

// NewCache returns a cache of at most max filters (0: 4096).
func NewCache(max int) *Cache {
	if max <= 0 {
		max = 4096
	}
	return &Cache{m: map[string]cached{}, max: max}
}

// Filter returns src compiled, from the cache when it was before (an error
// is cached as well: the same JSON fails the same way). An empty src is no
// filter (nil), at no cost.
func (c *Cache) Filter(src []byte) (*Filter, error) {
	if len(src) == 0 {
		return nil, nil
	}
	c.mu.RLock()
	e, ok := c.m[string(src)]
	c.mu.RUnlock()
	if ok {
		return e.f, e.err
	}
	f, err := Parse(src)
	c.mu.Lock()
	if len(c.m) >= c.max {
		c.m = map[string]cached{}
	}
	c.m[string(src)] = cached{f, err}
	c.mu.Unlock()
	return f, err
}

// Len is the number of filters held.
func (c *Cache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
