package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/agenthooks/agenthooks/internal/testproxy"
)

// mtlsReceiver is an https receiver on loopback that requires a client
// certificate signed by clientCA (tls.RequireAndVerifyClientCert) and
// counts the requests it accepted.
type mtlsReceiver struct {
	srv  *httptest.Server
	ca   string // the receiver's own certificate, PEM: the webhook's ca_certificates
	hits atomic.Int64
}

func newMTLSReceiver(t *testing.T, clientCA string) *mtlsReceiver {
	t.Helper()
	r := &mtlsReceiver{}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		r.hits.Add(1)
	}))
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(clientCA)) {
		t.Fatal("client CA does not parse")
	}
	r.srv.TLS = &tls.Config{ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	r.srv.StartTLS()
	t.Cleanup(r.srv.Close)
	r.ca = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.srv.Certificate().Raw}))
	return r
}

// testAttempt sends the webhook's test event and returns the attempt.
func testAttempt(t *testing.T, c *client, id string) map[string]any {
	t.Helper()
	res := c.must(http.StatusOK, "POST", "/outbound_webhook/"+id+"/test", nil)
	att, _ := res["attempt"].(map[string]any)
	if att == nil {
		t.Fatalf("test made no attempt: %v", res)
	}
	return att
}

// TestWebhookTLS: a webhook's client certificate and CA bundle (CONTRACT
// section 3) against a receiver that requires the certificate, on both
// stores: 422 on the field at fault, a read that never shows the key, the
// key sealed at rest and re-sealed by migrate --reencrypt, a PATCH with a
// blank key keeping it, and (on SQLite) the same through a real egress
// proxy's CONNECT.
func TestWebhookTLS(t *testing.T) {
	t.Parallel()
	cert, key := testproxy.CertPEM(t, "agenthooks-client", x509.ExtKeyUsageClientAuth)
	_, otherKey := testproxy.CertPEM(t, "someone-else", x509.ExtKeyUsageClientAuth)
	keyBody := strings.Split(key, "\n")[1] // a line of the key's base64, to look for in the database

	for engine, dsn := range engineURLs(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			url := dsn(t)
			k1, k2 := newKey(t), newKey(t)
			recv := newMTLSReceiver(t, cert)
			e := env{"AGENTHOOKS_DATABASE_URL": url, "AGENTHOOKS_ENCRYPTION_KEY": k1}
			var proxy *testproxy.Proxy
			if engine == "sqlite" {
				proxy = testproxy.Start(t, testproxy.Config{ConnectPorts: []int{recv.srv.Listener.Addr().(*net.TCPAddr).Port}})
				e["AGENTHOOKS_EGRESS_PROXY"] = proxy.URL.String()
			}
			a, apiKey, stop := launch(t, e)
			c := &client{t: t, base: a.URL(), key: apiKey}

			for _, tt := range []struct {
				name  string
				tls   map[string]any
				field string
			}{
				{"KeyOfAnotherCertificate", map[string]any{"client_certificate": cert, "client_key": otherKey}, "client_key"},
				{"CertificateNotPEM", map[string]any{"client_certificate": "not a certificate", "client_key": key}, "client_certificate"},
				{"CAsNotPEM", map[string]any{"ca_certificates": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}, "ca_certificates"},
				{"KeyNotAString", map[string]any{"client_certificate": cert, "client_key": 42}, "client_key"},
			} {
				_, body := c.do("POST", "/outbound_webhook", map[string]any{"name": "tls " + tt.name, "endpoint": recv.srv.URL, "tls": tt.tls})
				assertLoc(t, tt.name, body, "body", "tls", tt.field)
			}

			w := c.must(http.StatusCreated, "POST", "/outbound_webhook", map[string]any{"name": "mtls hook", "endpoint": recv.srv.URL,
				"tls": map[string]any{"client_certificate": cert, "client_key": key, "ca_certificates": recv.ca}})
			id := w["id"].(string)
			for _, got := range []map[string]any{w, c.must(http.StatusOK, "GET", "/outbound_webhook/"+id, nil)} {
				tv, _ := got["tls"].(map[string]any)
				if tv == nil || tv["client_certificate"] != cert || tv["ca_certificates"] != recv.ca || tv["client_key_set"] != true {
					t.Fatalf("tls reads %v", got["tls"])
				}
				if _, ok := tv["client_key"]; ok {
					t.Fatal("a read shows the client key")
				}
			}
			if stored(t, url, keyBody) {
				t.Fatal("the client key is stored in plain text")
			}
			if att := testAttempt(t, c, id); att["status_code"] != 200.0 {
				t.Fatalf("with the certificate: %v", att)
			}
			if proxy != nil {
				logged, _ := os.ReadFile(proxy.Log)
				if !strings.Contains(string(logged), "CONNECT") {
					t.Fatalf("the delivery did not go through the proxy's CONNECT:\n%s", logged)
				}
			}

			// A blank key keeps the stored one.
			c.must(http.StatusOK, "PATCH", "/outbound_webhook/"+id, map[string]any{"tls": map[string]any{"client_certificate": cert, "client_key": "", "ca_certificates": recv.ca}})
			if att := testAttempt(t, c, id); att["status_code"] != 200.0 {
				t.Fatalf("after a PATCH with a blank key: %v", att)
			}
			stop()

			// Re-sealed under a new key; the new key alone opens it.
			var out, errOut bytes.Buffer
			if code := run(context.Background(), []string{"migrate", "--reencrypt"}, &out, &errOut,
				env{"AGENTHOOKS_DATABASE_URL": url, "AGENTHOOKS_ENCRYPTION_KEY": k2 + "," + k1}.get); code != 0 {
				t.Fatalf("migrate --reencrypt: exit %d: %s", code, errOut.String())
			}
			e["AGENTHOOKS_ENCRYPTION_KEY"] = k2
			a, _, stop = launch(t, e)
			defer stop()
			c = &client{t: t, base: a.URL(), key: apiKey}
			if att := testAttempt(t, c, id); att["status_code"] != 200.0 {
				t.Fatalf("after migrate --reencrypt, with the new key alone: %v", att)
			}

			// Without the certificate the receiver refuses the handshake.
			before := recv.hits.Load()
			c.must(http.StatusOK, "PATCH", "/outbound_webhook/"+id, map[string]any{"tls": map[string]any{"ca_certificates": recv.ca}})
			if got := c.must(http.StatusOK, "GET", "/outbound_webhook/"+id, nil)["tls"].(map[string]any); got["client_key_set"] != false {
				t.Fatalf("tls after removing the certificate: %v", got)
			}
			if att := testAttempt(t, c, id); att["status_code"] == 200.0 || att["error"] == nil {
				t.Fatalf("without the certificate: %v", att)
			}
			if recv.hits.Load() != before {
				t.Fatal("the receiver accepted a request without a client certificate")
			}
			c.must(http.StatusOK, "PATCH", "/outbound_webhook/"+id, map[string]any{"tls": nil})
			if got := c.must(http.StatusOK, "GET", "/outbound_webhook/"+id, nil); got["tls"] != nil {
				t.Fatalf("tls after null: %v", got["tls"])
			}
		})
	}
}

// assertLoc checks a 422 body's detail names loc.
func assertLoc(t *testing.T, name string, body map[string]any, loc ...string) {
	t.Helper()
	detail, _ := body["detail"].([]any)
	want := strings.Join(loc, ",")
	for _, d := range detail {
		m, _ := d.(map[string]any)
		var parts []string
		for _, p := range m["loc"].([]any) {
			parts = append(parts, p.(string))
		}
		if strings.Join(parts, ",") == want {
			return
		}
	}
	t.Fatalf("%s: %v, want a 422 on %s", name, body, want)
}
