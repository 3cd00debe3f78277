// Package testproxy gives tests a real forward proxy (Debian's tinyproxy,
// started by the test on a free loopback port) and test certificates.
package testproxy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Config is what a test's own tinyproxy allows.
type Config struct {
	ConnectPorts []int  // ports CONNECT may reach (none: tinyproxy allows every port)
	BasicAuth    string // "user password", or empty for none
}

// Proxy is a real forward proxy (Debian's tinyproxy) on a free loopback
// port, with a config file of the test's own; it is stopped at the test's
// end. Under CI=true a missing tinyproxy fails the test (.ci/run installs
// it); elsewhere it skips.
type Proxy struct {
	// URL is the proxy's http:// URL.
	URL *url.URL
	// Log is the proxy's log file.
	Log string
}

// Start starts a tinyproxy for the test.
func Start(t testing.TB, c Config) *Proxy {
	t.Helper()
	bin, err := exec.LookPath("tinyproxy")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("tinyproxy is not installed (apt-get install tinyproxy; .ci/run does): %v", err)
		}
		t.Skipf("tinyproxy is not installed: %v", err)
	}
	dir := t.TempDir()
	port := FreePort(t)
	logFile := filepath.Join(dir, "tinyproxy.log")
	var b strings.Builder
	fmt.Fprintf(&b, "Port %d\nListen 127.0.0.1\nTimeout 10\nMaxClients 64\nLogLevel Info\nLogFile %q\nDisableViaHeader No\n", port, logFile)
	for _, p := range c.ConnectPorts {
		fmt.Fprintf(&b, "ConnectPort %d\n", p)
	}
	if c.BasicAuth != "" {
		fmt.Fprintf(&b, "BasicAuth %s\n", c.BasicAuth)
	}
	conf := filepath.Join(dir, "tinyproxy.conf")
	if err := os.WriteFile(conf, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-d", "-c", conf)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatalf("start tinyproxy: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = conn.Close()
			break
		}
		select {
		case err := <-exited:
			logged, _ := os.ReadFile(logFile)
			t.Fatalf("tinyproxy exited: %v\n%s", err, logged)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("tinyproxy does not listen on %s: %v", addr, err)
		}
	}
	return &Proxy{URL: &url.URL{Scheme: "http", Host: addr}, Log: logFile}
}

// FreePort is a loopback port nobody listens on (just now).
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// CertPEM makes a self-signed certificate (its own CA) and its key, PEM.
func CertPEM(t testing.TB, cn string, ext x509.ExtKeyUsage) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{ext},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
}
