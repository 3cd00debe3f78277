package service

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	neturl "net/url"
	"regexp"
	"strings"
	"time"

	"github.com/agenthooks/agenthooks"
)

// Dashboard session limits: a session ends when unused for SessionIdle or
// SessionLifetime after sign-in, whichever comes first (a portal session ends
// at its link's expires_at if that is sooner).
const (
	SessionIdle     = 12 * time.Hour
	SessionLifetime = 7 * 24 * time.Hour
	// sessionTouchEvery bounds the writes of last-seen times: at most one per
	// session per minute, however many pages it opens.
	sessionTouchEvery = time.Minute
)

// Portal link lifetimes (POST /api/v1/portal_session expires_in).
const (
	PortalDefault = time.Hour
	PortalMin     = time.Minute
	PortalMax     = 7 * 24 * time.Hour
)

// newToken returns a random bearer token with a prefix and its stored hash.
func newToken(prefix string) (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("generate token: %w", err)
	}
	token = prefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashAPIKey(token), nil
}

// SignIn checks an API key and starts a dashboard session of its account. It
// returns the session's token, for the cookie (stored only as a hash), or
// EUNAUTHORIZED.
func (s *Service) SignIn(ctx context.Context, apiKey string) (string, *agenthooks.Session, error) {
	apiKey = strings.TrimSpace(apiKey)
	a, err := s.Authenticate(ctx, apiKey)
	if err != nil {
		return "", nil, err
	}
	return s.startSession(ctx, a.ID, HashAPIKey(apiKey), false, time.Time{})
}

// startSession stores a new session of the account, bound to the key with
// keyHash when there is one (the session ends with the key); a non-zero
// until caps its lifetime.
func (s *Service) startSession(ctx context.Context, accountID, keyHash string, readOnly bool, until time.Time, opts ...func(*agenthooks.Session)) (string, *agenthooks.Session, error) {
	token, hash, err := newToken("ds_")
	if err != nil {
		return "", nil, err
	}
	sess, err := write(ctx, s, func(tx agenthooks.Tx) (*agenthooks.Session, error) {
		now := tx.Now()
		v := &agenthooks.Session{TokenHash: hash, AccountID: accountID, ReadOnly: readOnly, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(SessionLifetime)}
		if keyHash != "" {
			// Read again in the write: a key deleted since Authenticate signs nobody in.
			k, err := tx.FindAPIKeyByHash(keyHash)
			if agenthooks.ErrorCode(err) == agenthooks.ENOTFOUND || (err == nil && k.AccountID != accountID) {
				return nil, agenthooks.Errorf(agenthooks.EUNAUTHORIZED, "Invalid API key.")
			} else if err != nil {
				return nil, err
			}
			v.APIKeyID = k.ID
		}
		if !until.IsZero() && until.Before(v.ExpiresAt) {
			v.ExpiresAt = until
		}
		for _, o := range opts {
			o(v)
		}
		return v, tx.CreateSession(v)
	})
	if err != nil {
		return "", nil, err
	}
	return token, sess, nil
}

// SessionAccount returns the live session of a cookie token and its account,
// or EUNAUTHORIZED when there is none (never made, signed out, expired, idle
// too long, or its account was deleted). It records the visit.
func (s *Service) SessionAccount(ctx context.Context, token string) (*agenthooks.Session, *agenthooks.Account, error) {
	unauthorized := agenthooks.Errorf(agenthooks.EUNAUTHORIZED, "Not signed in.")
	if token == "" {
		return nil, nil, unauthorized
	}
	hash := HashAPIKey(token)
	var sess *agenthooks.Session
	var acct *agenthooks.Account
	var now time.Time
	err := s.store.Read(ctx, func(tx agenthooks.Tx) error {
		var err error
		now = tx.Now()
		if sess, err = tx.FindSession(hash); err != nil {
			return err
		}
		if sess.APIKeyID != "" {
			// Deleting the key deletes its sessions too; this covers a
			// session made while the key was being deleted.
			if _, err := tx.FindAPIKey(sess.AccountID, sess.APIKeyID); err != nil {
				return err
			}
		}
		acct, err = tx.FindAccountByID(sess.AccountID)
		return err
	})
	if agenthooks.ErrorCode(err) == agenthooks.ENOTFOUND {
		return nil, nil, unauthorized
	} else if err != nil {
		return nil, nil, err
	}
	if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) >= SessionIdle {
		if err := s.store.Write(ctx, func(tx agenthooks.Tx) error { return tx.DeleteSession(hash) }); err != nil {
			return nil, nil, err
		}
		return nil, nil, unauthorized
	}
	if now.Sub(sess.LastSeenAt) >= sessionTouchEvery {
		err := s.store.Write(ctx, func(tx agenthooks.Tx) error { return tx.TouchSession(hash, tx.Now()) })
		if agenthooks.ErrorCode(err) == agenthooks.ENOTFOUND {
			return nil, nil, unauthorized // signed out meanwhile
		} else if err != nil {
			return nil, nil, err
		}
	}
	return sess, acct, nil
}

// SignOut ends the session of a cookie token (nothing happens for an unknown one).
func (s *Service) SignOut(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	return s.store.Write(ctx, func(tx agenthooks.Tx) error { return tx.DeleteSession(HashAPIKey(token)) })
}

// SignOutEverywhere ends every dashboard session of the account (Settings,
// "Sign out everywhere"), the caller's included, and returns how many.
func (s *Service) SignOutEverywhere(ctx context.Context, accountID string) (int, error) {
	return write(ctx, s, func(tx agenthooks.Tx) (int, error) { return tx.DeleteAccountSessionsOnly(accountID) })
}

// DeleteExpiredSessions removes ended sessions and expired portal links.
func (s *Service) DeleteExpiredSessions(ctx context.Context) (int, error) {
	return write(ctx, s, func(tx agenthooks.Tx) (int, error) {
		return tx.DeleteExpiredSessions(tx.Now(), tx.Now().Add(-SessionIdle))
	})
}

// CreatePortalSession makes a single-use sign-in link to the account's
// dashboard, valid for expiresIn (0 means PortalDefault; otherwise
// PortalMin to PortalMax, else EINVALID on expires_in). Its first visit
// before expiresAt signs the visitor in (read-only when readOnly) until
// expiresAt. The link is PublicURL + "/portal/" + a token stored only as a hash.
func (s *Service) CreatePortalSession(ctx context.Context, accountID string, expiresIn time.Duration, readOnly bool) (url string, expiresAt time.Time, err error) {
	return s.CreatePortalLink(ctx, accountID, PortalOptions{ExpiresIn: expiresIn, ReadOnly: readOnly})
}

// PortalOptions are a portal link's: how long it lasts (0: PortalDefault),
// read-only, and drawn for an iframe with the platform's theme.
type PortalOptions struct {
	ExpiresIn time.Duration
	ReadOnly  bool
	Embed     bool
	Theme     agenthooks.Theme
}

// accentColor is the form of a theme's accent_color.
var accentColor = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// ValidateTheme checks a portal link's theme: accent_color "#rrggbb" and
// logo_url an absolute https URL (or http on a loopback host, for
// development) of at most 2048 characters, either empty. Its errors are
// EINVALID at ("theme", field).
func ValidateTheme(t agenthooks.Theme) error {
	if t.AccentColor != "" && !accentColor.MatchString(t.AccentColor) {
		return agenthooks.InvalidAt(`Input should be a colour as "#rrggbb"`, "value_error", "theme", "accent_color")
	}
	if t.LogoURL != "" {
		u, err := neturl.Parse(t.LogoURL)
		loopback := err == nil && u.Scheme == "http" && (u.Hostname() == "localhost" || net.ParseIP(u.Hostname()).IsLoopback())
		if err != nil || len(t.LogoURL) > 2048 || u.Host == "" || u.User != nil || (u.Scheme != "https" && !loopback) || strings.ContainsAny(t.LogoURL, " \"'<>\\`") {
			return agenthooks.InvalidAt("Input should be an absolute https URL of at most 2048 characters", "url_parsing", "theme", "logo_url")
		}
	}
	return nil
}

// CreatePortalLink is CreatePortalSession with every option.
func (s *Service) CreatePortalLink(ctx context.Context, accountID string, o PortalOptions) (url string, expiresAt time.Time, err error) {
	expiresIn, readOnly := o.ExpiresIn, o.ReadOnly
	if err := ValidateTheme(o.Theme); err != nil {
		return "", time.Time{}, err
	}
	if expiresIn == 0 {
		expiresIn = PortalDefault
	}
	if expiresIn < PortalMin || expiresIn > PortalMax {
		return "", time.Time{}, agenthooks.Invalid("expires_in", fmt.Sprintf("Input should be between %d and %d seconds", int(PortalMin.Seconds()), int(PortalMax.Seconds())), "value_error")
	}
	token, hash, err := newToken("pt_")
	if err != nil {
		return "", time.Time{}, err
	}
	p, err := write(ctx, s, func(tx agenthooks.Tx) (*agenthooks.PortalToken, error) {
		if _, err := tx.FindAccountByID(accountID); err != nil {
			return nil, err
		}
		p := &agenthooks.PortalToken{TokenHash: hash, AccountID: accountID, ReadOnly: readOnly, Embed: o.Embed, Theme: o.Theme,
			CreatedAt: tx.Now(), ExpiresAt: tx.Now().Add(expiresIn)}
		return p, tx.CreatePortalToken(p)
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return strings.TrimRight(s.PublicURL, "/") + "/portal/" + token, p.ExpiresAt, nil
}

// UsePortalLink signs in through a portal link's token: the first use before
// its expiry starts a session (returned with its cookie token) that ends at
// the link's expiry. Any later use, or one after expiry, is ENOTFOUND.
func (s *Service) UsePortalLink(ctx context.Context, token string) (string, *agenthooks.Session, error) {
	gone := agenthooks.Errorf(agenthooks.ENOTFOUND, "This link was used already or has expired.")
	if token == "" || !strings.HasPrefix(token, "pt_") {
		return "", nil, gone
	}
	var p *agenthooks.PortalToken
	var now time.Time
	err := s.store.Write(ctx, func(tx agenthooks.Tx) error {
		var err error
		now = tx.Now()
		p, err = tx.UsePortalToken(HashAPIKey(token))
		return err
	})
	if agenthooks.ErrorCode(err) == agenthooks.ENOTFOUND {
		return "", nil, gone
	} else if err != nil {
		return "", nil, err
	}
	if !now.Before(p.ExpiresAt) {
		return "", nil, gone
	}
	return s.startSession(ctx, p.AccountID, "", p.ReadOnly, p.ExpiresAt, func(v *agenthooks.Session) { v.Embed, v.Theme = p.Embed, p.Theme })
}
