package httpapi

import "github.com/agenthooks/agenthooks/egress"

// webhookTLSWrite is the tls a create or PATCH takes.
func webhookTLSWrite() schema {
	pem := func(desc string) schema {
		return schema{"type": []string{"string", "null"}, "maxLength": egress.MaxPEMLength, "description": desc}
	}
	return schema{
		"type": []string{"object", "null"},
		"properties": schema{
			"client_certificate": pem("PEM certificate(s): the client certificate, then any intermediates."),
			"client_key":         pem("PEM private key of the client certificate; stored sealed, never returned. On PATCH, empty or absent keeps the stored key while a certificate is given."),
			"ca_certificates":    pem("PEM CA certificates that replace the system roots for this endpoint."),
		},
		"description": "A PEM that does not parse, or a key that does not match its certificate, is 422 on that field (loc body.tls.<field>). On PATCH, null removes the settings.",
	}
}
