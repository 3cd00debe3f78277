package egress

import (
	"crypto/x509"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/agenthooks/agenthooks/internal/testproxy"
)

func TestParseTLS(t *testing.T) {
	t.Parallel()
	cert, key := testproxy.CertPEM(t, "client", x509.ExtKeyUsageClientAuth)
	otherCert, otherKey := testproxy.CertPEM(t, "other", x509.ExtKeyUsageClientAuth)
	_ = otherCert
	tests := []struct {
		name  string
		in    TLS
		field string // "" when valid
	}{
		{"Zero", TLS{}, ""},
		{"CAOnly", TLS{CACertificates: cert}, ""},
		{"Pair", TLS{ClientCertificate: cert, ClientKey: key}, ""},
		{"PairAndCAs", TLS{ClientCertificate: cert, ClientKey: key, CACertificates: cert + otherCert}, ""},
		{"KeyOfAnotherCert", TLS{ClientCertificate: cert, ClientKey: otherKey}, "client_key"},
		{"CertWithoutKey", TLS{ClientCertificate: cert}, "client_key"},
		{"KeyWithoutCert", TLS{ClientKey: key}, "client_certificate"},
		{"CertNotPEM", TLS{ClientCertificate: "hello", ClientKey: key}, "client_certificate"},
		{"CertIsKey", TLS{ClientCertificate: key, ClientKey: key}, "client_certificate"},
		{"KeyNotPEM", TLS{ClientCertificate: cert, ClientKey: "nope"}, "client_key"},
		{"KeyIsCert", TLS{ClientCertificate: cert, ClientKey: cert}, "client_key"},
		{"CAGarbage", TLS{CACertificates: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}, "ca_certificates"},
		{"CATrailingJunk", TLS{CACertificates: cert + "junk"}, "ca_certificates"},
		{"CATooLong", TLS{CACertificates: strings.Repeat(cert, MaxPEMLength/len(cert)+1)}, "ca_certificates"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := ParseTLS(tt.in)
			var te *TLSError
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("err = %v, want none", err)
			case tt.field == "" && tt.in.IsZero() != (cfg == nil):
				t.Fatalf("config = %v for %+v", cfg, tt.in)
			case tt.field != "" && (!errors.As(err, &te) || te.Field != tt.field):
				t.Fatalf("err = %v, want a TLSError on %s", err, tt.field)
			case err != nil && strings.Contains(err.Error(), "PRIVATE KEY-----\n"):
				t.Fatalf("err = %q quotes the key", err)
			}
		})
	}
}

func TestClients(t *testing.T) {
	t.Parallel()
	clientCert, clientKey := testproxy.CertPEM(t, "agenthooks-client", x509.ExtKeyUsageClientAuth)
	srv, ca := tlsReceiver(t, clientCert)
	cs := NewClients(Options{Policy: Policy{AllowPrivate: true}}, 2)
	withCert := TLS{ClientCertificate: clientCert, ClientKey: clientKey, CACertificates: ca}

	a1, err := cs.Client("a", withCert)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := post(t, a1, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.Header.Get("X-Client") != "agenthooks-client" {
		t.Fatalf("receiver saw client %q", resp.Header.Get("X-Client"))
	}
	if again, _ := cs.Client("a", withCert); again != a1 {
		t.Fatal("the same settings got a new client: the keep-alive pool is lost")
	}
	caOnly := TLS{CACertificates: ca}
	a2, err := cs.Client("a", caOnly)
	if err != nil || a2 == a1 || cs.Len() != 1 {
		t.Fatalf("changed settings: new client %v, len %d, err %v", a2 != a1, cs.Len(), err)
	}
	if _, err := post(t, a2, srv.URL); err == nil {
		t.Fatal("the receiver accepted a client without its certificate")
	}
	for _, id := range []string{"b", "c", "d"} {
		if _, err := cs.Client(id, caOnly); err != nil {
			t.Fatal(err)
		}
	}
	if cs.Len() != 2 {
		t.Fatalf("Len = %d, want the bound 2", cs.Len())
	}
	if _, err := cs.Client("e", TLS{ClientCertificate: clientCert}); err == nil {
		t.Fatal("settings that do not parse got a client")
	}
}
