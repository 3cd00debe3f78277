package agenthooks

// WebhookTLS is a webhook's TLS settings for its endpoint, PEM (CONTRACT
// section 3, "Client certificates per webhook"): a client certificate and
// its key presented to the endpoint (mutual TLS), and a CA bundle that
// replaces the system roots for it. ClientKey is stored sealed like the
// webhook's secret and never read back through the API.
type WebhookTLS struct {
	ClientCertificate string
	ClientKey         string
	CACertificates    string
}

// IsZero reports whether t sets nothing.
func (t *WebhookTLS) IsZero() bool {
	return t == nil || (t.ClientCertificate == "" && t.ClientKey == "" && t.CACertificates == "")
}
