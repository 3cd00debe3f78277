package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// sealedRE finds a sealed secret's ciphertext in raw bytes (sqlstore.Keyring).
var sealedRE = regexp.MustCompile(`enc:v1:[0-9a-f]{8}:([A-Za-z0-9_-]{20,})`)

// rawFile returns the bytes of an SQLite database and of its WAL, if any.
func rawFile(t *testing.T, path string) []byte {
	t.Helper()
	var all []byte
	for _, f := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(f)
		if os.IsNotExist(err) {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// TestDeletedValuesLeaveTheFile: after an account is deleted, and after
// migrate --reencrypt moves the secrets to a new key, the SQLite file (the
// WAL checkpointed into it when serve stops) holds no trace of the deleted
// account's values nor of the secrets sealed with the old key: secure_delete
// is on for every connection (issue 25 item 8), not only during the
// re-encryption. The values are found in the file before, which proves the
// search.
func TestDeletedValuesLeaveTheFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "agenthooks.db")
	url := "sqlite:" + path
	k1, k2 := newKey(t), newKey(t)
	const adminKey = "platform-admin-key-for-the-secure-delete-test"
	recv := newReceiver(t)
	a, firstKey, stop := launch(t, env{"AGENTHOOKS_DATABASE_URL": url, "AGENTHOOKS_ENCRYPTION_KEY": k1, "AGENTHOOKS_ADMIN_KEY": adminKey})
	admin := &client{t: t, base: a.URL(), key: adminKey}
	gone := admin.must(http.StatusCreated, "POST", "/admin/account", map[string]any{"name": "Account-to-delete-QX7"})
	c := &client{t: t, base: a.URL(), key: gone["api_key"].(string)}
	markers := []string{"Account-to-delete-QX7", "Webhook-name-of-deleted-ZK4", "Header-value-of-deleted-PW9", "Intent-description-of-deleted-MV2", "Assistant-of-deleted-HT5"}
	wh := c.must(http.StatusCreated, "POST", "/outbound_webhook", map[string]any{"name": markers[1], "endpoint": recv.URL(), "headers": map[string]any{"X-Team": markers[2]}})
	markers = append(markers, secretPart(wh["secret"].(string))) // stored sealed: found as nothing, kept as a check
	c.must(http.StatusCreated, "POST", "/intent", map[string]any{"name": "SALES", "description": markers[3]})
	c.must(http.StatusCreated, "POST", "/assistant", map[string]any{"name": markers[4], "webhook_id": wh["id"]})
	// The first account's webhook, sealed with k1, is kept; its k1
	// ciphertext must be gone after re-encryption to k2.
	kept := &client{t: t, base: a.URL(), key: firstKey}
	kept.must(http.StatusCreated, "POST", "/outbound_webhook", map[string]any{"name": "kept hook", "endpoint": recv.URL()})
	stop()
	before := rawFile(t, path)
	for _, m := range markers[:5] {
		if !bytes.Contains(before, []byte(m)) {
			t.Fatalf("%q is not in the file before the deletion: the search is blind", m)
		}
	}
	var sealed []string
	for _, m := range sealedRE.FindAllSubmatch(before, -1) {
		sealed = append(sealed, string(m[1]))
	}
	if len(sealed) < 2 {
		t.Fatalf("%d sealed secrets found in the file, want the 2 webhooks': the search is blind", len(sealed))
	}

	a, _, stop = launch(t, env{"AGENTHOOKS_DATABASE_URL": url, "AGENTHOOKS_ENCRYPTION_KEY": k1, "AGENTHOOKS_ADMIN_KEY": adminKey})
	admin = &client{t: t, base: a.URL(), key: adminKey}
	admin.must(http.StatusOK, "DELETE", "/admin/account/"+gone["id"].(string), nil)
	stop()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"migrate", "--reencrypt"}, &out, &errOut,
		env{"AGENTHOOKS_DATABASE_URL": url, "AGENTHOOKS_ENCRYPTION_KEY": k2 + "," + k1}.get); code != 0 {
		t.Fatalf("migrate --reencrypt: exit %d: %s", code, errOut.String())
	}
	after := rawFile(t, path)
	for _, m := range markers {
		if bytes.Contains(after, []byte(m)) {
			t.Errorf("the deleted account's %q is still in the file", m)
		}
	}
	for _, s := range sealed {
		if strings.Contains(string(after), s) {
			t.Errorf("a secret sealed with the retired key is still in the file (%.12s...)", s)
		}
	}
	t.Logf("%d bytes of file and WAL after the deletion and re-encryption searched for %d values of the deleted account and %d old sealed secrets", len(after), len(markers), len(sealed))
}
