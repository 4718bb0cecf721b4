package registrar

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/brski-eap/brski/devid"
)

// Names of the files that GenerateDomainCA keeps in the data directory.
const (
	DomainCACertFile  = "domain-ca.crt.pem"
	DomainCAKeyFile   = "domain-ca.key.pem"
	RegistrarCertFile = "registrar.crt.pem"
	RegistrarKeyFile  = "registrar.key.pem"
)

// Lifetimes of the certificates that this package generates.
const (
	domainCAValidity  = 10 * 365 * 24 * time.Hour
	registrarValidity = 365 * 24 * time.Hour
	// registrarRenewBefore is how long before expiry a generated registrar
	// certificate is issued again at startup.
	registrarRenewBefore = 30 * 24 * time.Hour
)

// DomainCA is the certificate authority of the domain. It signs the
// registrar certificate and the LDevIDs, and it is the pinned-domain-cert
// that the registrar expects in vouchers (RFC 8995, Section 5.5).
type DomainCA struct {
	// Cert is the CA certificate that issues LDevIDs.
	Cert *x509.Certificate
	// Key is the private key of Cert.
	Key crypto.Signer
	// Chain contains Cert first and then any issuers of Cert that the CA
	// file contains, which EST cacerts returns (RFC 7030, Section 4.1).
	Chain []*x509.Certificate
}

// LoadDomainCA reads an external CA from a PEM certificate file (the CA
// first, then any issuers) and a PEM private key file. A certificate whose
// key is not ECDSA P-256, P-384 or P-521 or RSA of at least 2048 bits gets
// an error wrapping ErrUnsupportedKey, and a key file of another
// certificate one wrapping ErrKeyMismatch.
func LoadDomainCA(certFile, keyFile string) (*DomainCA, error) {
	chain, err := readCertificates(certFile)
	if err != nil {
		return nil, fmt.Errorf("registrar: domain CA: %w", err)
	}
	key, err := readPrivateKey(keyFile)
	if err != nil {
		return nil, fmt.Errorf("registrar: domain CA: %w", err)
	}
	ca := chain[0]
	if !ca.IsCA || ca.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("registrar: %s: the first certificate %q is not a CA with the "+
			"keyCertSign key usage; put the issuing CA first", certFile, ca.Subject)
	}
	if !samePublicKey(ca.PublicKey, key.Public()) {
		return nil, fmt.Errorf("%w: %s does not contain the private key of the CA "+
			"certificate in %s, so the key file belongs to another certificate; name the "+
			"key of %s", ErrKeyMismatch, keyFile, certFile, certFile)
	}
	if err := checkCertKeys(chain, certFile, "CA certificate"); err != nil {
		return nil, err
	}
	return &DomainCA{Cert: ca, Key: key, Chain: chain}, nil
}

// GenerateDomainCA loads the domain CA from dir, or creates it there when
// the directory has none: an ECDSA P-256 key and a self-signed CA
// certificate valid for ten years, named DomainCACertFile and
// DomainCAKeyFile. The key file is written with mode 0600. P-256 keeps the
// check of every LDevID signature cheap: Go verifies P-256 signatures
// several times faster than P-384 ones. LoadDomainCA still accepts a P-384
// or P-521 CA.
func GenerateDomainCA(dir string, now time.Time) (*DomainCA, error) {
	certFile := filepath.Join(dir, DomainCACertFile)
	keyFile := filepath.Join(dir, DomainCAKeyFile)
	if _, err := os.Stat(certFile); err == nil {
		return LoadDomainCA(certFile, keyFile)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("registrar: domain CA: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("registrar: generate domain CA key: %w", err)
	}
	ski, err := devid.KeyIdentifier(key.Public())
	if err != nil {
		return nil, fmt.Errorf("registrar: domain CA: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "brski domain CA " + serial.Text(16)[:8]},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(domainCAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		SubjectKeyId:          ski,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("registrar: create domain CA certificate: %w", err)
	}
	if err := writeKeyPair(certFile, keyFile, [][]byte{der}, key); err != nil {
		return nil, err
	}
	return LoadDomainCA(certFile, keyFile)
}

// RegistrarCert is the registrar's own certificate. It is the TLS server
// certificate and signs registrar voucher requests, so it carries the
// serverAuth and id-kp-cmcRA extended key usages (RFC 8995, Section 5.5),
// and clientAuth for the TLS connection to the MASA.
type RegistrarCert struct {
	// Chain contains the registrar certificate first, then its issuers.
	Chain []*x509.Certificate
	// Key is the private key of Chain[0].
	Key crypto.Signer
}

// Leaf returns the registrar certificate itself.
func (rc *RegistrarCert) Leaf() *x509.Certificate { return rc.Chain[0] }

// TLSCertificate returns the chain and key for a tls.Config.
func (rc *RegistrarCert) TLSCertificate() tls.Certificate {
	chain := make([][]byte, 0, len(rc.Chain))
	for _, c := range rc.Chain {
		chain = append(chain, c.Raw)
	}
	return tls.Certificate{Certificate: chain, PrivateKey: rc.Key, Leaf: rc.Leaf()}
}

// LoadRegistrarCert reads a registrar certificate chain and its private key
// from PEM files and checks that the certificate has the id-kp-cmcRA
// extended key usage. A certificate whose key is not ECDSA P-256, P-384 or
// P-521 or RSA of at least 2048 bits gets an error wrapping
// ErrUnsupportedKey, and a key file of another certificate one wrapping
// ErrKeyMismatch.
func LoadRegistrarCert(certFile, keyFile string) (*RegistrarCert, error) {
	chain, err := readCertificates(certFile)
	if err != nil {
		return nil, fmt.Errorf("registrar: registrar certificate: %w", err)
	}
	key, err := readPrivateKey(keyFile)
	if err != nil {
		return nil, fmt.Errorf("registrar: registrar certificate: %w", err)
	}
	if !samePublicKey(chain[0].PublicKey, key.Public()) {
		return nil, fmt.Errorf("%w: %s does not contain the private key of the "+
			"certificate in %s, so the key file belongs to another certificate; name the "+
			"key of %s", ErrKeyMismatch, keyFile, certFile, certFile)
	}
	if !devid.HasCmcRA(chain[0]) {
		return nil, fmt.Errorf("registrar: certificate %s has no id-kp-cmcRA extended key "+
			"usage (1.3.6.1.5.5.7.3.28), which RFC 8995, Section 5.5 requires", certFile)
	}
	if err := checkCertKeys(chain, certFile, "certificate"); err != nil {
		return nil, err
	}
	return &RegistrarCert{Chain: chain, Key: key}, nil
}

// GenerateRegistrarCert loads the registrar certificate from dir, or issues
// one from ca when dir has none, when the one there expires within 30 days,
// or when it was not issued by ca. The new certificate is valid for one
// year. It has an ECDSA P-256 key, the serverAuth, clientAuth and
// id-kp-cmcRA extended key usages, and hosts as DNS names or IP addresses.
func GenerateRegistrarCert(dir string, ca *DomainCA, hosts []string,
	now time.Time) (*RegistrarCert, error) {
	certFile := filepath.Join(dir, RegistrarCertFile)
	keyFile := filepath.Join(dir, RegistrarKeyFile)
	if rc, err := LoadRegistrarCert(certFile, keyFile); err == nil {
		leaf := rc.Leaf()
		fresh := now.Add(registrarRenewBefore).Before(leaf.NotAfter)
		if fresh && leaf.CheckSignatureFrom(ca.Cert) == nil {
			return rc, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("registrar: generate registrar key: %w", err)
	}
	tmpl, err := registrarTemplate(key.Public(), hosts, now)
	if err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, fmt.Errorf("registrar: issue registrar certificate: %w", err)
	}
	chain := [][]byte{der}
	for _, c := range ca.Chain {
		chain = append(chain, c.Raw)
	}
	if err := writeKeyPair(certFile, keyFile, chain, key); err != nil {
		return nil, err
	}
	return LoadRegistrarCert(certFile, keyFile)
}

func registrarTemplate(pub crypto.PublicKey, hosts []string,
	now time.Time) (*x509.Certificate, error) {
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	ski, err := devid.KeyIdentifier(pub)
	if err != nil {
		return nil, fmt.Errorf("registrar: registrar certificate: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "brski registrar"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(registrarValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth,
			x509.ExtKeyUsageClientAuth},
		UnknownExtKeyUsage: []asn1.ObjectIdentifier{devid.OIDCmcRA},
		SubjectKeyId:       ski,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	return tmpl, nil
}

// randomSerial returns a positive 127-bit certificate serial number
// (RFC 5280, Section 4.1.2.2 allows at most 20 octets).
func randomSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 127)
	n, err := rand.Int(rand.Reader, limit)
	if err != nil {
		return nil, fmt.Errorf("registrar: generate serial number: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}
