package eapest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"
)

// noEMSConfig is an OpenSSL 3 configuration file whose system default
// turns the Extended Master Secret off, for a client like an old
// supplicant. OpenSSL 3.0 has no command-line flag for it.
const noEMSConfig = `openssl_conf = init
[init]
ssl_conf = ssl
[ssl]
system_default = system
[system]
Options = -ExtendedMasterSecret
`

// requireOpenSSL returns the path of the openssl program, or skips the
// test without it and fails it under CI=true.
func requireOpenSSL(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("openssl")
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("openssl is not installed: %v", err)
	}
	t.Skipf("openssl is not installed (Debian: apt-get install openssl): %v", err)
	return ""
}

// recordConn keeps every byte read and written, so the test can take the
// hello randoms from the handshake as the EAP tunnel does.
type recordConn struct {
	net.Conn
	mu      sync.Mutex
	in, out bytes.Buffer
}

func (c *recordConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.mu.Lock()
	c.in.Write(b[:n])
	c.mu.Unlock()
	return n, err
}

func (c *recordConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	c.out.Write(b)
	c.mu.Unlock()
	return c.Conn.Write(b)
}

// writeClientPEM writes the test client certificate and key for openssl.
func writeClientPEM(t *testing.T, cert tls.Certificate) (certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	der, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "client.pem"), filepath.Join(dir, "key.pem")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

var keyingMaterialLine = regexp.MustCompile(`(?m)^\s*Keying material: ([0-9A-F]+)\s*$`)

// TestLegacyKeysOpenSSL checks the keys of the legacy profile against
// openssl s_client, which exports RFC 5705 keying material with the label
// "client EAP encryption" and no context: MSK || EMSK of RFC 5216,
// Section 2.3. Without the Extended Master Secret the tunnel derives them
// from the captured master secret with its own PRF, so each PRF and hash
// runs here against OpenSSL's.
func TestLegacyKeysOpenSSL(t *testing.T) {
	openssl := requireOpenSSL(t)
	p := newPKI(t)
	rsaCert := rsaServerCert(t, p.ca)
	certFile, keyFile := writeClientPEM(t, p.client)
	noEMS := filepath.Join(t.TempDir(), "no-ems.cnf")
	if err := os.WriteFile(noEMS, []byte(noEMSConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		version string // s_client flag
		cipher  string // OpenSSL cipher name
		rsa     bool
		ems     bool
		want    LegacyFeatures
	}{
		{"TLS 1.0", "-tls1", "ECDHE-ECDSA-AES128-SHA", false, false,
			LegacyTLS10 | LegacyNoEMS},
		{"TLS 1.1", "-tls1_1", "ECDHE-ECDSA-AES256-SHA", false, false,
			LegacyTLS11 | LegacyNoEMS},
		{"TLS 1.2 SHA-256 PRF", "-tls1_2", "ECDHE-ECDSA-AES128-GCM-SHA256", false, false,
			LegacyNoEMS},
		{"TLS 1.2 SHA-384 PRF", "-tls1_2", "ECDHE-ECDSA-AES256-GCM-SHA384", false, false,
			LegacyNoEMS},
		{"TLS 1.2 RSA kex", "-tls1_2", "AES256-GCM-SHA384", true, false,
			LegacyRSAKeyExchange | LegacyNoEMS},
		{"TLS 1.0 RSA kex", "-tls1", "AES128-SHA", true, false,
			LegacyTLS10 | LegacyRSAKeyExchange | LegacyNoEMS},
		{"TLS 1.0 with EMS", "-tls1", "ECDHE-ECDSA-AES128-SHA", false, true, LegacyTLS10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := p.serverTLS(0)
			if tt.rsa {
				base.Certificates = []tls.Certificate{rsaCert}
			}
			cfg, err := ProfileLegacy.ServerTLSConfig(base)
			if err != nil {
				t.Fatal(err)
			}
			tun := &serverTunnel{typ: TypeTLS, config: cfg, profile: ProfileLegacy}
			args := []string{"s_client", tt.version, "-cipher", tt.cipher + "@SECLEVEL=0",
				"-cert", certFile, "-key", keyFile,
				"-keymatexport", labelTLS12, "-keymatexportlen", "128"}
			env := []string{}
			if !tt.ems {
				env = append(env, "OPENSSL_CONF="+noEMS)
			}
			out := serveOpenSSL(t, tun, openssl, args, env)
			m := keyingMaterialLine.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("no keying material in the s_client output:\n%s", out)
			}
			want, err := hex.DecodeString(m[1])
			if err != nil {
				t.Fatal(err)
			}
			keys, err := tun.deriveTunnelKeys()
			if err != nil {
				t.Fatalf("derive keys: %v", err)
			}
			if got := append(keys.MSK, keys.EMSK...); !bytes.Equal(got, want) {
				t.Errorf("MSK || EMSK = %X, openssl exported %X", got, want)
			}
			if got := LegacyFeaturesOf(&tun.state); got != tt.want {
				t.Errorf("LegacyFeaturesOf = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestDefaultProfileRejectsNoEMS checks that a default tunnel derives no
// keys for a TLS 1.2 client without the Extended Master Secret.
func TestDefaultProfileRejectsNoEMS(t *testing.T) {
	openssl := requireOpenSSL(t)
	p := newPKI(t)
	certFile, keyFile := writeClientPEM(t, p.client)
	noEMS := filepath.Join(t.TempDir(), "no-ems.cnf")
	if err := os.WriteFile(noEMS, []byte(noEMSConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := ServerTLSConfig(p.serverTLS(0))
	if err != nil {
		t.Fatal(err)
	}
	tun := &serverTunnel{typ: TypeTLS, config: cfg}
	serveOpenSSL(t, tun, openssl, []string{"s_client", "-tls1_2", "-cert", certFile,
		"-key", keyFile}, []string{"OPENSSL_CONF=" + noEMS})
	if tun.secrets != nil {
		t.Error("default tunnel captured the master secret")
	}
	if _, err := tun.deriveTunnelKeys(); err == nil {
		t.Error("default tunnel derived keys without the Extended Master Secret")
	}
}

// serveOpenSSL accepts one connection from openssl with args on loopback,
// runs the handshake of tun's configuration on it and fills tun's state
// and hello randoms. It returns the output of openssl.
func serveOpenSSL(t *testing.T, tun *serverTunnel, openssl string, args, env []string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, openssl, append(args, "-connect", l.Addr().String())...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	conn, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	rec := &recordConn{Conn: conn}
	tc := tls.Server(rec, tun.legacyConfig())
	if err := tc.HandshakeContext(ctx); err != nil {
		cmd.Wait()
		t.Fatalf("handshake: %v\n%s", err, out.String())
	}
	tun.state = tc.ConnectionState()
	// openssl prints the keying material once it reads end of input and
	// closes, so the server waits for that before it closes its side.
	if _, err := tc.Read(make([]byte, 1)); err == nil {
		t.Error("openssl sent application data")
	}
	tc.Close()
	if err := cmd.Wait(); err != nil {
		t.Logf("openssl exited with %v", err)
	}
	rec.mu.Lock()
	tun.randoms = append(helloRandom(rec.in.Bytes(), 1), helloRandom(rec.out.Bytes(), 2)...)
	rec.mu.Unlock()
	return out.String()
}
