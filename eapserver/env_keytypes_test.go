package eapserver_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/brski-eap/brski/devid"
	"github.com/brski-eap/brski/masa"
	"github.com/brski-eap/brski/registrar"
)

// keyType is a kind of private key that manufacturers and domains deploy.
type keyType string

const (
	keyP256    keyType = "P-256"
	keyP384    keyType = "P-384"
	keyRSA2048 keyType = "RSA-2048"
)

// testKeys caches one key per key type and role for the whole test binary,
// because RSA key generation is slow and its time varies from run to run.
var testKeys sync.Map // "type/role" -> func() (crypto.Signer, error)

// testKey returns the test binary's key of type kt for role. Different
// roles get different keys, so no certificate shares a key with another.
func testKey(t testing.TB, kt keyType, role string) crypto.Signer {
	t.Helper()
	gen, _ := testKeys.LoadOrStore(string(kt)+"/"+role, sync.OnceValues(func() (
		crypto.Signer, error) {
		switch kt {
		case keyP256:
			return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		case keyP384:
			return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		case keyRSA2048:
			return rsa.GenerateKey(rand.Reader, 2048)
		}
		panic("unknown key type " + string(kt))
	}))
	key, err := gen.(func() (crypto.Signer, error))()
	if err != nil {
		t.Fatalf("generate %s key for %s: %v", kt, role, err)
	}
	return key
}

// typeOf returns the key type of a public key, or "" for any other.
func typeOf(pub crypto.PublicKey) keyType {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return keyP256
		case elliptic.P384():
			return keyP384
		}
	case *rsa.PublicKey:
		if k.N.BitLen() == 2048 {
			return keyRSA2048
		}
	}
	return ""
}

// envKeys are the private keys of an env's certificates. A nil key keeps
// the ECDSA P-256 key that the env's generating functions create.
type envKeys struct {
	factoryCA, masaSigning, idevid crypto.Signer
	domainCA, registrar            crypto.Signer
}

func (k envKeys) factory() masa.FactoryKeys {
	return masa.FactoryKeys{CA: k.factoryCA, Signing: k.masaSigning}
}

// writeDomain writes a domain CA and a registrar certificate with the keys
// of k into dir when k sets either key, as a campus PKI hands them to the
// registrar. registrar.GenerateDomainCA and GenerateRegistrarCert then load
// them. A missing domain CA key is a P-256 test key, and without a
// registrar key the registrar certificate is left to GenerateRegistrarCert.
func (k envKeys) writeDomain(t testing.TB, dir string, now time.Time) {
	t.Helper()
	if k.domainCA == nil && k.registrar == nil {
		return
	}
	caKey := k.domainCA
	if caKey == nil {
		caKey = testKey(t, keyP256, "domain CA")
	}
	ca := issueCert(t, &x509.Certificate{
		Subject:   pkix.Name{CommonName: "campus PKI domain CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true, IsCA: true,
	}, caKey.Public(), nil, caKey)
	writePEM(t, filepath.Join(dir, registrar.DomainCACertFile), caKey, ca)
	if k.registrar == nil {
		return
	}
	rc := issueCert(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "campus registrar"},
		// GenerateRegistrarCert replaces a certificate that expires within
		// 30 days.
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth,
			x509.ExtKeyUsageClientAuth},
		UnknownExtKeyUsage: []asn1.ObjectIdentifier{devid.OIDCmcRA},
		DNSNames:           []string{"localhost"},
		IPAddresses:        []net.IP{net.IPv4(127, 0, 0, 1)},
	}, k.registrar.Public(), ca, caKey)
	writePEM(t, filepath.Join(dir, registrar.RegistrarCertFile), k.registrar, rc, ca)
}

// issueCert signs template for pub with parent and parentKey, or
// self-signs it when parent is nil.
func issueCert(t testing.TB, template *x509.Certificate, pub crypto.PublicKey,
	parent *x509.Certificate, parentKey crypto.Signer) *x509.Certificate {
	t.Helper()
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		t.Fatal(err)
	}
	template.SerialNumber = serial
	if template.SubjectKeyId, err = devid.KeyIdentifier(pub); err != nil {
		t.Fatal(err)
	}
	if parent == nil {
		parent = template
	}
	der, err := x509.CreateCertificate(rand.Reader, template, parent, pub, parentKey)
	if err != nil {
		t.Fatalf("issue %q: %v", template.Subject, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// writePEM writes chain to certFile and key in PKCS #8 to the file that
// registrar's naming pairs with it: domain-ca.crt.pem with
// domain-ca.key.pem, registrar.crt.pem with registrar.key.pem.
func writePEM(t testing.TB, certFile string, key crypto.Signer, chain ...*x509.Certificate) {
	t.Helper()
	keyFile := map[string]string{
		registrar.DomainCACertFile:  registrar.DomainCAKeyFile,
		registrar.RegistrarCertFile: registrar.RegistrarKeyFile,
	}[filepath.Base(certFile)]
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	var certs []byte
	for _, c := range chain {
		certs = append(certs, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE",
			Bytes: c.Raw})...)
	}
	if err := os.MkdirAll(filepath.Dir(certFile), 0o700); err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := os.WriteFile(filepath.Join(filepath.Dir(certFile), keyFile), keyPEM,
		0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, certs, 0o644); err != nil {
		t.Fatal(err)
	}
}
