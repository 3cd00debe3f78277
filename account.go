package agenthooks

import "time"

// Account owns every other resource. API keys are stored as hashes only.
type Account struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// APIKey is one of an account's keys. The key itself is never stored: Hash
// is its SHA-256 (service.HashAPIKey), Prefix its first characters, kept so
// that a person can tell keys apart.
type APIKey struct {
	ID         string
	AccountID  string
	Name       string
	Prefix     string
	Hash       string
	CreatedAt  time.Time
	LastUsedAt time.Time // zero when the key was never used
}

// APIKeyPrefixLen is how many leading characters of a key are kept and shown
// as its prefix ("ak_" and 9 of the 43 random ones: 202 random bits stay secret).
const APIKeyPrefixLen = 12

// APIKeyTouchEvery is how often, at most, a key's last use is written: once
// per key per minute, not once per request.
const APIKeyTouchEvery = time.Minute

// Operations on accounts and their API keys. Part of Tx.
type accountTx interface {
	CreateAccount(a *Account, keyHash string) error
	FindAccountByKeyHash(keyHash string) (*Account, error)
	FindAccountByID(id string) (*Account, error)
	ReplaceAccountKey(accountID, keyHash string) error
	CountAccounts() (int, error)

	// CreateAccountWithKey stores an account and its first key k
	// (k.AccountID is set to a.ID).
	CreateAccountWithKey(a *Account, k *APIKey) error
	// FindAccounts returns a page of every account, oldest first, and the total.
	FindAccounts(p Page) ([]*Account, int, error)
	// DeleteAccount removes the account and every row it owns: its keys,
	// resources, events, deliveries and attempts, and the rows of any table
	// with an account_id column (the tables are read from the database's
	// catalogue, so a table added later cannot be forgotten). In-flight
	// deliveries' completions become no-ops. ENOTFOUND if there is no such
	// account.
	DeleteAccount(id string) error
	// ReplaceAccountKeys revokes every key of the account and stores k.
	// ENOTFOUND if there is no such account.
	ReplaceAccountKeys(accountID string, k *APIKey) error

	// CreateAPIKey stores another key of k.AccountID.
	CreateAPIKey(k *APIKey) error
	// FindAPIKey returns one of the account's keys (Hash left empty), or ENOTFOUND.
	FindAPIKey(accountID, id string) (*APIKey, error)
	// FindAPIKeyByHash returns the key with that hash (Hash left empty), or
	// ENOTFOUND.
	FindAPIKeyByHash(keyHash string) (*APIKey, error)
	// ListAPIKeys returns a page of the account's keys, oldest first (Hash
	// left empty), and the total.
	ListAPIKeys(accountID string, p Page) ([]*APIKey, int, error)
	// DeleteAPIKey revokes one key: ENOTFOUND if the account has no key
	// with that id, ECONFLICT if it is the account's last key.
	DeleteAPIKey(accountID, id string) error
	// TouchAPIKey sets the last use of the key with that hash to at, unless
	// it is already later than at minus APIKeyTouchEvery (so that many
	// processes write it at most about once a minute between them).
	TouchAPIKey(keyHash string, at time.Time) error

	// CountTableRows returns the number of rows of every table of the
	// schema, by table name, read from the catalogue (tests and diagnostics).
	CountTableRows() (map[string]int, error)
}

// accountListTx lists accounts for the operator's `agenthooks account list`.
// It is part of Tx.
type accountListTx interface {
	// ListAllAccounts returns every account, oldest first (by creation time,
	// then id). It never returns a key.
	ListAllAccounts() ([]*Account, error)
}
