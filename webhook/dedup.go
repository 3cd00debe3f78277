package webhook

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// ClaimStatus is the outcome of Deduper.Claim.
type ClaimStatus int

// The outcomes of Deduper.Claim. The zero value is not one of them, so a
// Deduper that forgets to set its result is not mistaken for a claim.
const (
	// Claimed means the caller now owns the delivery: it must process it, then
	// call Complete on success or Release on failure.
	Claimed ClaimStatus = iota + 1
	// Duplicate means the delivery was already processed: acknowledge it without processing.
	Duplicate
	// InProgress means another caller holds a live claim on the delivery: ask
	// the sender to try again later rather than process it twice at once.
	InProgress
)

// String returns the status name, such as "claimed".
func (s ClaimStatus) String() string {
	switch s {
	case Claimed:
		return "claimed"
	case Duplicate:
		return "duplicate"
	case InProgress:
		return "in_progress"
	}
	return "ClaimStatus(" + strconv.Itoa(int(s)) + ")"
}

// Deduper remembers which deliveries (by webhook-id) were processed, so that
// retries and duplicates of a processed delivery are acknowledged without
// being processed again. Processing is claimed first and confirmed after, so a
// delivery whose processing failed is not remembered, and two concurrent
// copies of one delivery are not processed at the same time.
//
// Implementations must be safe for concurrent use. An error from any method
// means the store could not be reached; the handler then answers 500 and the
// delivery is retried.
type Deduper interface {
	// Claim atomically reserves id for processing and reports Claimed, or
	// Duplicate if id was completed (and not yet forgotten), or InProgress if
	// another claim on id is live.
	Claim(ctx context.Context, id string) (ClaimStatus, error)
	// Complete records that id was processed; later Claims report Duplicate.
	Complete(ctx context.Context, id string) error
	// Release drops a claim on id without completing it, so that the next
	// delivery of id is processed. Releasing an id that is not claimed does nothing.
	Release(ctx context.Context, id string) error
}

// DefaultMemoryTTL is how long the handler's default MemoryDeduper remembers
// processed ids: longer than agenthooks' default retry window (about 28 hours,
// 33 with jitter), so that even the last retry of an event whose 2xx answer
// was lost is recognised.
const DefaultMemoryTTL = 48 * time.Hour

// MemoryDeduper is a Deduper that keeps ids in memory: enough for one process,
// forgotten on restart. Use NewSQLDeduper to share ids between replicas.
type MemoryDeduper struct {
	// Now returns the current time. Nil means time.Now. Set it before first use.
	Now func() time.Time

	ttl     time.Duration
	mu      sync.Mutex
	entries map[string]memoryEntry
	// expiries lists completed ids in completion order, which is expiry order
	// since the TTL is fixed; expiries[head:] are still to be checked.
	expiries []memoryExpiry
	head     int
}

type memoryEntry struct {
	done  bool
	until time.Time // when a completed id is forgotten
}

type memoryExpiry struct {
	id    string
	until time.Time
}

// NewMemoryDeduper returns a MemoryDeduper that remembers each completed id for
// ttl (forever if ttl <= 0). Claims that are neither completed nor released
// last until they are.
func NewMemoryDeduper(ttl time.Duration) *MemoryDeduper {
	return &MemoryDeduper{ttl: ttl, entries: make(map[string]memoryEntry)}
}

func (d *MemoryDeduper) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// Claim implements Deduper. It never returns an error.
func (d *MemoryDeduper) Claim(_ context.Context, id string) (ClaimStatus, error) {
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expire(now)
	if e, ok := d.entries[id]; ok {
		if !e.done {
			return InProgress, nil
		}
		if d.ttl <= 0 || now.Before(e.until) {
			return Duplicate, nil
		}
	}
	d.entries[id] = memoryEntry{}
	return Claimed, nil
}

// Complete implements Deduper. It never returns an error.
func (d *MemoryDeduper) Complete(_ context.Context, id string) error {
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	e := memoryEntry{done: true}
	if d.ttl > 0 {
		e.until = now.Add(d.ttl)
		d.expiries = append(d.expiries, memoryExpiry{id: id, until: e.until})
	}
	d.entries[id] = e
	return nil
}

// Release implements Deduper. It never returns an error.
func (d *MemoryDeduper) Release(_ context.Context, id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e, ok := d.entries[id]; ok && !e.done {
		delete(d.entries, id)
	}
	return nil
}

// Len returns the number of ids held: claimed, or completed and not yet expired.
func (d *MemoryDeduper) Len() int {
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expire(now)
	return len(d.entries)
}

// expire forgets completed ids whose time is up. Called with d.mu held; the
// cost is amortised over the completions.
func (d *MemoryDeduper) expire(now time.Time) {
	for d.head < len(d.expiries) && !now.Before(d.expiries[d.head].until) {
		x := d.expiries[d.head]
		d.expiries[d.head] = memoryExpiry{}
		d.head++
		// The id may have been completed again since (after an earlier expiry).
		if e, ok := d.entries[x.id]; ok && e.done && e.until.Equal(x.until) {
			delete(d.entries, x.id)
		}
	}
	// Reclaim the consumed prefix once it is half the slice.
	if d.head > 0 && d.head >= len(d.expiries)/2 {
		n := copy(d.expiries, d.expiries[d.head:])
		clear(d.expiries[n:])
		d.expiries = d.expiries[:n]
		d.head = 0
	}
}
