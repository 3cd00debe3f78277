package egress

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// MaxPEMLength bounds each of a webhook's PEM fields: a certificate chain or
// a CA bundle of a few dozen certificates fits; a field beyond it is refused.
const MaxPEMLength = 64 << 10

// TLS is a webhook's TLS settings for its endpoint (PEM): a client
// certificate and its key, presented to the endpoint (mutual TLS), and a CA
// bundle that replaces the system roots for it. Any may be empty; a
// certificate needs its key and a key its certificate.
type TLS struct {
	ClientCertificate string
	ClientKey         string
	CACertificates    string
}

// IsZero reports whether t sets nothing.
func (t TLS) IsZero() bool {
	return t.ClientCertificate == "" && t.ClientKey == "" && t.CACertificates == ""
}

// Fingerprint identifies t's content (a SHA-256 over the three fields):
// the transport cache's key, so that a changed setting gets a new transport.
func (t TLS) Fingerprint() string {
	h := sha256.New()
	for _, s := range []string{t.ClientCertificate, t.ClientKey, t.CACertificates} {
		fmt.Fprintf(h, "%d:%s", len(s), s)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TLSError is a TLS setting ParseTLS refuses. Field is the JSON name of the
// field at fault (client_certificate, client_key or ca_certificates); Msg is
// written for the API user and holds nothing of the key.
type TLSError struct {
	Field string
	Msg   string
}

// Error implements error.
func (e *TLSError) Error() string { return e.Field + ": " + e.Msg }

// ParseTLS checks t and returns the TLS configuration it makes (nil for a
// zero t): the PEM must parse, each field must hold what its name says, and
// the key must match the certificate.
func ParseTLS(t TLS) (*tls.Config, error) {
	if t.IsZero() {
		return nil, nil
	}
	for field, v := range map[string]string{"client_certificate": t.ClientCertificate, "client_key": t.ClientKey, "ca_certificates": t.CACertificates} {
		if len(v) > MaxPEMLength {
			return nil, &TLSError{Field: field, Msg: fmt.Sprintf("must be at most %d bytes of PEM", MaxPEMLength)}
		}
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if t.CACertificates != "" {
		pool, err := parseCAs(t.CACertificates)
		if err != nil {
			return nil, &TLSError{Field: "ca_certificates", Msg: err.Error()}
		}
		c.RootCAs = pool
	}
	switch {
	case t.ClientCertificate == "" && t.ClientKey == "":
		return c, nil
	case t.ClientCertificate == "":
		return nil, &TLSError{Field: "client_certificate", Msg: "a client key needs its certificate"}
	case t.ClientKey == "":
		return nil, &TLSError{Field: "client_key", Msg: "a client certificate needs its key"}
	}
	if _, err := parseCerts(t.ClientCertificate); err != nil {
		return nil, &TLSError{Field: "client_certificate", Msg: err.Error()}
	}
	if b, _ := pem.Decode([]byte(t.ClientKey)); b == nil || !strings.HasSuffix(b.Type, "PRIVATE KEY") {
		return nil, &TLSError{Field: "client_key", Msg: "must be a PEM private key (-----BEGIN PRIVATE KEY-----)"}
	}
	pair, err := tls.X509KeyPair([]byte(t.ClientCertificate), []byte(t.ClientKey))
	if err != nil {
		// X509KeyPair's message may quote neither the key nor its bytes,
		// but keep ours fixed anyway: this goes back to the API user.
		return nil, &TLSError{Field: "client_key", Msg: "does not parse as a private key or does not match the client certificate"}
	}
	c.Certificates = []tls.Certificate{pair}
	return c, nil
}

// parseCerts decodes every CERTIFICATE block of s; anything else is refused.
func parseCerts(s string) ([]*x509.Certificate, error) {
	rest := []byte(s)
	var certs []*x509.Certificate
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("holds a %s block; want CERTIFICATE blocks only", b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, errors.New("holds a certificate that does not parse")
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 || strings.TrimSpace(string(rest)) != "" {
		return nil, errors.New("must be PEM certificates (-----BEGIN CERTIFICATE-----)")
	}
	return certs, nil
}

// parseCAs is the CA bundle's pool.
func parseCAs(s string) (*x509.CertPool, error) {
	certs, err := parseCerts(s)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}
