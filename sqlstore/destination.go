package sqlstore

import (
	"encoding/json"
	"fmt"

	"github.com/agenthooks/agenthooks"
)

// storedDestination is the destination column: the settings without the
// URL, which is stored sealed in destination_url.
type storedDestination struct {
	Type       string `json:"type"`
	Exchange   string `json:"exchange,omitempty"`
	RoutingKey string `json:"routing_key,omitempty"`
	Subject    string `json:"subject,omitempty"`
	Stream     string `json:"stream,omitempty"`
	MaxLen     int64  `json:"maxlen,omitempty"`
}

// destinationAD is the additional data a destination URL is sealed with:
// not the bare webhook id, so that a sealed secret copied into the URL
// column (or the URL into a secret's) does not open there.
func destinationAD(webhookID string) string { return webhookID + "/destination" }

// destinationColumns returns the stored forms of w's destination.
func (tx *Tx) destinationColumns(w *agenthooks.Webhook) (settings, sealedURL string, err error) {
	d := w.Destination
	if !d.Broker() {
		return "", "", nil
	}
	b, err := json.Marshal(storedDestination{Type: d.Type, Exchange: d.Exchange, RoutingKey: d.RoutingKey,
		Subject: d.Subject, Stream: d.Stream, MaxLen: d.MaxLen})
	if err != nil {
		return "", "", fmt.Errorf("webhook %s destination: %w", w.ID, err)
	}
	if sealedURL, err = tx.keys.Seal(destinationAD(w.ID), d.URL); err != nil {
		return "", "", err
	}
	return string(b), sealedURL, nil
}

// openDestination sets w's destination from its stored forms.
func (tx *Tx) openDestination(w *agenthooks.Webhook, settings, sealedURL string) error {
	if settings == "" {
		return nil
	}
	var s storedDestination
	if err := json.Unmarshal([]byte(settings), &s); err != nil {
		return fmt.Errorf("webhook %s destination: %w", w.ID, err)
	}
	u, err := tx.keys.Open(destinationAD(w.ID), sealedURL)
	if err != nil {
		return fmt.Errorf("webhook %s destination url: %w", w.ID, err)
	}
	w.Destination = &agenthooks.Destination{Type: s.Type, URL: u, Exchange: s.Exchange, RoutingKey: s.RoutingKey,
		Subject: s.Subject, Stream: s.Stream, MaxLen: s.MaxLen}
	return nil
}

// storedDestinationColumns are a row's destination and destination_url.
type storedDestinationColumns struct{ settings, sealedURL string }

// reencryptDestinationURLs re-seals with the first key the destination URLs
// of the webhooks after afterID up to last that are stored plain or under an
// older key (migrate --reencrypt: ReencryptSecrets' batch).
func (tx *Tx) reencryptDestinationURLs(afterID, last string) (int, error) {
	if last == "" {
		return 0, nil
	}
	rows, err := tx.query("SELECT id, destination_url FROM webhooks WHERE id > ? AND id <= ? AND destination_url <> '' ORDER BY id"+tx.lock(), afterID, last)
	if err != nil {
		return 0, fmt.Errorf("select destination urls: %w", err)
	}
	type row struct{ id, sealed string }
	var stale []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.sealed); err != nil {
			rows.Close()
			return 0, fmt.Errorf("scan destination url: %w", err)
		}
		if !tx.keys.current(r.sealed) {
			stale = append(stale, r)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("select destination urls: %w", err)
	}
	for _, r := range stale {
		plain, err := tx.keys.Open(destinationAD(r.id), r.sealed)
		if err != nil {
			return 0, fmt.Errorf("webhook %s destination url: %w", r.id, err)
		}
		sealed, err := tx.keys.Seal(destinationAD(r.id), plain)
		if err != nil {
			return 0, err
		}
		if _, err := tx.exec("UPDATE webhooks SET destination_url = ? WHERE id = ?", sealed, r.id); err != nil {
			return 0, fmt.Errorf("reencrypt webhook %s destination url: %w", r.id, err)
		}
	}
	return len(stale), nil
}
