package pledge

import (
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
)

// Object identifiers that a CSR attributes response may carry and that this
// package fulfills.
var (
	// oidExtensionRequest is PKCS #9 extensionRequest (RFC 2985,
	// Section 5.4.2).
	oidExtensionRequest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 14}
	// oidECPublicKey is id-ecPublicKey (RFC 5480, Section 2.1.1). As an
	// attribute, its value names the requested curve (RFC 7030,
	// Section 4.5.2).
	oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	// oidRSAEncryption is rsaEncryption (RFC 8017). As an
	// OID without values, it requests an RSA key.
	oidRSAEncryption = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	// oidAttrSerialNumber and oidAttrCommonName are the X.520 subject
	// attributes serialNumber and commonName.
	oidAttrSerialNumber = asn1.ObjectIdentifier{2, 5, 4, 5}
	oidAttrCommonName   = asn1.ObjectIdentifier{2, 5, 4, 3}
)

// curves maps the named curves of RFC 5480, Section 2.1.1.1 to Go curves.
var curves = []struct {
	oid   asn1.ObjectIdentifier
	curve elliptic.Curve
}{
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}, elliptic.P256()},
	{asn1.ObjectIdentifier{1, 3, 132, 0, 34}, elliptic.P384()},
	{asn1.ObjectIdentifier{1, 3, 132, 0, 35}, elliptic.P521()},
}

// signatureAlgorithms maps the ECDSA signature algorithms of RFC 5758,
// Section 3.2 and the RSA PKCS #1 v1.5 ones of RFC 8017 to Go's, with the
// key type that each needs.
var signatureAlgorithms = []struct {
	oid asn1.ObjectIdentifier
	alg x509.SignatureAlgorithm
	key x509.PublicKeyAlgorithm
}{
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}, x509.ECDSAWithSHA256, x509.ECDSA},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}, x509.ECDSAWithSHA384, x509.ECDSA},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}, x509.ECDSAWithSHA512, x509.ECDSA},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}, x509.SHA256WithRSA, x509.RSA},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}, x509.SHA384WithRSA, x509.RSA},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}, x509.SHA512WithRSA, x509.RSA},
}

// CSRAttributes is a parsed CSR attributes response (RFC 7030, Section 4.5),
// reduced to what the pledge puts into its certificate request.
type CSRAttributes struct {
	// KeyAlgorithm is the key type that the server requests with the
	// id-ecPublicKey or rsaEncryption OID: x509.ECDSA, x509.RSA, or
	// x509.UnknownPublicKeyAlgorithm when it requests none. KeyType
	// returns the key type that the pledge generates.
	KeyAlgorithm x509.PublicKeyAlgorithm
	// RSABits is the RSA key size that an rsaEncryption attribute requests,
	// from 2048 to 4096 bits; 0 when it requests none, and then an RSA key
	// has 2048 bits.
	RSABits int
	// Curve is the elliptic curve the server requests for the new key; nil
	// when it requests none, and then the pledge uses P-256.
	Curve elliptic.Curve
	// SignatureAlgorithm is the requested CSR signature algorithm;
	// x509.UnknownSignatureAlgorithm when none is requested.
	SignatureAlgorithm x509.SignatureAlgorithm
	// Extensions are the extensions that an extensionRequest attribute
	// requests in the CSR, such as a subjectAltName (RFC 8995,
	// Section 5.9.2).
	Extensions []pkix.Extension
	// Unsupported lists the requested attributes, curves and algorithms
	// that the pledge cannot fulfill, such as challengePassword or a MAC
	// address. The registrar may reject a request that omits them.
	Unsupported []asn1.ObjectIdentifier
}

// csrAttribute is the Attribute choice of AttrOrOID (RFC 7030,
// Section 4.5.2).
type csrAttribute struct {
	Type   asn1.ObjectIdentifier
	Values []asn1.RawValue `asn1:"set"`
}

// ParseCSRAttributes parses the DER CsrAttrs of RFC 7030, Section 4.5.2, a
// SEQUENCE OF AttrOrOID. It understands the id-ecPublicKey and rsaEncryption
// OIDs and attributes (key type, curve and RSA key size), ECDSA and RSA
// signature algorithm identifiers, the extensionRequest attribute and
// requests for the subject serialNumber and commonName, and lists everything
// else in Unsupported. Malformed DER, an attribute
// without values and a repeated extension are errors wrapping
// ErrCSRAttributes.
func ParseCSRAttributes(der []byte) (*CSRAttributes, error) {
	var items []asn1.RawValue
	rest, err := asn1.Unmarshal(der, &items)
	if err != nil {
		return nil, fmt.Errorf("%w: CsrAttrs: %w", ErrCSRAttributes, err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after CsrAttrs", ErrCSRAttributes, len(rest))
	}
	a := &CSRAttributes{}
	for i, item := range items {
		if err := a.addItem(item); err != nil {
			return nil, fmt.Errorf("%w: item %d: %w", ErrCSRAttributes, i, err)
		}
	}
	return a, nil
}

// addItem adds one AttrOrOID.
func (a *CSRAttributes) addItem(item asn1.RawValue) error {
	if item.Class != asn1.ClassUniversal {
		return fmt.Errorf("unexpected tag class %d", item.Class)
	}
	switch item.Tag {
	case asn1.TagOID:
		var oid asn1.ObjectIdentifier
		if err := unmarshalAll(item.FullBytes, &oid); err != nil {
			return err
		}
		a.addOID(oid)
		return nil
	case asn1.TagSequence:
		var attr csrAttribute
		if err := unmarshalAll(item.FullBytes, &attr); err != nil {
			return err
		}
		if len(attr.Values) == 0 {
			return fmt.Errorf("attribute %v has no values", attr.Type)
		}
		return a.addAttribute(attr)
	}
	return fmt.Errorf("tag %d is neither OBJECT IDENTIFIER nor SEQUENCE", item.Tag)
}

// addOID handles an OID without values: a signature algorithm, the key type,
// or a request for a value the pledge does not have.
func (a *CSRAttributes) addOID(oid asn1.ObjectIdentifier) {
	for _, sa := range signatureAlgorithms {
		if oid.Equal(sa.oid) {
			a.SignatureAlgorithm = sa.alg
			return
		}
	}
	switch {
	case oid.Equal(oidECPublicKey):
		a.KeyAlgorithm = x509.ECDSA
		return
	case oid.Equal(oidRSAEncryption):
		a.KeyAlgorithm = x509.RSA
		return
	case oid.Equal(oidAttrSerialNumber) || oid.Equal(oidAttrCommonName):
		// The pledge always sets the subject serialNumber and commonName.
		return
	}
	a.Unsupported = append(a.Unsupported, oid)
}

func (a *CSRAttributes) addAttribute(attr csrAttribute) error {
	switch {
	case attr.Type.Equal(oidECPublicKey):
		a.KeyAlgorithm = x509.ECDSA
		for _, v := range attr.Values {
			if err := a.addCurve(v); err != nil {
				return err
			}
		}
	case attr.Type.Equal(oidRSAEncryption):
		a.KeyAlgorithm = x509.RSA
		for _, v := range attr.Values {
			if err := a.addRSABits(v); err != nil {
				return err
			}
		}
	case attr.Type.Equal(oidExtensionRequest):
		for _, v := range attr.Values {
			if err := a.addExtensionRequest(v); err != nil {
				return err
			}
		}
	default:
		a.Unsupported = append(a.Unsupported, attr.Type)
	}
	return nil
}

// addCurve handles one value of an id-ecPublicKey attribute, the OID of a
// named curve. An unknown curve is listed in Unsupported.
func (a *CSRAttributes) addCurve(v asn1.RawValue) error {
	var oid asn1.ObjectIdentifier
	if err := unmarshalAll(v.FullBytes, &oid); err != nil {
		return fmt.Errorf("id-ecPublicKey value: %w", err)
	}
	for _, c := range curves {
		if oid.Equal(c.oid) {
			a.Curve = c.curve
			return nil
		}
	}
	a.Unsupported = append(a.Unsupported, oid)
	return nil
}

// Bounds of a requested RSA key size. The upper one bounds the time that a
// registrar can make the pledge spend on key generation, which grows
// steeply with the size.
const (
	minRSABits = 2048
	maxRSABits = 4096
)

// addRSABits handles one value of an rsaEncryption attribute, the key size
// in bits as an INTEGER. A size out of bounds lists rsaEncryption in
// Unsupported.
func (a *CSRAttributes) addRSABits(v asn1.RawValue) error {
	var bits int
	if err := unmarshalAll(v.FullBytes, &bits); err != nil {
		return fmt.Errorf("rsaEncryption value: %w", err)
	}
	if bits < minRSABits || bits > maxRSABits {
		a.Unsupported = append(a.Unsupported, oidRSAEncryption)
		return nil
	}
	a.RSABits = bits
	return nil
}

// addExtensionRequest handles one value of an extensionRequest attribute.
// RFC 7030, Section 4.5.2 shows a bare OID there, which names an extension
// the pledge cannot fill in. The Extensions form carries the values to copy.
func (a *CSRAttributes) addExtensionRequest(v asn1.RawValue) error {
	if v.Class == asn1.ClassUniversal && v.Tag == asn1.TagOID {
		var oid asn1.ObjectIdentifier
		if err := unmarshalAll(v.FullBytes, &oid); err != nil {
			return fmt.Errorf("extensionRequest value: %w", err)
		}
		a.Unsupported = append(a.Unsupported, oid)
		return nil
	}
	var exts []pkix.Extension
	if err := unmarshalAll(v.FullBytes, &exts); err != nil {
		return fmt.Errorf("extensionRequest value: %w", err)
	}
	for _, e := range exts {
		for _, prev := range a.Extensions {
			if prev.Id.Equal(e.Id) {
				return fmt.Errorf("extension %v is requested twice", e.Id)
			}
		}
		a.Extensions = append(a.Extensions, e)
	}
	return nil
}

// KeyType returns the type of the LDevID key that a requests: its
// KeyAlgorithm, else the key type of its SignatureAlgorithm, else x509.ECDSA.
func (a *CSRAttributes) KeyType() x509.PublicKeyAlgorithm {
	if a.KeyAlgorithm != x509.UnknownPublicKeyAlgorithm {
		return a.KeyAlgorithm
	}
	if k := signatureKeyType(a.SignatureAlgorithm); k != x509.UnknownPublicKeyAlgorithm {
		return k
	}
	return x509.ECDSA
}

// signatureKeyType returns the key type that alg signs with, or
// x509.UnknownPublicKeyAlgorithm for an algorithm of no known entry.
func signatureKeyType(alg x509.SignatureAlgorithm) x509.PublicKeyAlgorithm {
	for _, sa := range signatureAlgorithms {
		if sa.alg == alg {
			return sa.key
		}
	}
	return x509.UnknownPublicKeyAlgorithm
}

// unmarshalAll parses der into v and rejects trailing bytes.
func unmarshalAll(der []byte, v any) error {
	rest, err := asn1.Unmarshal(der, v)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("%d bytes after the element", len(rest))
	}
	return nil
}
