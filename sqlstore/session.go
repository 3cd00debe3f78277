package sqlstore

import (
	"fmt"
	"time"

	"github.com/agenthooks/agenthooks"
)

const sessionCols = "token_hash, account_id, api_key_id, read_only, created_at, last_seen_at, expires_at, embed, accent_color, logo_url"

func scanSession(s scanner) (*agenthooks.Session, error) {
	var v agenthooks.Session
	var ro, embed int
	var created, seen, expires int64
	if err := s.Scan(&v.TokenHash, &v.AccountID, &v.APIKeyID, &ro, &created, &seen, &expires, &embed, &v.Theme.AccentColor, &v.Theme.LogoURL); err != nil {
		return nil, err
	}
	v.ReadOnly, v.Embed = ro != 0, embed != 0
	v.CreatedAt, v.LastSeenAt, v.ExpiresAt = FromMicros(created), FromMicros(seen), FromMicros(expires)
	return &v, nil
}

// CreateSession stores a dashboard session.
func (tx *Tx) CreateSession(s *agenthooks.Session) error {
	_, err := tx.exec("INSERT INTO sessions ("+sessionCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		s.TokenHash, s.AccountID, s.APIKeyID, b2i(s.ReadOnly), Micros(s.CreatedAt), Micros(s.LastSeenAt), Micros(s.ExpiresAt),
		b2i(s.Embed), s.Theme.AccentColor, s.Theme.LogoURL)
	if err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	return nil
}

// FindSession returns the session with the token hash.
func (tx *Tx) FindSession(tokenHash string) (*agenthooks.Session, error) {
	s, err := scanSession(tx.queryRow("SELECT "+sessionCols+" FROM sessions WHERE token_hash = ?", tokenHash))
	if err != nil {
		return nil, notFound(err, "session")
	}
	return s, nil
}

// TouchSession records that the session was seen at at.
func (tx *Tx) TouchSession(tokenHash string, at time.Time) error {
	res, err := tx.exec("UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?", Micros(at), tokenHash)
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return checkAffected(res, "session")
}

// DeleteSession removes a session.
func (tx *Tx) DeleteSession(tokenHash string) error {
	if _, err := tx.exec("DELETE FROM sessions WHERE token_hash = ?", tokenHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes ended sessions and expired portal tokens.
func (tx *Tx) DeleteExpiredSessions(now, idleBefore time.Time) (int, error) {
	res, err := tx.exec("DELETE FROM sessions WHERE expires_at < ? OR last_seen_at < ?", Micros(now), Micros(idleBefore))
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("rows affected: %w", err)
	}
	if _, err := tx.exec("DELETE FROM portal_tokens WHERE expires_at < ?", Micros(now)); err != nil {
		return 0, fmt.Errorf("delete expired portal tokens: %w", err)
	}
	return int(n), nil
}

// DeleteAccountSessionsOnly removes the account's sessions, not its portal tokens.
func (tx *Tx) DeleteAccountSessionsOnly(accountID string) (int, error) {
	res, err := tx.exec("DELETE FROM sessions WHERE account_id = ?", accountID)
	if err != nil {
		return 0, fmt.Errorf("delete account sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete account sessions: %w", err)
	}
	return int(n), nil
}

// DeleteAccountSessions removes the account's sessions and portal tokens.
func (tx *Tx) DeleteAccountSessions(accountID string) error {
	if _, err := tx.exec("DELETE FROM sessions WHERE account_id = ?", accountID); err != nil {
		return fmt.Errorf("delete account sessions: %w", err)
	}
	if _, err := tx.exec("DELETE FROM portal_tokens WHERE account_id = ?", accountID); err != nil {
		return fmt.Errorf("delete account portal tokens: %w", err)
	}
	return nil
}

const portalTokenCols = "token_hash, account_id, read_only, created_at, expires_at, embed, accent_color, logo_url"

// CreatePortalToken stores a portal link's token.
func (tx *Tx) CreatePortalToken(p *agenthooks.PortalToken) error {
	_, err := tx.exec("INSERT INTO portal_tokens ("+portalTokenCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		p.TokenHash, p.AccountID, b2i(p.ReadOnly), Micros(p.CreatedAt), Micros(p.ExpiresAt), b2i(p.Embed), p.Theme.AccentColor, p.Theme.LogoURL)
	if err != nil {
		return fmt.Errorf("insert portal token: %w", err)
	}
	return nil
}

// UsePortalToken deletes the token and returns it, in one statement, so that
// two visits at once cannot both use it.
func (tx *Tx) UsePortalToken(tokenHash string) (*agenthooks.PortalToken, error) {
	var p agenthooks.PortalToken
	var ro, embed int
	var created, expires int64
	err := tx.queryRow("DELETE FROM portal_tokens WHERE token_hash = ? RETURNING "+portalTokenCols, tokenHash).
		Scan(&p.TokenHash, &p.AccountID, &ro, &created, &expires, &embed, &p.Theme.AccentColor, &p.Theme.LogoURL)
	if err != nil {
		return nil, notFound(err, "portal link")
	}
	p.ReadOnly, p.Embed = ro != 0, embed != 0
	p.CreatedAt, p.ExpiresAt = FromMicros(created), FromMicros(expires)
	return &p, nil
}
