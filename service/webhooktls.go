package service

import (
	"errors"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/egress"
)

// checkTLS validates a webhook's TLS settings: PEM that parses, each field
// holding what its name says, and a key that matches its certificate; a
// refusal is 422 on the field at fault (["body", "tls", "client_key"]).
func checkTLS(t *agenthooks.WebhookTLS) error {
	if t.IsZero() {
		return nil
	}
	_, err := egress.ParseTLS(egress.TLS{ClientCertificate: t.ClientCertificate, ClientKey: t.ClientKey, CACertificates: t.CACertificates})
	var te *egress.TLSError
	if errors.As(err, &te) {
		return agenthooks.InvalidAt(te.Msg, "value_error", "tls", te.Field)
	}
	return err
}

// patchTLS applies a PATCH's tls to the stored settings. null removes them;
// an object replaces them, except that a client_key left empty keeps the
// stored key while a certificate is given: the key is write-only, so a
// client (the dashboard's form among them) that changes only the CA bundle
// cannot send it back. The result is checked as a whole (the kept key must
// match the new certificate).
func patchTLS(stored *agenthooks.WebhookTLS, p Nullable[agenthooks.WebhookTLS]) (*agenthooks.WebhookTLS, error) {
	if p.Value == nil || p.Value.IsZero() {
		return nil, nil
	}
	t := *p.Value
	if t.ClientKey == "" && t.ClientCertificate != "" && stored != nil {
		t.ClientKey = stored.ClientKey
	}
	if err := checkTLS(&t); err != nil {
		return nil, err
	}
	return &t, nil
}
