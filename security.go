package agenthooks

// Operations that enforce per-account quotas and keep secrets at rest
// (docs/security.md). They are part of Tx.
type securityTx interface {
	// CountWebhooksForCreate returns how many webhooks the account has, and
	// in a write transaction holds the account so that concurrent creates
	// of the same account count one after the other (the quota cannot be
	// passed by racing requests).
	CountWebhooksForCreate(accountID string) (int, error)
	// ReencryptSecrets rewrites up to limit webhooks' secrets whose stored
	// form is not sealed with the store's current key (plain text, or an
	// older key), ids after afterID in id order. It returns how many it
	// rewrote and the last id it looked at ("" when there are no more).
	ReencryptSecrets(afterID string, limit int) (n int, lastID string, err error)
	// SecretKeyIDs returns the ids of the keys that stored secrets are
	// sealed with ("" standing for plain secrets), each once.
	SecretKeyIDs() ([]string, error)
}
