package dashboard

import (
	"net/url"
	"strings"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/service"
)

// webhookTLSForm is the webhook form's "Client certificate" fieldset
// (templates/_webhooktls.html). The key is write-only: the form shows
// whether one is set, never the key, and a blank key field keeps it.
type webhookTLSForm struct {
	ClientCertificate string
	CACertificates    string
	KeySet            bool
}

func webhookTLSFormOf(t *agenthooks.WebhookTLS) webhookTLSForm {
	if t == nil {
		return webhookTLSForm{}
	}
	return webhookTLSForm{ClientCertificate: t.ClientCertificate, CACertificates: t.CACertificates, KeySet: t.ClientKey != ""}
}

// parseTLS reads the fieldset: nil when its three fields are blank.
func (f *webhookForm) parseTLS(v url.Values) *agenthooks.WebhookTLS {
	t := &agenthooks.WebhookTLS{
		ClientCertificate: pemField(v.Get("tls_client_certificate")),
		ClientKey:         pemField(v.Get("tls_client_key")),
		CACertificates:    pemField(v.Get("tls_ca_certificates")),
	}
	f.TLS.ClientCertificate, f.TLS.CACertificates = t.ClientCertificate, t.CACertificates
	if t.IsZero() {
		return nil
	}
	return t
}

// tlsPatch is the update's tls: the fieldset as a whole (blank: none), a
// blank key keeping the stored one (service.patchTLS).
func tlsPatch(t *agenthooks.WebhookTLS) service.Nullable[agenthooks.WebhookTLS] {
	return service.Nullable[agenthooks.WebhookTLS]{Set: true, Value: t}
}

// pemField normalises a textarea's PEM: browsers send CRLF line ends.
func pemField(s string) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if s == "" {
		return ""
	}
	return s + "\n"
}
