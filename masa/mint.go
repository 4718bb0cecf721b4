package masa

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/brski-eap/brski/devid"
)

// ValidateSerialNumber checks that serial can name a device and its
// directory: 1 to 64 characters of ASCII letters, digits, '-', '_', '.' and
// ':', starting with a letter or digit. It returns an error that wraps
// ErrInvalidSerialNumber.
func ValidateSerialNumber(serial string) error {
	if serial == "" || len(serial) > maxSerialNumberLength {
		return fmt.Errorf("%w %q: want 1 to %d characters", ErrInvalidSerialNumber, serial,
			maxSerialNumberLength)
	}
	for i, r := range serial {
		letterOrDigit := r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r))
		punct := r == '-' || r == '_' || r == '.' || r == ':'
		if letterOrDigit || (punct && i > 0) {
			continue
		}
		return fmt.Errorf("%w %q: character %q at offset %d; use letters, digits and - _ . :"+
			" and start with a letter or digit", ErrInvalidSerialNumber, serial, r, i)
	}
	return nil
}

// Mint issues an IDevID for the device serial and writes it with its key
// under Dir/devices/SERIAL. The IDevID carries the subject serialNumber
// (RFC 8995, Section 2.3.1), the model as subject commonName when model is
// not empty (see devid.Model), the MASA URL extension (RFC 8995,
// Section 2.3.2), the clientAuth extended key usage and notAfter
// 99991231235959Z. The IDevID key is a new ECDSA P-256 key. Minting a
// serial twice fails.
func (f *Factory) Mint(serial, model string) (*Device, error) {
	return f.MintWithKey(serial, model, nil)
}

// MintWithKey is Mint with key as the IDevID key, for devices with RSA or
// P-384 IDevIDs. A nil key is generated as ECDSA P-256, and any other must
// pass CheckKey.
func (f *Factory) MintWithKey(serial, model string, key crypto.Signer) (*Device, error) {
	if err := ValidateSerialNumber(serial); err != nil {
		return nil, err
	}
	if err := validateModel(model); err != nil {
		return nil, err
	}
	ext, err := devid.MarshalMASAURL(f.MASAURL)
	if err != nil {
		return nil, fmt.Errorf("masa: %w", err)
	}
	if key, err = keyOrP256(key, "IDevID"); err != nil {
		return nil, err
	}
	template := &x509.Certificate{
		Subject: pkix.Name{SerialNumber: serial, CommonName: model,
			Organization: []string{f.Name}},
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		ExtraExtensions:       []pkix.Extension{{Id: devid.OIDMASAURL, Value: ext}},
	}
	cert, err := issue(template, key.Public(), f.CA, f.caKey)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(f.Dir, DevicesDir, serial)
	if err := os.Mkdir(dir, 0o755); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("masa: device %q was already minted in %s", serial, dir)
		}
		return nil, fmt.Errorf("masa: create device directory: %w", err)
	}
	d := &Device{SerialNumber: serial, Certificate: cert, Key: key,
		CertFile: filepath.Join(dir, DeviceCertFile), KeyFile: filepath.Join(dir, DeviceKeyFile)}
	if err := writeKeyPEM(d.KeyFile, key); err != nil {
		return nil, err
	}
	if err := writeCertPEM(d.CertFile, cert); err != nil {
		return nil, err
	}
	return d, nil
}

// validateModel checks that model fits a commonName: at most 64 characters
// (ub-common-name of RFC 5280, Appendix A.1) and no control characters.
func validateModel(model string) error {
	if utf8.RuneCountInString(model) > 64 {
		return fmt.Errorf("masa: model %q is longer than 64 characters", model)
	}
	for _, r := range model {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("masa: model %q contains a control character", model)
		}
	}
	return nil
}

// ErrUnknownDevice is returned by DeviceCertificate for a serial number that
// this factory has not minted.
var ErrUnknownDevice = errors.New("masa: unknown device")

// DeviceCertificate returns the IDevID that Mint stored for serial. It
// returns an error wrapping ErrUnknownDevice when there is none.
func (f *Factory) DeviceCertificate(serial string) (*x509.Certificate, error) {
	if err := ValidateSerialNumber(serial); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnknownDevice, err)
	}
	path := filepath.Join(f.Dir, DevicesDir, serial, DeviceCertFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w %q: %s does not exist", ErrUnknownDevice, serial, path)
	}
	certs, err := ReadCertificates(path)
	if err != nil {
		return nil, err
	}
	return certs[0], nil
}

// IssueServerCert issues a TLS server certificate for hosts (DNS names or IP
// addresses) from the factory CA and returns the certificate and key PEM.
// The certificate is valid for validity from now on.
func (f *Factory) IssueServerCert(hosts []string, validity time.Duration) (certPEM,
	keyPEM []byte, err error) {
	if len(hosts) == 0 {
		return nil, nil, errors.New("masa: server certificate needs at least one host name")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("masa: generate server key: %w", err)
	}
	template := &x509.Certificate{
		Subject:     pkix.Name{Organization: []string{f.Name}, CommonName: hosts[0]},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		NotAfter:    time.Now().Add(validity).UTC().Truncate(time.Second),
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			template.IPAddresses = append(template.IPAddresses, ip)
		} else {
			template.DNSNames = append(template.DNSNames, h)
		}
	}
	cert, err := issue(template, key.Public(), f.CA, f.caKey)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("masa: marshal server key: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	certPEM = append(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE",
		Bytes: f.CA.Raw})...)
	return certPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
