package agenthooks

import "time"

// Session is a signed-in dashboard visitor. The cookie holds a random token;
// the store keeps only its hash (TokenHash), so that a copy of the database
// signs nobody in. A session ends at ExpiresAt (absolute), when it has not been
// seen for the idle limit the dashboard applies, or at sign-out.
type Session struct {
	TokenHash string
	AccountID string
	// APIKeyID is the key the session was signed in with ("" for a portal
	// link's): deleting that key ends the session.
	APIKeyID   string
	ReadOnly   bool
	Embed      bool  // drawn for a platform's iframe (POST /portal_session embed: true)
	Theme      Theme // the platform's look, from its portal link
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

// PortalToken is a single-use sign-in link made by POST /api/v1/portal_session:
// its first visit before ExpiresAt creates a Session of the account (read-only
// when ReadOnly) ending at ExpiresAt. Only the token's hash is stored.
type PortalToken struct {
	TokenHash string
	AccountID string
	ReadOnly  bool
	Embed     bool
	Theme     Theme
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Theme is a platform's look for an embedded dashboard: an accent colour
// "#rrggbb" and the URL of a logo ("" each for the dashboard's own).
type Theme struct {
	AccentColor string
	LogoURL     string
}

// Operations of dashboard sessions and portal links; part of Tx.
type sessionTx interface {
	// CreateSession stores a session.
	CreateSession(s *Session) error
	// FindSession returns the session with the token hash: ENOTFOUND when
	// there is none (expired ones are returned; the caller checks).
	FindSession(tokenHash string) (*Session, error)
	// TouchSession sets the session's last-seen time; ENOTFOUND when it is gone.
	TouchSession(tokenHash string, at time.Time) error
	// DeleteSession removes a session (sign-out); deleting a missing one is not an error.
	DeleteSession(tokenHash string) error
	// DeleteExpiredSessions removes sessions that expired before now or were
	// last seen before idleBefore, and portal tokens that expired before now;
	// it returns how many sessions it removed.
	DeleteExpiredSessions(now, idleBefore time.Time) (int, error)

	// DeleteAccountSessions removes every session and portal token of the
	// account (its deletion, or a key rotation that must sign everyone out).
	DeleteAccountSessions(accountID string) error
	// DeleteAccountSessionsOnly removes every session of the account but
	// leaves its unused portal links (Sign out everywhere); it returns how
	// many it removed.
	DeleteAccountSessionsOnly(accountID string) (int, error)

	// CreatePortalToken stores a portal link's token.
	CreatePortalToken(p *PortalToken) error
	// UsePortalToken removes the token with the hash and returns it, so that
	// it can be used once: ENOTFOUND when there is none (never made, or
	// used already). The caller checks ExpiresAt.
	UsePortalToken(tokenHash string) (*PortalToken, error)
}
