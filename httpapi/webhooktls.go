package httpapi

import (
	"encoding/json"

	"github.com/agenthooks/agenthooks"
)

// webhookTLSView is a webhook's tls as read: the certificate and the CA
// bundle, and whether a key is set; never the key.
type webhookTLSView struct {
	ClientCertificate *string `json:"client_certificate" doc:"The client certificate presented to the endpoint (PEM), or null."`
	CACertificates    *string `json:"ca_certificates" doc:"The CA certificates that replace the system roots for this endpoint (PEM), or null."`
	ClientKeySet      bool    `json:"client_key_set" doc:"Whether a client key is stored (it is write-only, never returned)."`
}

// newWebhookTLSView is nil (JSON null) for a webhook without TLS settings.
func newWebhookTLSView(t *agenthooks.WebhookTLS) *webhookTLSView {
	if t.IsZero() {
		return nil
	}
	return &webhookTLSView{ClientCertificate: nullable(t.ClientCertificate), CACertificates: nullable(t.CACertificates), ClientKeySet: t.ClientKey != ""}
}

// webhookTLS reads the body's tls: absent (set false), null (set, nil) or
// an object of PEM strings, each optional; a wrong type fails on its own
// field (["body", "tls", "client_key"]). Unknown keys are ignored, as
// everywhere in a body.
func (b *body) webhookTLS() (set bool, t *agenthooks.WebhookTLS) {
	set, fields := b.optObject("tls")
	if fields == nil {
		return set, nil
	}
	t = &agenthooks.WebhookTLS{}
	for name, dst := range map[string]*string{"client_certificate": &t.ClientCertificate, "client_key": &t.ClientKey, "ca_certificates": &t.CACertificates} {
		v, ok := fields[name]
		if !ok || isNull(v) {
			continue
		}
		if err := json.Unmarshal(v, dst); err != nil {
			b.errs = append(b.errs, agenthooks.FieldError{Loc: []any{"tls", name}, Msg: kString.msg, Type: kString.typ})
		}
	}
	return true, t
}
