package agenthooks

// accountListTx lists accounts for the operator's `agenthooks account list`.
// It is part of Tx.
type accountListTx interface {
	// ListAllAccounts returns every account, oldest first (by creation time,
	// then id). It never returns a key.
	ListAllAccounts() ([]*Account, error)
}
