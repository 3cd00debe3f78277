// Package storetest is the conformance suite every agenthooks.Store engine
// must pass (after River's riverdrivertest): each engine's tests call Exercise
// with a function that opens a fresh, empty store of that engine.
//
// The suite checks what the rest of agenthooks relies on and cannot see from
// outside: every field of every resource survives a round trip (times to the
// microsecond, JSON bytes, nil against empty), finders never cross accounts,
// pages and filters select and order as sqlstore documents, the queue leases
// each due delivery to one worker at a time and ignores stale completions, and
// Write keeps one caller's failure from touching another's work. Time is an
// injected Clock: nothing sleeps.
package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/agenthooks/agenthooks"
)

// Clock is a settable clock for stores under test. Its zero value is not
// usable; make one with NewClock.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock reading t until moved.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's reading; pass it as the store's clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock by d and returns the new reading.
func (c *Clock) Add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// base is the suite's starting time, with microsecond precision (what stores keep).
var base = time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC)

// unicode is stored in every free-text field to check the engines keep it.
const unicode = "Grüße, 東京 🚀 — \"quoted\" 'single' \\ back\nslash\ttab é"

// NewID returns a new UUIDv7 string, the id format of agenthooks: ids made
// one after another sort in creation order.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// testBundle is what each subtest gets from setup: a fresh store whose clock
// it controls, the account under test and another account whose resources
// the first must never see.
type testBundle struct {
	store agenthooks.Store
	clock *Clock
	acct  *agenthooks.Account
	other *agenthooks.Account
}

// Exercise runs the conformance suite. open must return a fresh, empty store
// of the engine under test that reads the time from now and is closed when t
// ends (t.Cleanup). Subtests run in parallel, each on its own store.
func Exercise(t *testing.T, open func(t testing.TB, now func() time.Time) agenthooks.Store) {
	t.Helper()

	setup := func(t *testing.T) *testBundle {
		t.Helper()
		clock := NewClock(base)
		b := &testBundle{store: open(t, clock.Now), clock: clock}
		b.acct = b.account(t, "Acme "+unicode)
		b.other = b.account(t, "Other account")
		return b
	}

	t.Run("Account", func(t *testing.T) { t.Parallel(); exerciseAccounts(t, setup) })
	t.Run("Webhook", func(t *testing.T) { t.Parallel(); exerciseWebhooks(t, setup) })
	t.Run("Filter", func(t *testing.T) { t.Parallel(); exerciseFilters(t, setup) })
	t.Run("Destination", func(t *testing.T) { t.Parallel(); exerciseDestinations(t, setup) })
	t.Run("Resource", func(t *testing.T) { t.Parallel(); exerciseResources(t, setup) })
	t.Run("Conversation", func(t *testing.T) { t.Parallel(); exerciseConversations(t, setup) })
	t.Run("AccountScope", func(t *testing.T) { t.Parallel(); exerciseAccountScope(t, setup) })
	t.Run("Pagination", func(t *testing.T) { t.Parallel(); exercisePagination(t, setup) })
	t.Run("EventAndDelivery", func(t *testing.T) { t.Parallel(); exerciseEventsAndDeliveries(t, setup) })
	t.Run("Queue", func(t *testing.T) { t.Parallel(); exerciseQueue(t, setup) })
	t.Run("Write", func(t *testing.T) { t.Parallel(); exerciseWrite(t, setup) })
	t.Run("Handoff", func(t *testing.T) { t.Parallel(); exerciseHandoff(t, setup) })
	t.Run("ConversationOrdering", func(t *testing.T) { t.Parallel(); exerciseConversationOrdering(t, setup) })
	t.Run("Sweep", func(t *testing.T) { t.Parallel(); exerciseSweeps(t, setup) })
	t.Run("Idempotency", func(t *testing.T) { t.Parallel(); exerciseIdempotency(t, setup) })
	t.Run("APIKey", func(t *testing.T) { t.Parallel(); exerciseAPIKeys(t, setup) })
	t.Run("AccountDeletion", func(t *testing.T) { t.Parallel(); exerciseAccountDeletion(t, setup) })
	t.Run("Insighto", func(t *testing.T) { t.Parallel(); exerciseInsighto(t, setup) })
	t.Run("InsightoFields", func(t *testing.T) { t.Parallel(); exerciseInsightoFields(t, setup) })
	t.Run("Lease", func(t *testing.T) { t.Parallel(); exerciseLeases(t, setup) })
	t.Run("Session", func(t *testing.T) { t.Parallel(); exerciseSessions(t, setup) })
	t.Run("Insight", func(t *testing.T) { t.Parallel(); exerciseInsight(t, setup) })
	t.Run("AccountList", func(t *testing.T) { t.Parallel(); exerciseAccountList(t, setup) })
	t.Run("Ops", func(t *testing.T) { t.Parallel(); exerciseOps(t, setup) })
	t.Run("Security", func(t *testing.T) { t.Parallel(); exerciseSecurity(t, setup) })
	t.Run("EventType", func(t *testing.T) { t.Parallel(); exerciseEventTypes(t, setup) })
	t.Run("EventPages", func(t *testing.T) { exerciseEventPages(t, setup) })
	t.Run("RecentAttempts", func(t *testing.T) { exerciseRecentAttempts(t, setup) })
}

type setupFunc func(t *testing.T) *testBundle
