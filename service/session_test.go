package service_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/internal/testdb"
	"github.com/agenthooks/agenthooks/service"
	"github.com/agenthooks/agenthooks/storetest"
)

func mustCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := agenthooks.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func TestSessions(t *testing.T) {
	t.Parallel()
	testdb.ForEachEngine(t, func(t *testing.T, e testdb.Engine) {
		t.Parallel()
		ctx := context.Background()
		setup := func(t *testing.T) (*storetest.Clock, *service.Service, *service.CreatedAccount) {
			clock := storetest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
			svc := service.New(e.Open(t, clock.Now), nil, nil)
			acc, err := svc.CreateAccount(ctx, "acme")
			must(t, err)
			return clock, svc, acc
		}

		t.Run("SignInAndOut", func(t *testing.T) {
			clock, svc, acc := setup(t)
			_, _, err := svc.SignIn(ctx, "ak_wrong")
			mustCode(t, err, agenthooks.EUNAUTHORIZED)
			_, _, err = svc.SignIn(ctx, "")
			mustCode(t, err, agenthooks.EUNAUTHORIZED)
			token, sess, err := svc.SignIn(ctx, " "+acc.APIKey+"\n")
			must(t, err)
			if sess.ReadOnly || sess.AccountID != acc.ID || !sess.ExpiresAt.Equal(clock.Now().Add(service.SessionLifetime)) {
				t.Fatalf("session = %+v", sess)
			}
			if strings.Contains(sess.TokenHash, token) || sess.TokenHash == token {
				t.Fatal("the stored hash contains the token")
			}
			_, a, err := svc.SessionAccount(ctx, token)
			must(t, err)
			if a.ID != acc.ID {
				t.Fatalf("session account = %s, want %s", a.ID, acc.ID)
			}
			_, _, err = svc.SessionAccount(ctx, token+"x")
			mustCode(t, err, agenthooks.EUNAUTHORIZED)
			must(t, svc.SignOut(ctx, token))
			_, _, err = svc.SessionAccount(ctx, token)
			mustCode(t, err, agenthooks.EUNAUTHORIZED)
			must(t, svc.SignOut(ctx, token)) // twice: fine
		})

		t.Run("EndsWithItsKey", func(t *testing.T) {
			_, svc, acc := setup(t)
			second, err := svc.CreateAPIKey(ctx, acc.ID, "second")
			must(t, err)
			byFirst, _, err := svc.SignIn(ctx, acc.APIKey)
			must(t, err)
			bySecond, sess, err := svc.SignIn(ctx, second.Key)
			must(t, err)
			if sess.APIKeyID != second.ID {
				t.Fatalf("session key = %q, want %q", sess.APIKeyID, second.ID)
			}
			must(t, svc.DeleteAPIKey(ctx, acc.ID, second.ID))
			_, _, err = svc.SessionAccount(ctx, bySecond)
			mustCode(t, err, agenthooks.EUNAUTHORIZED)
			_, _, err = svc.SessionAccount(ctx, byFirst)
			must(t, err)
		})

		t.Run("RotateEndsEverySession", func(t *testing.T) {
			_, svc, acc := setup(t)
			byKey, _, err := svc.SignIn(ctx, acc.APIKey)
			must(t, err)
			url, _, err := svc.CreatePortalSession(ctx, acc.ID, 0, false)
			must(t, err)
			byLink, _, err := svc.UsePortalLink(ctx, url[strings.LastIndex(url, "/")+1:])
			must(t, err)
			_, err = svc.RotateAccountKey(ctx, acc.ID)
			must(t, err)
			for _, tok := range []string{byKey, byLink} {
				_, _, err = svc.SessionAccount(ctx, tok)
				mustCode(t, err, agenthooks.EUNAUTHORIZED)
			}
		})

		t.Run("SignOutEverywhere", func(t *testing.T) {
			_, svc, acc := setup(t)
			other, err := svc.CreateAccount(ctx, "other")
			must(t, err)
			a, _, err := svc.SignIn(ctx, acc.APIKey)
			must(t, err)
			b, _, err := svc.SignIn(ctx, acc.APIKey)
			must(t, err)
			theirs, _, err := svc.SignIn(ctx, other.APIKey)
			must(t, err)
			n, err := svc.SignOutEverywhere(ctx, acc.ID)
			must(t, err)
			if n != 2 {
				t.Fatalf("ended %d sessions, want 2", n)
			}
			for _, tok := range []string{a, b} {
				_, _, err = svc.SessionAccount(ctx, tok)
				mustCode(t, err, agenthooks.EUNAUTHORIZED)
			}
			_, _, err = svc.SessionAccount(ctx, theirs)
			must(t, err)
		})

		t.Run("IdleExpiry", func(t *testing.T) {
			clock, svc, acc := setup(t)
			token, _, err := svc.SignIn(ctx, acc.APIKey)
			must(t, err)
			// Each visit within the idle limit keeps it alive.
			for range 3 {
				clock.Add(service.SessionIdle - time.Minute)
				_, _, err := svc.SessionAccount(ctx, token)
				must(t, err)
			}
			clock.Add(service.SessionIdle)
			_, _, err = svc.SessionAccount(ctx, token)
			mustCode(t, err, agenthooks.EUNAUTHORIZED)
		})

		t.Run("AbsoluteExpiry", func(t *testing.T) {
			clock, svc, acc := setup(t)
			token, _, err := svc.SignIn(ctx, acc.APIKey)
			must(t, err)
			for clock.Now().Before(time.Date(2026, 3, 8, 11, 0, 0, 0, time.UTC)) {
				_, _, err := svc.SessionAccount(ctx, token)
				must(t, err)
				clock.Add(6 * time.Hour)
			}
			clock.Add(6 * time.Hour) // past 7 days since sign-in
			_, _, err = svc.SessionAccount(ctx, token)
			mustCode(t, err, agenthooks.EUNAUTHORIZED)
		})

		t.Run("Sweep", func(t *testing.T) {
			clock, svc, acc := setup(t)
			_, _, err := svc.SignIn(ctx, acc.APIKey)
			must(t, err)
			clock.Add(service.SessionIdle + time.Second)
			n, err := svc.DeleteExpiredSessions(ctx)
			must(t, err)
			if n != 1 {
				t.Fatalf("DeleteExpiredSessions = %d, want 1", n)
			}
		})

		t.Run("PortalLink", func(t *testing.T) {
			clock, svc, acc := setup(t)
			svc.PublicURL = "https://hooks.example.com/"
			url, exp, err := svc.CreatePortalSession(ctx, acc.ID, 0, true)
			must(t, err)
			if !exp.Equal(clock.Now().Add(time.Hour)) {
				t.Errorf("expires_at = %v, want an hour from now", exp)
			}
			token, ok := strings.CutPrefix(url, "https://hooks.example.com/portal/")
			if !ok || token == "" {
				t.Fatalf("url = %q", url)
			}
			clock.Add(59 * time.Minute)
			stok, sess, err := svc.UsePortalLink(ctx, token)
			must(t, err)
			if !sess.ReadOnly || !sess.ExpiresAt.Equal(exp) || sess.AccountID != acc.ID {
				t.Fatalf("portal session = %+v, want read-only until %v", sess, exp)
			}
			_, _, err = svc.UsePortalLink(ctx, token)
			mustCode(t, err, agenthooks.ENOTFOUND)
			_, _, err = svc.SessionAccount(ctx, stok)
			must(t, err)
			clock.Add(time.Minute) // the link's expiry ends the session too
			_, _, err = svc.SessionAccount(ctx, stok)
			mustCode(t, err, agenthooks.EUNAUTHORIZED)
		})

		t.Run("PortalLinkExpired", func(t *testing.T) {
			clock, svc, acc := setup(t)
			url, _, err := svc.CreatePortalSession(ctx, acc.ID, time.Minute, false)
			must(t, err)
			clock.Add(time.Minute)
			_, _, err = svc.UsePortalLink(ctx, url[strings.LastIndex(url, "/")+1:])
			mustCode(t, err, agenthooks.ENOTFOUND)
			_, _, err = svc.UsePortalLink(ctx, "pt_unknown")
			mustCode(t, err, agenthooks.ENOTFOUND)
			_, _, err = svc.UsePortalLink(ctx, "")
			mustCode(t, err, agenthooks.ENOTFOUND)
		})

		t.Run("PortalLinkValidation", func(t *testing.T) {
			_, svc, acc := setup(t)
			for _, d := range []time.Duration{59 * time.Second, -time.Second, 7*24*time.Hour + time.Second} {
				_, _, err := svc.CreatePortalSession(ctx, acc.ID, d, false)
				mustCode(t, err, agenthooks.EINVALID)
			}
			for _, d := range []time.Duration{time.Minute, 7 * 24 * time.Hour} {
				_, _, err := svc.CreatePortalSession(ctx, acc.ID, d, false)
				must(t, err)
			}
			_, _, err := svc.CreatePortalSession(ctx, "no-such-account", 0, false)
			mustCode(t, err, agenthooks.ENOTFOUND)
		})
	})
}
