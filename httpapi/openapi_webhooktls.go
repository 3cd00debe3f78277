package httpapi

import "github.com/agenthooks/agenthooks/egress"

// webhookTLSRead is a webhook's tls as read (webhookTLSView): null, or the
// certificate, the CA bundle and whether a key is set, never the key.
func webhookTLSRead() schema {
	return schema{
		"type": []string{"object", "null"},
		"properties": schema{
			"client_certificate": jsNullString("The client certificate presented to the endpoint (PEM), or null."),
			"ca_certificates":    jsNullString("The CA certificates that replace the system roots for this endpoint (PEM), or null."),
			"client_key_set":     jsType("boolean", "Whether a client key is stored (it is write-only, never returned)."),
		},
		"required":    []string{"client_certificate", "ca_certificates", "client_key_set"},
		"description": "Mutual TLS and a private CA for the endpoint; null for none.",
	}
}

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
