package registrar

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"path/filepath"
	"testing"
	"time"
)

func TestGenerateDomainCAIsP256(t *testing.T) {
	ca, err := GenerateDomainCA(t.TempDir(), time.Now())
	if err != nil {
		t.Fatalf("GenerateDomainCA: %v", err)
	}
	pub, ok := ca.Cert.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		t.Fatalf("domain CA key is %T, want ECDSA", ca.Cert.PublicKey)
	}
	if pub.Curve != elliptic.P256() {
		t.Errorf("domain CA curve = %s, want P-256", pub.Curve.Params().Name)
	}
}

// TestLoadedDomainCACurves checks that a domain CA created elsewhere with
// another curve still loads and issues a registrar certificate that chains
// to it.
func TestLoadedDomainCACurves(t *testing.T) {
	for _, curve := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		t.Run(curve.Params().Name, func(t *testing.T) {
			dir := t.TempDir()
			certFile := filepath.Join(dir, DomainCACertFile)
			keyFile := filepath.Join(dir, DomainCAKeyFile)
			writeTestCA(t, curve, certFile, keyFile)
			ca, err := LoadDomainCA(certFile, keyFile)
			if err != nil {
				t.Fatalf("LoadDomainCA: %v", err)
			}
			now := time.Now()
			rc, err := GenerateRegistrarCert(dir, ca, []string{"localhost"}, now)
			if err != nil {
				t.Fatalf("GenerateRegistrarCert: %v", err)
			}
			roots := x509.NewCertPool()
			roots.AddCert(ca.Cert)
			_, err = rc.Leaf().Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now,
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
			if err != nil {
				t.Errorf("registrar certificate does not chain to the %s CA: %v",
					curve.Params().Name, err)
			}
		})
	}
}

func writeTestCA(t *testing.T, curve elliptic.Curve, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(7),
		Subject:               pkix.Name{CommonName: "external domain CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(48 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeKeyPair(certFile, keyFile, [][]byte{der}, key); err != nil {
		t.Fatal(err)
	}
}
