package masa

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brski-eap/brski/internal/testkeys"
)

func TestInitFactoryWithKeys(t *testing.T) {
	tests := []struct {
		kind   string
		sigAlg x509.SignatureAlgorithm // of certificates that the CA issues
	}{
		{"P-384", x509.ECDSAWithSHA384},
		{"RSA-2048", x509.SHA256WithRSA},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			keys := FactoryKeys{CA: testkeys.New(t, tt.kind), Signing: testkeys.New(t, tt.kind)}
			f, err := InitFactoryWithKeys(t.TempDir(), "Acme", "https://masa.example", keys)
			if err != nil {
				t.Fatalf("InitFactoryWithKeys: %v", err)
			}
			if !samePublic(keys.Signing, f.SigningCert.PublicKey) {
				t.Errorf("signing certificate does not carry the signing key")
			}
			if got := f.SigningCert.SignatureAlgorithm; got != tt.sigAlg {
				t.Errorf("signing certificate signature algorithm = %v, want %v", got,
					tt.sigAlg)
			}
			opened, err := OpenFactory(f.Dir)
			if err != nil {
				t.Fatalf("OpenFactory: %v", err)
			}
			if !samePublic(keys.CA, opened.CA.PublicKey) {
				t.Errorf("reopened factory CA does not carry the CA key")
			}
			idevid := testkeys.New(t, tt.kind)
			dev, err := opened.MintWithKey("SN-1", "router", idevid)
			if err != nil {
				t.Fatalf("MintWithKey: %v", err)
			}
			if !samePublic(idevid, dev.Certificate.PublicKey) {
				t.Errorf("IDevID does not carry the given key")
			}
			if err := dev.Certificate.CheckSignatureFrom(opened.CA); err != nil {
				t.Errorf("IDevID is not signed by the factory CA: %v", err)
			}
		})
	}
}

func TestFactoryRejectsUnsupportedKeys(t *testing.T) {
	tests := []struct {
		kind string
		want []string // parts of the message: the key type and the fix
	}{
		{"RSA-1024", []string{"1024-bit RSA", "RSA of at least 2048 bits"}},
		{"P-224", []string{"curve P-224", "use P-256"}},
		{"Ed25519", []string{"ed25519", "use ECDSA P-256 or RSA"}},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			key := testkeys.New(t, tt.kind)
			dir := filepath.Join(t.TempDir(), "factory")
			_, err := InitFactoryWithKeys(dir, "Acme", "https://masa.example",
				FactoryKeys{CA: key})
			checkKeyError(t, "InitFactoryWithKeys", err, tt.want)
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("rejected factory left %s behind: %v", dir, err)
			}
			f := newTestFactory(t)
			_, err = f.MintWithKey("SN-1", "router", key)
			checkKeyError(t, "MintWithKey", err, tt.want)
		})
	}
}

func checkKeyError(t *testing.T, call string, err error, want []string) {
	t.Helper()
	if !errors.Is(err, ErrUnsupportedKey) {
		t.Fatalf("%s error = %v, want ErrUnsupportedKey", call, err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s error %q does not contain %q", call, err, w)
		}
	}
}

func samePublic(key crypto.Signer, pub crypto.PublicKey) bool {
	k, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(pub)
}

// TestOpenFactoryRejectsShortRSAKey pins that a factory directory made by
// hand with an RSA-1024 CA fails at OpenFactory, before the MASA signs
// anything with it.
func TestOpenFactoryRejectsShortRSAKey(t *testing.T) {
	dir := t.TempDir()
	caKey := testkeys.New(t, "RSA-1024")
	ca, err := issue(&x509.Certificate{Subject: pkix.Name{CommonName: "old CA"},
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true},
		caKey.Public(), nil, caKey)
	if err != nil {
		t.Fatal(err)
	}
	signingKey := testkeys.New(t, "P-384")
	signing, err := issue(&x509.Certificate{Subject: pkix.Name{CommonName: "signing"},
		KeyUsage: x509.KeyUsageDigitalSignature}, signingKey.Public(), ca, caKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		writeKeyPEM(filepath.Join(dir, factoryCAKeyFile), caKey),
		writeCertPEM(filepath.Join(dir, FactoryCAFile), ca),
		writeKeyPEM(filepath.Join(dir, signingKeyFile), signingKey),
		writeCertPEM(filepath.Join(dir, SigningCertFile), signing, ca),
		os.WriteFile(filepath.Join(dir, masaURLFile), []byte("https://masa.example\n"), 0o644),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err = OpenFactory(dir)
	checkKeyError(t, "OpenFactory", err, []string{"factory CA", "1024-bit RSA",
		"RSA of at least 2048 bits"})
}
