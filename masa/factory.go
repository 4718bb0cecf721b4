package masa

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/brski-eap/brski/devid"
)

// Files of a factory directory. Private keys have mode 0600.
const (
	FactoryCAFile         = "ca.pem"           // factory CA certificate
	factoryCAKeyFile      = "ca-key.pem"       // factory CA private key
	SigningCertFile       = "masa-signing.pem" // voucher-signing certificate, then the CA
	signingKeyFile        = "masa-signing-key.pem"
	masaURLFile           = "masa-url" // the MASA URL that minted IDevIDs carry
	DevicesDir            = "devices"  // one subdirectory per minted serial number
	DeviceCertFile        = "idevid.pem"
	DeviceKeyFile         = "key.pem"
	maxSerialNumberLength = 64 // ub-serial-number of X.520
)

// notAfterForever is 99991231235959Z, the notAfter of a certificate without
// a well-defined expiration date (RFC 5280, Section 4.1.2.5), which
// IEEE 802.1AR allows for an IDevID.
var notAfterForever = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// ErrFactoryExists is returned by InitFactory when the directory already
// holds a factory.
var ErrFactoryExists = errors.New("masa: factory already exists")

// ErrInvalidSerialNumber is returned for a serial number that cannot name a
// device directory.
var ErrInvalidSerialNumber = errors.New("masa: invalid serial number")

// Factory is a virtual manufacturer: a factory CA that issues IDevIDs and the
// voucher-signing certificate of its MASA (RFC 8995, Appendix C.1.2). A
// pledge trusts either the CA or the signing certificate as its MASA trust
// anchor. Minted devices are the ones whose IDevID is stored under
// Dir/devices/SERIAL, and the MASA serves exactly those.
type Factory struct {
	Dir         string
	Name        string            // manufacturer name, the CA subject organization
	MASAURL     string            // base URL written into each IDevID
	CA          *x509.Certificate // factory CA
	SigningCert *x509.Certificate // voucher-signing certificate issued by CA

	caKey      crypto.Signer
	signingKey crypto.Signer
}

// Device is one minted pledge identity.
type Device struct {
	SerialNumber string
	Certificate  *x509.Certificate // the IDevID
	Key          crypto.Signer
	CertFile     string
	KeyFile      string
}

// InitFactory creates a factory in dir: a P-256 factory CA for manufacturer
// name, a P-256 voucher-signing certificate that the CA issues, and the MASA
// URL that minted IDevIDs will carry. A registrar checks the CA's signature
// on IDevIDs and on the signing certificate in every bootstrap, and P-256
// signatures verify several times faster than P-384 ones. It returns ErrFactoryExists when dir
// already contains a factory CA.
func InitFactory(dir, name, masaURL string) (*Factory, error) {
	return InitFactoryWithKeys(dir, name, masaURL, FactoryKeys{})
}

// FactoryKeys are the private keys of a new factory. A nil key is generated
// as ECDSA P-256. Each key must pass CheckKey.
type FactoryKeys struct {
	CA      crypto.Signer // factory CA key
	Signing crypto.Signer // voucher-signing key of the MASA
}

// InitFactoryWithKeys is InitFactory with the factory CA and voucher-signing
// keys of keys, for a manufacturer whose CA has an RSA or P-384 key.
func InitFactoryWithKeys(dir, name, masaURL string, keys FactoryKeys) (*Factory, error) {
	if strings.TrimSpace(name) == "" {
		return nil, errors.New("masa: empty factory name; pass the manufacturer name")
	}
	normURL, err := devid.NormalizeMASAURL(masaURL)
	if err != nil {
		return nil, fmt.Errorf("masa: factory MASA URL: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, FactoryCAFile)); err == nil {
		return nil, fmt.Errorf("%w in %s; choose another directory", ErrFactoryExists, dir)
	}
	if keys.CA, err = keyOrP256(keys.CA, "factory CA"); err != nil {
		return nil, err
	}
	if keys.Signing, err = keyOrP256(keys.Signing, "voucher-signing"); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, DevicesDir), 0o755); err != nil {
		return nil, fmt.Errorf("masa: create factory directory: %w", err)
	}
	f := &Factory{Dir: dir, Name: name, MASAURL: normURL}
	if err := f.createCA(keys.CA); err != nil {
		return nil, err
	}
	if err := f.createSigningCert(keys.Signing); err != nil {
		return nil, err
	}
	if err := writeFileExclusive(filepath.Join(dir, masaURLFile), []byte(normURL+"\n"),
		0o644); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *Factory) createCA(key crypto.Signer) error {
	template := &x509.Certificate{
		Subject: pkix.Name{Organization: []string{f.Name},
			CommonName: f.Name + " Factory CA"},
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	ca, err := issue(template, key.Public(), nil, key)
	if err != nil {
		return err
	}
	if err := writeKeyPEM(filepath.Join(f.Dir, factoryCAKeyFile), key); err != nil {
		return err
	}
	if err := writeCertPEM(filepath.Join(f.Dir, FactoryCAFile), ca); err != nil {
		return err
	}
	f.CA, f.caKey = ca, key
	return nil
}

func (f *Factory) createSigningCert(key crypto.Signer) error {
	template := &x509.Certificate{
		Subject: pkix.Name{Organization: []string{f.Name},
			CommonName: f.Name + " MASA voucher signing"},
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	cert, err := issue(template, key.Public(), f.CA, f.caKey)
	if err != nil {
		return err
	}
	if err := writeKeyPEM(filepath.Join(f.Dir, signingKeyFile), key); err != nil {
		return err
	}
	if err := writeCertPEM(filepath.Join(f.Dir, SigningCertFile), cert, f.CA); err != nil {
		return err
	}
	f.SigningCert, f.signingKey = cert, key
	return nil
}

// OpenFactory loads the factory that InitFactory created in dir. It fails
// when a private key file is readable by the group or other users, and
// with an error wrapping ErrUnsupportedKey when a key fails CheckKey.
func OpenFactory(dir string) (*Factory, error) {
	f := &Factory{Dir: dir}
	var err error
	if f.CA, f.caKey, err = loadPair(dir, FactoryCAFile, factoryCAKeyFile); err != nil {
		return nil, err
	}
	f.SigningCert, f.signingKey, err = loadPair(dir, SigningCertFile, signingKeyFile)
	if err != nil {
		return nil, err
	}
	caFile, signingFile := filepath.Join(dir, factoryCAKeyFile), filepath.Join(dir, signingKeyFile)
	if err := CheckKey(f.caKey, "factory CA ("+caFile+")"); err != nil {
		return nil, err
	}
	if err := CheckKey(f.signingKey, "voucher-signing ("+signingFile+")"); err != nil {
		return nil, err
	}
	if len(f.CA.Subject.Organization) > 0 {
		f.Name = f.CA.Subject.Organization[0]
	}
	data, err := os.ReadFile(filepath.Join(dir, masaURLFile))
	if err != nil {
		return nil, fmt.Errorf("masa: read factory MASA URL: %w", err)
	}
	if f.MASAURL, err = devid.NormalizeMASAURL(strings.TrimSpace(string(data))); err != nil {
		return nil, fmt.Errorf("masa: %s: %w", filepath.Join(dir, masaURLFile), err)
	}
	return f, nil
}

// loadPair reads the first certificate of certFile and its private key and
// checks that they belong together.
func loadPair(dir, certFile, keyFile string) (*x509.Certificate, crypto.Signer, error) {
	certs, err := ReadCertificates(filepath.Join(dir, certFile))
	if err != nil {
		return nil, nil, err
	}
	key, err := readKey(filepath.Join(dir, keyFile))
	if err != nil {
		return nil, nil, err
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(certs[0].PublicKey) {
		return nil, nil, fmt.Errorf("masa: %s does not match the certificate in %s",
			filepath.Join(dir, keyFile), filepath.Join(dir, certFile))
	}
	return certs[0], key, nil
}

// issue signs template for pub with the parent certificate and key, or
// self-signs it when parent is nil. It fills in a random serial, the
// validity and a method 1 subject key identifier.
func issue(template *x509.Certificate, pub crypto.PublicKey, parent *x509.Certificate,
	parentKey crypto.Signer) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("masa: certificate serial: %w", err)
	}
	template.SerialNumber = serial.Add(serial, big.NewInt(1))
	template.NotBefore = time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	if template.NotAfter.IsZero() {
		template.NotAfter = notAfterForever
	}
	if template.SubjectKeyId, err = devid.KeyIdentifier(pub); err != nil {
		return nil, fmt.Errorf("masa: %w", err)
	}
	if parent == nil {
		parent = template
	}
	der, err := x509.CreateCertificate(rand.Reader, template, parent, pub, parentKey)
	if err != nil {
		return nil, fmt.Errorf("masa: sign certificate for %q: %w", template.Subject.String(), err)
	}
	return x509.ParseCertificate(der)
}
