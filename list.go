package agenthooks

// Operations for lists whose items can be large (events carry envelopes of
// up to 256 KiB): a page's ids are read at once, its items in small chunks,
// so that a response never holds a whole page in memory
// (docs/security.md). They are part of Tx.
type listTx interface {
	// ListEventIDs returns the ids of one page of the account's events,
	// newest first, as ListEvents orders them, and the total.
	ListEventIDs(accountID string, f EventFilter, p Page) ([]string, int, error)
	// FindEventsByID returns the account's events among ids, in no
	// particular order (missing ones are skipped).
	FindEventsByID(accountID string, ids []string) ([]*Event, error)
	// ListRecentAttempts returns the delivery's last limit attempts, oldest
	// first (manual retries can give a delivery any number of them).
	ListRecentAttempts(deliveryID string, limit int) ([]*Attempt, error)
	// LatestAttempts returns the latest attempt of each of the account's
	// deliveries among deliveryIDs, by delivery id (deliveries without an
	// attempt are absent).
	LatestAttempts(accountID string, deliveryIDs []string) (map[string]*Attempt, error)
}
