package dashboard_test

import (
	"context"
	"crypto/x509"
	"net/http"
	"strings"
	"testing"

	"github.com/agenthooks/agenthooks/internal/testproxy"
)

// TestWebhookTLSForm: the webhook form's client certificate fieldset takes
// the PEM, shows errors under the field at fault, never shows the key
// (only that one is set), and keeps it when the key field is left blank.
func TestWebhookTLSForm(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.signedIn(b.keyA)
	cert, key := testproxy.CertPEM(t, "dash-client", x509.ExtKeyUsageClientAuth)
	_, otherKey := testproxy.CertPEM(t, "other", x509.ExtKeyUsageClientAuth)

	p := br.get("/webhooks/new")
	contains(t, p, `<legend>Client certificate (mutual TLS)</legend>`, `<label for="tls_client_certificate">Client certificate</label>`,
		`<label for="tls_client_key">Client key</label>`, `<label for="tls_ca_certificates">CA certificates</label>`)

	form := webhookForm("mtls", "https://hooks.example.com/in")
	form.Set("tls_client_certificate", strings.ReplaceAll(cert, "\n", "\r\n"))
	form.Set("tls_client_key", otherKey)
	bad := br.post("/webhooks", form)
	expectStatus(t, bad, http.StatusUnprocessableEntity)
	if msg := fieldError(bad, "tls_client_key"); !strings.Contains(msg, "does not match") {
		t.Fatalf("error under the key = %q", msg)
	}
	lacks(t, bad, strings.Split(otherKey, "\n")[1])
	contains(t, bad, strings.Split(cert, "\n")[1]) // the certificate comes back as typed

	form.Set("tls_client_key", key)
	created := br.post("/webhooks", form)
	expectStatus(t, created, http.StatusSeeOther)
	id := idIn(t, created, "/webhooks/")
	wh, err := b.svc.GetWebhook(context.Background(), b.acctA, id)
	must(t, err)
	if wh.TLS == nil || wh.TLS.ClientCertificate != cert || wh.TLS.ClientKey != key {
		t.Fatalf("stored tls %+v", wh.TLS)
	}
	page := br.follow(created)
	contains(t, page, "A key is set (it is never shown)", strings.Split(cert, "\n")[1])
	lacks(t, page, strings.Split(key, "\n")[1])

	// Saving the form with the key blank keeps the key.
	form.Set("tls_client_key", "")
	expectStatus(t, br.post("/webhooks/"+id, form), http.StatusSeeOther)
	wh, err = b.svc.GetWebhook(context.Background(), b.acctA, id)
	must(t, err)
	if wh.TLS == nil || wh.TLS.ClientKey != key {
		t.Fatalf("a blank key field dropped the key: %+v", wh.TLS)
	}
	// Clearing the fieldset removes the settings.
	form.Del("tls_client_certificate")
	expectStatus(t, br.post("/webhooks/"+id, form), http.StatusSeeOther)
	wh, err = b.svc.GetWebhook(context.Background(), b.acctA, id)
	must(t, err)
	if wh.TLS != nil {
		t.Fatalf("tls after clearing the fieldset: %+v", wh.TLS)
	}
}
