// Package devid reads the IEEE 802.1AR device identity (DevID) fields that
// BRSKI uses from an IDevID certificate: the serial number, the MASA URL
// extension (RFC 8995, Section 2.3.2), a model name, key identifiers and
// fingerprints. The masa, masaclient, registrar and pledge packages share it,
// so every role derives these facts from a certificate the same way.
package devid

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
)

// Object identifiers of the DevID fields that BRSKI reads.
var (
	// OIDMASAURL is id-pe-masa-url, the MASA URL extension of an IDevID
	// (RFC 8995, Section 2.3.2). Its value is an IA5String.
	OIDMASAURL = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 32}
	// OIDSerialNumber is the X.520 serialNumber attribute of a subject
	// name (RFC 8995, Section 2.3.1).
	OIDSerialNumber = asn1.ObjectIdentifier{2, 5, 4, 5}
	// OIDHardwareModuleName is id-on-hardwareModuleName, an otherName form
	// of subjectAltName (RFC 4108, Section 5).
	OIDHardwareModuleName = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 8, 4}
	// OIDCmcRA is id-kp-cmcRA, the extended key usage that marks a
	// registrar certificate (RFC 6402, Section 2.10; RFC 8995, Section 2.4).
	OIDCmcRA = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 28}
	// oidSubjectAltName is id-ce-subjectAltName (RFC 5280, Section 4.2.1.6).
	oidSubjectAltName = asn1.ObjectIdentifier{2, 5, 29, 17}
)

// ErrNoSerialNumber is returned by SerialNumber when a certificate has
// neither a subject serialNumber nor a hardwareModuleName.
var ErrNoSerialNumber = errors.New("devid: certificate has no subject serialNumber " +
	"and no hardwareModuleName subjectAltName")

// ErrNoMASAURL is returned by MASAURL when a certificate has no MASA URL
// extension.
var ErrNoMASAURL = errors.New("devid: certificate has no MASA URL extension " +
	"(1.3.6.1.5.5.7.1.32)")

// SerialNumber returns the device serial number of an IDevID. It reads the
// subject serialNumber attribute (RFC 8995, Section 2.3.1) in any string
// encoding and never the certificate serial, which identifies the
// certificate rather than the device. When the subject has no serialNumber,
// it falls back to the hwSerialNum of a hardwareModuleName subjectAltName
// (RFC 4108, Section 5).
func SerialNumber(cert *x509.Certificate) (string, error) {
	if cert == nil {
		return "", errors.New("devid: nil certificate")
	}
	if s, ok := subjectString(cert.Subject, OIDSerialNumber); ok {
		return s, nil
	}
	for _, ext := range cert.Extensions {
		if !ext.Id.Equal(oidSubjectAltName) {
			continue
		}
		hw, err := ParseHardwareModuleName(ext.Value)
		if err != nil {
			return "", err
		}
		if hw != nil {
			return string(hw.SerialNum), nil
		}
	}
	return "", ErrNoSerialNumber
}

// Model returns the model name of a device from its IDevID subject, or ""
// when the subject has none. X.520 has no model attribute and neither RFC 8995
// nor IEEE 802.1AR names one, so this package reads the subject commonName
// (2.5.4.3), where vendors commonly name the product. The factory in package
// masa writes the model there.
func Model(cert *x509.Certificate) string {
	if cert == nil {
		return ""
	}
	s, _ := subjectString(cert.Subject, asn1.ObjectIdentifier{2, 5, 4, 3})
	return s
}

// subjectString returns the first value of attribute oid in name. The
// crypto/x509 parser accepts PrintableString, UTF8String, IA5String, T61String
// and BMPString values and converts them to a Go string.
func subjectString(name pkix.Name, oid asn1.ObjectIdentifier) (string, bool) {
	for _, atv := range name.Names {
		if !atv.Type.Equal(oid) {
			continue
		}
		if s, ok := atv.Value.(string); ok && s != "" {
			return s, true
		}
	}
	return "", false
}

// KeyIdentifier returns the SHA-1 hash of the subjectPublicKey BIT STRING of
// a public key, which is method 1 of RFC 5280, Section 4.2.1.2 (also
// RFC 7093, Section 2). The factory uses it as the subject key identifier of
// its certificates.
func KeyIdentifier(pub any) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("devid: marshal public key: %w", err)
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, fmt.Errorf("devid: parse public key: %w", err)
	}
	sum := sha1.Sum(spki.PublicKey.Bytes)
	return sum[:], nil
}

// DomainID returns the domainID of a pinned domain certificate as the MASA
// audit log carries it (RFC 8995, Section 5.8.2): the certificate's subject
// key identifier when it has one, and otherwise the SHA-256 SPKI fingerprint
// of RFC 7469, Section 2.4.
func DomainID(cert *x509.Certificate) []byte {
	if len(cert.SubjectKeyId) > 0 {
		return append([]byte(nil), cert.SubjectKeyId...)
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return sum[:]
}

// Fingerprint returns the SHA-256 hash of the DER certificate in lower-case
// hex, as policies and logs name a specific device.
func Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return hex.EncodeToString(sum[:])
}

// HasCmcRA reports whether cert has the id-kp-cmcRA extended key usage that
// RFC 8995, Section 5.5 requires of a registrar's signing certificate.
func HasCmcRA(cert *x509.Certificate) bool {
	if cert == nil {
		return false
	}
	for _, oid := range cert.UnknownExtKeyUsage {
		if oid.Equal(OIDCmcRA) {
			return true
		}
	}
	return false
}
