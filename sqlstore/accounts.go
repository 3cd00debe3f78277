package sqlstore

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/agenthooks/agenthooks"
)

// legacyKey is the key stored by CreateAccount and ReplaceAccountKey, which
// get a hash only: named "default", with the prefix every key shares.
func legacyKey(keyHash string, created time.Time) *agenthooks.APIKey {
	return &agenthooks.APIKey{ID: uuid.Must(uuid.NewV7()).String(), Name: "default", Prefix: "ak_", Hash: keyHash, CreatedAt: created}
}

// CreateAccountWithKey stores an account and its first key.
func (tx *Tx) CreateAccountWithKey(a *agenthooks.Account, k *agenthooks.APIKey) error {
	if _, err := tx.exec("INSERT INTO accounts (id, name, created_at) VALUES (?, ?, ?)", a.ID, a.Name, Micros(a.CreatedAt)); err != nil {
		return fmt.Errorf("insert account: %w", err)
	}
	k.AccountID = a.ID
	return tx.CreateAPIKey(k)
}

// FindAccounts returns a page of every account, oldest first.
func (tx *Tx) FindAccounts(p agenthooks.Page) ([]*agenthooks.Account, int, error) {
	return listPage(tx, "accounts", "id, name, created_at", "accounts", "1 = 1", nil, "id", p, scanAccount)
}

// lockAccount checks that the account exists and, in a PostgreSQL write
// transaction, locks its row: changes to its keys and its deletion are
// serialised per account.
func (tx *Tx) lockAccount(id string) error {
	var got string
	if err := tx.queryRow("SELECT id FROM accounts WHERE id = ?"+tx.lock(), id).Scan(&got); err != nil {
		return notFound(err, "account")
	}
	return nil
}

// ReplaceAccountKeys revokes every key of the account and stores k.
func (tx *Tx) ReplaceAccountKeys(accountID string, k *agenthooks.APIKey) error {
	if err := tx.lockAccount(accountID); err != nil {
		return err
	}
	if _, err := tx.exec("DELETE FROM api_keys WHERE account_id = ?", accountID); err != nil {
		return fmt.Errorf("delete api keys: %w", err)
	}
	k.AccountID = accountID
	return tx.CreateAPIKey(k)
}

// CreateAPIKey stores a key of k.AccountID.
func (tx *Tx) CreateAPIKey(k *agenthooks.APIKey) error {
	if _, err := tx.exec("INSERT INTO api_keys (key_hash, account_id, id, name, prefix, created_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
		k.Hash, k.AccountID, k.ID, k.Name, k.Prefix, Micros(k.CreatedAt), Micros(k.LastUsedAt)); err != nil {
		return fmt.Errorf("insert api key: %w", err)
	}
	return nil
}

func scanAPIKey(s scanner) (*agenthooks.APIKey, error) {
	var k agenthooks.APIKey
	var created, used int64
	if err := s.Scan(&k.ID, &k.AccountID, &k.Name, &k.Prefix, &created, &used); err != nil {
		return nil, err
	}
	k.CreatedAt, k.LastUsedAt = FromMicros(created), FromMicros(used)
	return &k, nil
}

const apiKeyCols = "id, account_id, name, prefix, created_at, last_used_at"

// FindAPIKey returns one of the account's keys.
func (tx *Tx) FindAPIKey(accountID, id string) (*agenthooks.APIKey, error) {
	k, err := scanAPIKey(tx.queryRow("SELECT "+apiKeyCols+" FROM api_keys WHERE account_id = ? AND id = ?", accountID, id))
	if err != nil {
		return nil, notFound(err, "API key")
	}
	return k, nil
}

// FindAPIKeyByHash returns the key with the hash.
func (tx *Tx) FindAPIKeyByHash(keyHash string) (*agenthooks.APIKey, error) {
	k, err := scanAPIKey(tx.queryRow("SELECT "+apiKeyCols+" FROM api_keys WHERE key_hash = ?", keyHash))
	if err != nil {
		return nil, notFound(err, "API key")
	}
	return k, nil
}

// ListAPIKeys returns a page of the account's keys, oldest first.
func (tx *Tx) ListAPIKeys(accountID string, p agenthooks.Page) ([]*agenthooks.APIKey, int, error) {
	return listPage(tx, "api keys", apiKeyCols, "api_keys", "account_id = ?", []any{accountID},
		"created_at, id", p, scanAPIKey)
}

// DeleteAPIKey revokes one of the account's keys, unless it is the last.
func (tx *Tx) DeleteAPIKey(accountID, id string) error {
	if err := tx.lockAccount(accountID); err != nil {
		if agenthooks.ErrorCode(err) == agenthooks.ENOTFOUND {
			return agenthooks.NotFound("API key")
		}
		return err
	}
	var n int
	var found bool
	rows, err := tx.query("SELECT id FROM api_keys WHERE account_id = ?", accountID)
	if err != nil {
		return fmt.Errorf("list api keys: %w", err)
	}
	ids, err := collect(rows, func(s scanner) (string, error) { var v string; return v, s.Scan(&v) })
	if err != nil {
		return fmt.Errorf("list api keys: %w", err)
	}
	for _, v := range ids {
		n++
		found = found || v == id
	}
	if !found {
		return agenthooks.NotFound("API key")
	}
	if n == 1 {
		return agenthooks.Errorf(agenthooks.ECONFLICT, "This is the account's last API key: create another one before deleting it.")
	}
	if _, err := tx.exec("DELETE FROM api_keys WHERE account_id = ? AND id = ?", accountID, id); err != nil {
		return fmt.Errorf("delete api key: %w", err)
	}
	// The dashboard sessions signed in with it end with it.
	if _, err := tx.exec("DELETE FROM sessions WHERE account_id = ? AND api_key_id = ?", accountID, id); err != nil {
		return fmt.Errorf("delete the key's sessions: %w", err)
	}
	return nil
}

// TouchAPIKey records a use of the key, at most once per APIKeyTouchEvery.
func (tx *Tx) TouchAPIKey(keyHash string, at time.Time) error {
	if _, err := tx.exec("UPDATE api_keys SET last_used_at = ? WHERE key_hash = ? AND last_used_at <= ?",
		Micros(at), keyHash, Micros(at.Add(-agenthooks.APIKeyTouchEvery))); err != nil {
		return fmt.Errorf("touch api key: %w", err)
	}
	return nil
}

// Catalogue holds an engine's queries over its own schema: every table;
// every table with an account_id column; and every foreign key as (table,
// referenced table). Account deletion and its conformance test read them, so
// that a table a later migration adds is covered without a change here.
type Catalogue struct {
	Tables, AccountTables, ForeignKeys string
}

func (tx *Tx) names(query string) ([]string, error) {
	rows, err := tx.q.QueryContext(tx.ctx, query)
	if err != nil {
		return nil, err
	}
	names, err := collect(rows, func(s scanner) (string, error) { var v string; return v, s.Scan(&v) })
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	return names, nil
}

// quoteIdent quotes a table name read from the catalogue.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// accountTables returns the tables with an account_id column, each after
// every such table that references it, so that deleting in this order never
// breaks a foreign key.
func (tx *Tx) accountTables() ([]string, error) {
	tables, err := tx.names(tx.d.Catalogue.AccountTables)
	if err != nil {
		return nil, fmt.Errorf("read account tables: %w", err)
	}
	rows, err := tx.q.QueryContext(tx.ctx, tx.d.Catalogue.ForeignKeys)
	if err != nil {
		return nil, fmt.Errorf("read foreign keys: %w", err)
	}
	type edge struct{ from, to string }
	edges, err := collect(rows, func(s scanner) (edge, error) { var e edge; return e, s.Scan(&e.from, &e.to) })
	if err != nil {
		return nil, fmt.Errorf("read foreign keys: %w", err)
	}
	referrers := map[string][]string{} // table → the tables that reference it
	for _, e := range edges {
		if e.from != e.to {
			referrers[e.to] = append(referrers[e.to], e.from)
		}
	}
	isAccountTable := map[string]bool{}
	for _, t := range tables {
		isAccountTable[t] = true
	}
	var order []string
	state := map[string]int{} // 1: visiting, 2: done
	var visit func(t string)
	visit = func(t string) {
		if state[t] != 0 {
			return // done, or a cycle of references (left to the engine to refuse)
		}
		state[t] = 1
		refs := referrers[t]
		sort.Strings(refs)
		for _, r := range refs {
			if isAccountTable[r] {
				visit(r)
			}
		}
		state[t] = 2
		order = append(order, t)
	}
	for _, t := range tables {
		visit(t)
	}
	return order, nil
}

// DeleteAccount removes the account and every row of every table with an
// account_id column that names it. The tables come from the catalogue, so a
// table a later migration adds is covered without a change here.
func (tx *Tx) DeleteAccount(id string) error {
	if err := tx.lockAccount(id); err != nil {
		return err
	}
	tables, err := tx.accountTables()
	if err != nil {
		return err
	}
	for _, t := range tables {
		if _, err := tx.exec("DELETE FROM "+quoteIdent(t)+" WHERE account_id = ?", id); err != nil {
			return fmt.Errorf("delete account rows from %s: %w", t, err)
		}
	}
	if _, err := tx.exec("DELETE FROM accounts WHERE id = ?", id); err != nil {
		return fmt.Errorf("delete account: %w", err)
	}
	return nil
}

// CountTableRows returns the number of rows of every table of the schema.
func (tx *Tx) CountTableRows() (map[string]int, error) {
	tables, err := tx.names(tx.d.Catalogue.Tables)
	if err != nil {
		return nil, fmt.Errorf("read tables: %w", err)
	}
	counts := make(map[string]int, len(tables))
	for _, t := range tables {
		var n int
		if err := tx.queryRow("SELECT COUNT(*) FROM " + quoteIdent(t)).Scan(&n); err != nil {
			return nil, fmt.Errorf("count rows of %s: %w", t, err)
		}
		counts[t] = n
	}
	return counts, nil
}
