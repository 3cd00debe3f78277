package dashboard_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
)

var newKeyRE = regexp.MustCompile(`id="new_key"[^>]*>(ak_[^<]+)</textarea>`)

func TestAPIKeyScreens(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	br := b.signedIn(b.keyA)

	expectStatus(t, br.get("/settings"), http.StatusSeeOther)
	list := br.get("/settings/api-keys")
	expectStatus(t, list, http.StatusOK)
	contains(t, list, `href="/settings/api-keys" class="active" aria-current="page">Settings</a>`, "API Keys", b.keyA[:agenthooks.APIKeyPrefixLen]+"…", "just now", "Create API key", "the only key: create another to revoke it")
	lacks(t, list, b.keyA, "Copy it now", ">Revoke</a>") // the last key cannot be revoked: not offered

	// A nameless key: 422 with the field's message, nothing created.
	bad := br.post("/settings/api-keys", url.Values{"name": {"  "}})
	expectStatus(t, bad, http.StatusUnprocessableEntity)
	if msg := fieldError(bad, "name"); !strings.Contains(msg, "Enter a name") {
		t.Errorf("name error %q", msg)
	}

	// A named key: shown once, on the page that answers the create.
	made := br.post("/settings/api-keys", url.Values{"name": {"CI runner"}})
	expectStatus(t, made, http.StatusCreated)
	contains(t, made, "Copy it now", "API key created.", "CI runner")
	m := newKeyRE.FindStringSubmatch(made.Body)
	if m == nil {
		t.Fatalf("the create page shows no key:\n%s", made.Body)
	}
	newKey := m[1]
	if made.Header.Get("Location") != "" || made.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("create answered Location %q, Cache-Control %q", made.Header.Get("Location"), made.Header.Get("Cache-Control"))
	}
	if a, err := b.svc.Authenticate(ctx, newKey); err != nil || a.ID != b.acctA {
		t.Fatalf("the new key does not authenticate: %v", err)
	}
	list = br.get("/settings/api-keys")
	contains(t, list, "CI runner", newKey[:agenthooks.APIKeyPrefixLen]+"…")
	lacks(t, list, newKey, "Copy it now")

	keys, err := b.svc.ListAPIKeys(ctx, b.acctA, agenthooks.Page{Page: 1, Size: 10})
	must(t, err)
	var newID, firstID string
	for _, k := range keys.Items {
		if k.Name == "CI runner" {
			newID = k.ID
		} else {
			firstID = k.ID
		}
	}
	if newID == "" || firstID == "" {
		t.Fatalf("keys %+v", keys.Items)
	}

	// Revoke: a confirmation page, then the key stops working at once.
	confirm := br.get("/settings/api-keys/" + newID + "/revoke")
	expectStatus(t, confirm, http.StatusOK)
	contains(t, confirm, "Revoke CI runner?", ">Revoke</button>", "Cancel")
	done := br.post("/settings/api-keys/"+newID+"/revoke", nil)
	contains(t, br.follow(done), "API key revoked")
	if _, err := b.svc.Authenticate(ctx, newKey); agenthooks.ErrorCode(err) != agenthooks.EUNAUTHORIZED {
		t.Fatalf("a revoked key authenticates: %v", err)
	}
	expectStatus(t, br.post("/settings/api-keys/"+newID+"/revoke", nil), http.StatusNotFound)

	// The last key cannot be revoked: the API's 409 message.
	last := br.post("/settings/api-keys/"+firstID+"/revoke", nil)
	expectStatus(t, last, http.StatusConflict)
	contains(t, last, "last API key")
	if _, err := b.svc.Authenticate(ctx, b.keyA); err != nil {
		t.Fatalf("the last key stopped working: %v", err)
	}

	// Another account's key is not found, and is left alone.
	other, err := b.svc.ListAPIKeys(ctx, b.acctB, agenthooks.Page{Page: 1, Size: 10})
	must(t, err)
	expectStatus(t, br.get("/settings/api-keys/"+other.Items[0].ID+"/revoke"), http.StatusNotFound)
	expectStatus(t, br.post("/settings/api-keys/"+other.Items[0].ID+"/revoke", nil), http.StatusNotFound)
	lacks(t, br.get("/settings/api-keys"), other.Items[0].Prefix)
	if _, err := b.svc.Authenticate(ctx, b.keyB); err != nil {
		t.Fatalf("the other account's key stopped working: %v", err)
	}

	// Every input has a label.
	for _, p := range []page{list, made, confirm} {
		for _, id := range regexp.MustCompile(`<input\b[^>]*\sid="([^"]+)"`).FindAllStringSubmatch(p.Body, -1) {
			if !strings.Contains(p.Body, `<label for="`+id[1]+`"`) {
				t.Errorf("#%s has no <label for>", id[1])
			}
		}
	}
}

func TestAPIKeysReadOnly(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	extra, err := b.svc.CreateAPIKey(ctx, b.acctA, "Spare")
	must(t, err)
	br := b.browser()
	expectStatus(t, br.get(b.portalPath(t, time.Hour, true)), http.StatusSeeOther)

	for _, path := range []string{"/settings/api-keys", "/settings/api-keys/" + extra.ID + "/revoke"} {
		p := br.get(path)
		expectStatus(t, p, http.StatusOK)
		contains(t, p, "Read-only", "Spare")
		lacks(t, p, "Create API key", ">Revoke</a>", ">Revoke</button>", extra.Key)
		if forms := regexp.MustCompile(`<form method="post" action="([^"]+)"`).FindAllStringSubmatch(p.Body, -1); len(forms) != 1 || forms[0][1] != "/sign-out" {
			t.Errorf("GET %s: POST forms %v, want only Sign out", path, forms)
		}
	}
	// Forged changes, with a valid form token, answer 403 and change nothing.
	expectStatus(t, br.post("/settings/api-keys", url.Values{"name": {"forged"}}), http.StatusForbidden)
	expectStatus(t, br.post("/settings/api-keys/"+extra.ID+"/revoke", nil), http.StatusForbidden)
	keys, err := b.svc.ListAPIKeys(ctx, b.acctA, agenthooks.Page{Page: 1, Size: 10})
	must(t, err)
	if keys.Total != 2 {
		t.Fatalf("a read-only session changed the keys: %d keys", keys.Total)
	}
	if _, err := b.svc.Authenticate(ctx, extra.Key); err != nil {
		t.Fatalf("a read-only session revoked a key: %v", err)
	}
	// Signed out, the pages ask for a sign-in and a POST answers 401.
	anon := b.browser()
	expectStatus(t, anon.get("/settings/api-keys"), http.StatusSeeOther)
	expectStatus(t, anon.post("/settings/api-keys", url.Values{"name": {"x"}}), http.StatusUnauthorized)
}

// TestSessionsEndWithTheirKey: a session ends when the key it was signed in
// with is deleted, every session when the account's keys are rotated, and
// Settings' "Sign out everywhere" ends them all (CSRF-protected like every
// form).
func TestSessionsEndWithTheirKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	spare, err := b.svc.CreateAPIKey(ctx, b.acctA, "Spare")
	must(t, err)
	bySpare := b.signedIn(spare.Key)
	byMain := b.signedIn(b.keyA)
	expectStatus(t, bySpare.get("/settings/api-keys"), http.StatusOK)

	// Deleting the spare key (through the main session) ends the session it opened.
	expectStatus(t, byMain.post("/settings/api-keys/"+spare.ID+"/revoke", nil), http.StatusSeeOther)
	expectStatus(t, bySpare.get("/settings/api-keys"), http.StatusSeeOther)
	expectStatus(t, bySpare.post("/settings/api-keys", url.Values{"name": {"minted"}}), http.StatusUnauthorized)
	expectStatus(t, byMain.get("/settings/api-keys"), http.StatusOK)

	// Sign out everywhere: the button is there, and every session ends.
	other := b.signedIn(b.keyA)
	p := byMain.get("/settings/api-keys")
	contains(t, p, "Sign out everywhere", `action="/settings/sign-out-everywhere"`)
	p = byMain.post("/settings/sign-out-everywhere", nil)
	expectStatus(t, p, http.StatusSeeOther)
	contains(t, byMain.follow(p), "Every session of this account is signed out")
	for _, br := range []*browser{byMain, other} {
		expectStatus(t, br.get("/settings/api-keys"), http.StatusSeeOther)
	}

	// Rotating the account's keys ends every session too.
	again := b.signedIn(b.keyA)
	expectStatus(t, again.get("/webhooks"), http.StatusOK)
	_, err = b.svc.RotateAccountKey(ctx, b.acctA)
	must(t, err)
	expectStatus(t, again.get("/webhooks"), http.StatusSeeOther)
}
