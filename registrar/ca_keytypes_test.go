package registrar

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brski-eap/brski/internal/testkeys"
)

// writeExternalCA writes a self-signed CA with key to dir, as a campus
// PKI hands it over, and returns the certificate and key file names.
func writeExternalCA(t *testing.T, dir string, key crypto.Signer) (string, string) {
	t.Helper()
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: testSerial(t),
		Subject:   pkix.Name{CommonName: "campus CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca-key.pem")
	if err := writeKeyPair(certFile, keyFile, [][]byte{der}, key); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// writeRegistrarCert writes a registrar certificate for key, issued by
// ca, to dir and returns the certificate and key file names.
func writeRegistrarCert(t *testing.T, dir string, ca *DomainCA, key crypto.Signer) (string,
	string) {
	t.Helper()
	tmpl, err := registrarTemplate(key.Public(), []string{"localhost"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	certFile := filepath.Join(dir, RegistrarCertFile)
	keyFile := filepath.Join(dir, RegistrarKeyFile)
	if err := writeKeyPair(certFile, keyFile, [][]byte{der, ca.Cert.Raw}, key); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestLoadKeyTypes(t *testing.T) {
	for _, kind := range []string{"P-384", "RSA-2048"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			ca, err := LoadDomainCA(writeExternalCA(t, dir, testkeys.New(t, kind)))
			if err != nil {
				t.Fatalf("LoadDomainCA: %v", err)
			}
			rc, err := LoadRegistrarCert(writeRegistrarCert(t, dir, ca, testkeys.New(t, kind)))
			if err != nil {
				t.Fatalf("LoadRegistrarCert: %v", err)
			}
			if err := rc.Leaf().CheckSignatureFrom(ca.Cert); err != nil {
				t.Errorf("registrar certificate is not signed by the CA: %v", err)
			}
		})
	}
}

func TestLoadRejectsUnsupportedKeys(t *testing.T) {
	p256 := newKey(t)
	tests := []struct {
		name     string
		caKey    crypto.Signer
		leafKey  crypto.Signer // nil: only the CA is loaded
		wantText []string      // the key type and the fix
	}{
		{"RSA-1024 CA", testkeys.New(t, "RSA-1024"), nil,
			[]string{"has a 1024-bit RSA key", "RSA of at least 2048 bits"}},
		{"RSA-1024 registrar", p256, testkeys.New(t, "RSA-1024"),
			[]string{"has a 1024-bit RSA key", "RSA of at least 2048 bits"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			certFile, keyFile := writeExternalCA(t, dir, tt.caKey)
			ca, err := LoadDomainCA(certFile, keyFile)
			if tt.leafKey != nil {
				if err != nil {
					t.Fatalf("LoadDomainCA: %v", err)
				}
				_, err = LoadRegistrarCert(writeRegistrarCert(t, dir, ca, tt.leafKey))
			}
			if !errors.Is(err, ErrUnsupportedKey) {
				t.Fatalf("error = %v, want ErrUnsupportedKey", err)
			}
			for _, want := range tt.wantText {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}
