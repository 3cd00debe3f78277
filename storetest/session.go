package storetest

import (
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
)

// exerciseSessions checks dashboard sessions and portal tokens: round trips,
// single use, expiry sweeps.
func exerciseSessions(t *testing.T, setup setupFunc) {
	t.Run("SessionLifecycle", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		now := b.clock.Now()
		s := &agenthooks.Session{TokenHash: "hash " + unicode, AccountID: b.acct.ID, APIKeyID: "key " + unicode, ReadOnly: true,
			Embed: true, Theme: agenthooks.Theme{AccentColor: "#0a7d52", LogoURL: "https://cdn.example.com/logo-" + unicode + ".svg"},
			CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(7 * 24 * time.Hour)}
		b.write(t, func(tx agenthooks.Tx) error { return tx.CreateSession(s) })
		b.read(t, func(tx agenthooks.Tx) error {
			got, err := tx.FindSession(s.TokenHash)
			mustNil(t, err)
			checkEqual(t, "FindSession", got, stored(s))
			_, err = tx.FindSession("other")
			mustCode(t, err, agenthooks.ENOTFOUND, "FindSession of an unknown hash")
			return nil
		})
		seen := b.clock.Add(time.Minute)
		b.write(t, func(tx agenthooks.Tx) error { return tx.TouchSession(s.TokenHash, seen) })
		b.read(t, func(tx agenthooks.Tx) error {
			got, err := tx.FindSession(s.TokenHash)
			mustNil(t, err)
			if !got.LastSeenAt.Equal(seen) {
				t.Errorf("LastSeenAt = %v, want %v", got.LastSeenAt, seen)
			}
			return nil
		})
		b.write(t, func(tx agenthooks.Tx) error {
			mustNil(t, tx.DeleteSession(s.TokenHash))
			mustNil(t, tx.DeleteSession(s.TokenHash)) // again: not an error
			mustCode(t, tx.TouchSession(s.TokenHash, seen), agenthooks.ENOTFOUND, "TouchSession after DeleteSession")
			_, err := tx.FindSession(s.TokenHash)
			mustCode(t, err, agenthooks.ENOTFOUND, "FindSession after DeleteSession")
			return nil
		})
	})

	t.Run("DeleteExpiredSessions", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		now := b.clock.Now()
		mk := func(name string, seen, expires time.Time) *agenthooks.Session {
			s := &agenthooks.Session{TokenHash: name, AccountID: b.acct.ID, CreatedAt: now.Add(-time.Hour), LastSeenAt: seen, ExpiresAt: expires}
			b.write(t, func(tx agenthooks.Tx) error { return tx.CreateSession(s) })
			return s
		}
		live := mk("live", now, now.Add(time.Hour))
		mk("idle", now.Add(-13*time.Hour), now.Add(time.Hour))
		mk("expired", now, now.Add(-time.Microsecond))
		p1 := &agenthooks.PortalToken{TokenHash: "p-live", AccountID: b.acct.ID, CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
		p2 := &agenthooks.PortalToken{TokenHash: "p-expired", AccountID: b.acct.ID, CreatedAt: now, ExpiresAt: now.Add(-time.Minute)}
		b.write(t, func(tx agenthooks.Tx) error {
			mustNil(t, tx.CreatePortalToken(p1))
			return tx.CreatePortalToken(p2)
		})
		b.write(t, func(tx agenthooks.Tx) error {
			n, err := tx.DeleteExpiredSessions(now, now.Add(-12*time.Hour))
			mustNil(t, err)
			if n != 2 {
				t.Errorf("DeleteExpiredSessions = %d, want 2 (idle and expired)", n)
			}
			return nil
		})
		b.write(t, func(tx agenthooks.Tx) error {
			_, err := tx.FindSession(live.TokenHash)
			mustNil(t, err)
			for _, h := range []string{"idle", "expired"} {
				_, err := tx.FindSession(h)
				mustCode(t, err, agenthooks.ENOTFOUND, "FindSession of a swept session")
			}
			_, err = tx.UsePortalToken(p2.TokenHash)
			mustCode(t, err, agenthooks.ENOTFOUND, "UsePortalToken of a swept token")
			got, err := tx.UsePortalToken(p1.TokenHash)
			mustNil(t, err)
			checkEqual(t, "UsePortalToken", got, stored(p1))
			return nil
		})
	})

	t.Run("SessionsEndWithTheirKey", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		now := b.clock.Now()
		k1 := &agenthooks.APIKey{ID: "k1-" + b.acct.ID, AccountID: b.acct.ID, Name: "one", Prefix: "ak_one", Hash: "h1-" + b.acct.ID, CreatedAt: now}
		k2 := &agenthooks.APIKey{ID: "k2-" + b.acct.ID, AccountID: b.acct.ID, Name: "two", Prefix: "ak_two", Hash: "h2-" + b.acct.ID, CreatedAt: now}
		sess := func(hash, key string) *agenthooks.Session {
			return &agenthooks.Session{TokenHash: hash, AccountID: b.acct.ID, APIKeyID: key, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
		}
		b.write(t, func(tx agenthooks.Tx) error {
			mustNil(t, tx.CreateAPIKey(k1))
			mustNil(t, tx.CreateAPIKey(k2))
			mustNil(t, tx.CreateSession(sess("s1", k1.ID)))
			mustNil(t, tx.CreateSession(sess("s2", k2.ID)))
			mustNil(t, tx.CreateSession(sess("portal", "")))
			return tx.CreatePortalToken(&agenthooks.PortalToken{TokenHash: "link", AccountID: b.acct.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
		})
		b.read(t, func(tx agenthooks.Tx) error {
			got, err := tx.FindAPIKeyByHash(k1.Hash)
			mustNil(t, err)
			if got.ID != k1.ID || got.AccountID != b.acct.ID {
				t.Errorf("FindAPIKeyByHash = %+v, want %s", got, k1.ID)
			}
			_, err = tx.FindAPIKeyByHash("nope")
			mustCode(t, err, agenthooks.ENOTFOUND, "FindAPIKeyByHash of an unknown hash")
			return nil
		})
		b.write(t, func(tx agenthooks.Tx) error { return tx.DeleteAPIKey(b.acct.ID, k1.ID) })
		b.read(t, func(tx agenthooks.Tx) error {
			_, err := tx.FindSession("s1")
			mustCode(t, err, agenthooks.ENOTFOUND, "a session of a deleted key")
			_, err = tx.FindSession("s2")
			mustNil(t, err)
			_, err = tx.FindSession("portal")
			mustNil(t, err)
			return nil
		})
		// Sign out everywhere: every session goes, unused links stay.
		b.write(t, func(tx agenthooks.Tx) error {
			n, err := tx.DeleteAccountSessionsOnly(b.acct.ID)
			mustNil(t, err)
			if n != 2 {
				t.Errorf("DeleteAccountSessionsOnly removed %d, want 2", n)
			}
			_, err = tx.FindSession("s2")
			mustCode(t, err, agenthooks.ENOTFOUND, "a session after DeleteAccountSessionsOnly")
			_, err = tx.UsePortalToken("link")
			mustNil(t, err)
			return nil
		})
	})

	t.Run("DeleteAccountSessions", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		now := b.clock.Now()
		for _, a := range []*agenthooks.Account{b.acct, b.other} {
			s := &agenthooks.Session{TokenHash: "s-" + a.ID, AccountID: a.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
			p := &agenthooks.PortalToken{TokenHash: "p-" + a.ID, AccountID: a.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
			b.write(t, func(tx agenthooks.Tx) error {
				mustNil(t, tx.CreateSession(s))
				return tx.CreatePortalToken(p)
			})
		}
		b.write(t, func(tx agenthooks.Tx) error { return tx.DeleteAccountSessions(b.acct.ID) })
		b.write(t, func(tx agenthooks.Tx) error {
			_, err := tx.FindSession("s-" + b.acct.ID)
			mustCode(t, err, agenthooks.ENOTFOUND, "the account's session after DeleteAccountSessions")
			_, err = tx.UsePortalToken("p-" + b.acct.ID)
			mustCode(t, err, agenthooks.ENOTFOUND, "the account's portal token after DeleteAccountSessions")
			_, err = tx.FindSession("s-" + b.other.ID)
			mustNil(t, err)
			_, err = tx.UsePortalToken("p-" + b.other.ID)
			mustNil(t, err)
			return nil
		})
	})

	t.Run("PortalTokenSingleUse", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		now := b.clock.Now()
		p := &agenthooks.PortalToken{TokenHash: "portal " + unicode, AccountID: b.other.ID, ReadOnly: true, CreatedAt: now, ExpiresAt: now.Add(time.Hour),
			Embed: true, Theme: agenthooks.Theme{AccentColor: "#0a7d52", LogoURL: "https://cdn.example.com/logo.svg"}}
		b.write(t, func(tx agenthooks.Tx) error { return tx.CreatePortalToken(p) })
		b.write(t, func(tx agenthooks.Tx) error {
			got, err := tx.UsePortalToken(p.TokenHash)
			mustNil(t, err)
			checkEqual(t, "first UsePortalToken", got, stored(p))
			return nil
		})
		b.write(t, func(tx agenthooks.Tx) error {
			_, err := tx.UsePortalToken(p.TokenHash)
			mustCode(t, err, agenthooks.ENOTFOUND, "second UsePortalToken")
			return nil
		})
	})
}
