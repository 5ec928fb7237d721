// Package azurite starts Azurite's Table service (the npm package azurite)
// for tests: on a free loopback port, over HTTPS with a certificate made at
// start, with OAuth (--oauth basic: bearer tokens are checked for lifetime,
// issuer and audience, as far as Azurite checks them) and in-memory
// persistence. Test machinery only: the production binary never imports it.
package azurite

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Version is the Azurite version CI installs (.ci/run).
const Version = "3.37.0"

// Account is Azurite's default storage account.
const Account = "devstoreaccount1"

// EnvBinary names the azurite-table executable when it is not on PATH.
const EnvBinary = "PAL_AZURITE_TABLE"

// startTimeout bounds Azurite's start (node is slow on a loaded machine).
const startTimeout = 60 * time.Second

// Server is a running Azurite Table service.
type Server struct {
	// URL is the table service URL: https://127.0.0.1:<port>/devstoreaccount1.
	URL string
	// Addr is the listening address, 127.0.0.1:<port>.
	Addr string
	// CertFile is the PEM file of Azurite's self-signed certificate (its own
	// CA), for a child process that must trust it (SSL_CERT_FILE or SSL_CERT_DIR).
	CertFile string

	transport *http.Transport
	cmd       *exec.Cmd
	out       *lockedBuffer
	done      chan struct{}
	stopOnce  sync.Once
}

// Binary returns the azurite-table executable: $PAL_AZURITE_TABLE, else
// azurite-table on PATH.
func Binary() (string, error) {
	if p := os.Getenv(EnvBinary); p != "" {
		return p, nil
	}
	p, err := exec.LookPath("azurite-table")
	if err != nil {
		return "", fmt.Errorf("azurite-table is not installed (npm install -g azurite@%s, or set %s): %w", Version, EnvBinary, err)
	}
	return p, nil
}

// Start starts Azurite for the test and stops it when the test ends. When
// Azurite is not installed the test is skipped, except under CI (CI=true),
// where it fails: CI must not pass without running these tests.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %v", err)
		}
		t.Skipf("skipping the Azurite tests: %v", err)
	}
	var s *Server
	for attempt := 1; ; attempt++ { // the free port can be taken before Azurite binds it
		s, err = start(bin, t.TempDir())
		if err == nil || attempt == 3 {
			break
		}
		t.Logf("azurite: attempt %d: %v", attempt, err)
	}
	if err != nil {
		t.Fatalf("azurite: %v", err)
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("azurite output:\n%s", s.out.String())
		}
	})
	return s
}

func start(bin, dir string) (*Server, error) {
	certFile, keyFile, pool, err := writeCertificate(dir)
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	out := &lockedBuffer{}
	cmd := exec.Command(bin,
		"--tableHost", "127.0.0.1", "--tablePort", strconv.Itoa(port),
		"--cert", certFile, "--key", keyFile, "--oauth", "basic",
		"--inMemoryPersistence", "--disableTelemetry", "--silent",
	)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &Server{
		URL: "https://" + addr + "/" + Account, Addr: addr, CertFile: certFile, cmd: cmd, out: out, done: make(chan struct{}),
		transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
	}
	go func() { _ = cmd.Wait(); close(s.done) }()
	if err := s.waitReady(); err != nil {
		s.Stop()
		return nil, fmt.Errorf("%w; output: %s", err, out.String())
	}
	return s, nil
}

// waitReady waits until Azurite completes a TLS handshake with the trusted
// certificate.
func (s *Server) waitReady() error {
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-s.done:
			return errors.New("azurite exited at start")
		default:
		}
		d := tls.Dialer{NetDialer: &net.Dialer{Timeout: time.Second}, Config: s.transport.TLSClientConfig.Clone()}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c, err := d.DialContext(ctx, "tcp", s.Addr)
		cancel()
		if err == nil {
			_ = c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("azurite did not listen on %s within %v: %w", s.Addr, startTimeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// HTTPClient returns a client that trusts the server's certificate (and
// nothing else) and refuses, as Table Storage does, what Azurite lets
// through (strictTransport).
func (s *Server) HTTPClient() *http.Client {
	return &http.Client{Transport: strictTransport(s.transport)}
}

// Stop stops Azurite (the process Start started) and waits for it to exit.
// Requests after Stop fail with a refused connection.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		_ = s.cmd.Process.Kill()
		<-s.done
		s.transport.CloseIdleConnections()
	})
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// writeCertificate writes a fresh self-signed certificate for 127.0.0.1 and
// localhost, and its key, as PEM files in dir, and returns a pool that trusts it.
func writeCertificate(dir string) (certFile, keyFile string, pool *x509.CertPool, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", nil, fmt.Errorf("key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return "", "", nil, fmt.Errorf("serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"pal-keeper"}, CommonName: "pal-keeper Azurite"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", nil, fmt.Errorf("certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return "", "", nil, fmt.Errorf("certificate: %w", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", nil, fmt.Errorf("key: %w", err)
	}
	certFile, keyFile = filepath.Join(dir, "azurite-cert.pem"), filepath.Join(dir, "azurite-key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return "", "", nil, err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), 0o600); err != nil {
		return "", "", nil, err
	}
	pool = x509.NewCertPool()
	pool.AddCert(leaf)
	return certFile, keyFile, pool, nil
}

// lockedBuffer collects the process output, bounded to its last 64 KiB.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if b.buf.Len() > 64<<10 {
		rest := b.buf.Bytes()[b.buf.Len()-32<<10:]
		b.buf = *bytes.NewBuffer(append([]byte(nil), rest...))
	}
	return len(p), nil
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
