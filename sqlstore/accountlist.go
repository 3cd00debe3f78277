package sqlstore

import (
	"fmt"

	"github.com/agenthooks/agenthooks"
)

// ListAllAccounts returns every account, oldest first.
func (tx *Tx) ListAllAccounts() ([]*agenthooks.Account, error) {
	rows, err := tx.query("SELECT id, name, created_at FROM accounts ORDER BY created_at, id")
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	defer rows.Close()
	var out []*agenthooks.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("scan account: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return out, nil
}
