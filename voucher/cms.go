package voucher

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"
)

// MediaType is the media type of a CMS-signed JSON voucher (RFC 8366,
// Section 8.3), which RFC 8995, Section 5.5 also uses for voucher requests.
const MediaType = "application/voucher-cms+json"

// OIDAnimaJSONVoucher is id-ct-animaJSONVoucher, the eContentType of a
// signed voucher (RFC 8366, Section 5.4).
var OIDAnimaJSONVoucher = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 40}

// Object identifiers of RFC 5652 and the algorithms that vouchers use.
var (
	oidData              = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidAttrContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidAttrMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidAttrSigningTime   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
)

// ErrContentType means the CMS object is not SignedData, or its
// eContentType is neither id-data nor id-ct-animaJSONVoucher.
var ErrContentType = errors.New("voucher: unexpected CMS content type")

// contentInfo is ContentInfo (RFC 5652, Section 3). encoding/asn1 does not
// unwrap an EXPLICIT tag into a RawValue, so Content is the [0] element and
// Content.Bytes the SignedData.
type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"explicit,tag:0"`
}

// signedData is SignedData (RFC 5652, Section 5.1). In a parsed value,
// Certificates and CRLs are the [0] and [1] elements themselves.
type signedData struct {
	Version          int
	DigestAlgorithms []pkix.AlgorithmIdentifier `asn1:"set"`
	EncapContentInfo encapContentInfo
	Certificates     asn1.RawValue `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue `asn1:"optional,tag:1"`
	SignerInfos      []signerInfo  `asn1:"set"`
}

// encapContentInfo is EncapsulatedContentInfo (RFC 5652, Section 5.2).
// EContent is the [0] EXPLICIT element, and EContent.Bytes the OCTET STRING.
type encapContentInfo struct {
	EContentType asn1.ObjectIdentifier
	EContent     asn1.RawValue `asn1:"optional,explicit,tag:0"`
}

// signerInfo is SignerInfo (RFC 5652, Section 5.3). SID is either an
// issuerAndSerialNumber SEQUENCE or a [0] subjectKeyIdentifier.
type signerInfo struct {
	Version            int
	SID                asn1.RawValue
	DigestAlgorithm    pkix.AlgorithmIdentifier
	SignedAttrs        asn1.RawValue `asn1:"optional,tag:0"`
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          []byte
	UnsignedAttrs      asn1.RawValue `asn1:"optional,tag:1"`
}

type issuerAndSerialNumber struct {
	Issuer       asn1.RawValue
	SerialNumber *big.Int
}

type attribute struct {
	Type   asn1.ObjectIdentifier
	Values asn1.RawValue `asn1:"set"`
}

// SignedObject is a parsed CMS SignedData that carries a voucher or voucher
// request (RFC 8366, Section 5.4).
type SignedObject struct {
	// ContentType is the eContentType: id-data or OIDAnimaJSONVoucher.
	ContentType asn1.ObjectIdentifier
	// Content is the eContent, the JSON voucher or voucher request.
	Content []byte
	// Certificates are the certificates the object carries, in order.
	Certificates []*x509.Certificate
	// SigningTime is the signingTime attribute; zero when absent. It is
	// informational only, and Verify never uses it.
	SigningTime time.Time

	signer signerInfo
	attrs  []attribute // the signed attributes, nil without them
}

// ParseSigned parses a CMS ContentInfo holding SignedData (RFC 5652,
// Section 5) in DER or BER, indefinite lengths included. It requires
// encapsulated content of type id-data or id-ct-animaJSONVoucher and
// exactly one SignerInfo. It checks structure only; call Verify to check
// the signature. Errors wrap ErrMalformed or ErrContentType. The result may
// share memory with DER input, such as the raw bytes of its certificates,
// so data must not change while the result is in use.
func ParseSigned(data []byte) (*SignedObject, error) {
	return ParseSignedWith(data, nil)
}

// ParseSignedWith is ParseSigned, but a certificate of the CMS whose DER
// equals that of a certificate in known is not parsed again: the result's
// Certificates then contain that element of known. A server passes the
// certificates that it parsed already, such as the TLS client chain that
// also signs the voucher request.
func ParseSignedWith(data []byte, known []*x509.Certificate) (*SignedObject, error) {
	der, err := berToDER(data)
	if err != nil {
		return nil, err
	}
	var ci contentInfo
	if err := unmarshalAll(der, &ci); err != nil {
		return nil, fmt.Errorf("%w: ContentInfo: %w", ErrMalformed, err)
	}
	if !ci.ContentType.Equal(oidSignedData) {
		return nil, fmt.Errorf("%w: ContentInfo type %v, want signedData %v",
			ErrContentType, ci.ContentType, oidSignedData)
	}
	var sd signedData
	if err := unmarshalAll(ci.Content.Bytes, &sd); err != nil {
		return nil, fmt.Errorf("%w: SignedData: %w", ErrMalformed, err)
	}
	return newSignedObject(&sd, known)
}

func newSignedObject(sd *signedData, known []*x509.Certificate) (*SignedObject, error) {
	eci := sd.EncapContentInfo
	if !eci.EContentType.Equal(oidData) && !eci.EContentType.Equal(OIDAnimaJSONVoucher) {
		return nil, fmt.Errorf("%w: eContentType %v, want id-data or "+
			"id-ct-animaJSONVoucher", ErrContentType, eci.EContentType)
	}
	if len(eci.EContent.FullBytes) == 0 {
		return nil, fmt.Errorf("%w: no encapsulated content; detached "+
			"signatures are not supported", ErrMalformed)
	}
	var content []byte
	if err := unmarshalAll(eci.EContent.Bytes, &content); err != nil {
		return nil, fmt.Errorf("%w: eContent is not one OCTET STRING: %w", ErrMalformed, err)
	}

	// NOTE: RFC 8366 vouchers have one signer, so a second SignerInfo is
	// rejected rather than leaving callers to guess which one counts.
	if len(sd.SignerInfos) != 1 {
		return nil, fmt.Errorf("%w: %d SignerInfos, want exactly 1", ErrMalformed,
			len(sd.SignerInfos))
	}

	obj := &SignedObject{
		ContentType: eci.EContentType,
		Content:     content,
		signer:      sd.SignerInfos[0],
	}
	certs, err := parseCertificates(sd.Certificates, known)
	if err != nil {
		return nil, err
	}
	obj.Certificates = certs
	if _, _, err := obj.signerMatcher(); err != nil {
		return nil, err
	}
	if err := obj.parseAttributes(); err != nil {
		return nil, err
	}
	return obj, nil
}

// parseCertificates parses the CertificateSet (RFC 5652, Section 10.2.3),
// taking a certificate with the same DER from known in place of parsing
// it. Choices other than a plain certificate, such as attribute
// certificates, are skipped.
func parseCertificates(set asn1.RawValue, known []*x509.Certificate) ([]*x509.Certificate,
	error) {
	var certs []*x509.Certificate
	rest := set.Bytes
	for len(rest) > 0 {
		var elem asn1.RawValue
		var err error
		rest, err = asn1.Unmarshal(rest, &elem)
		if err != nil {
			return nil, fmt.Errorf("%w: certificates: %w", ErrMalformed, err)
		}
		if elem.Class != asn1.ClassUniversal || elem.Tag != asn1.TagSequence {
			continue
		}
		if i := slices.IndexFunc(known, func(c *x509.Certificate) bool {
			return bytes.Equal(c.Raw, elem.FullBytes)
		}); i >= 0 {
			certs = append(certs, known[i])
			continue
		}
		cert, err := x509.ParseCertificate(elem.FullBytes)
		if err != nil {
			return nil, fmt.Errorf("%w: certificate %d: %w", ErrMalformed, len(certs), err)
		}
		certs = append(certs, cert)
	}
	return certs, nil
}

// parseAttributes parses the signed attributes and the signingTime among
// them. Each attribute type may appear once and, for the three that
// RFC 5652, Section 11 defines, with exactly one value.
func (s *SignedObject) parseAttributes() error {
	raw := s.signer.SignedAttrs
	if len(raw.FullBytes) == 0 {
		return nil
	}
	rest := raw.Bytes
	s.attrs = []attribute{}
	for len(rest) > 0 {
		var a attribute
		var err error
		if rest, err = asn1.Unmarshal(rest, &a); err != nil {
			return fmt.Errorf("%w: signed attribute: %w", ErrMalformed, err)
		}
		if a.Values.Class != asn1.ClassUniversal || a.Values.Tag != asn1.TagSet {
			return fmt.Errorf("%w: signed attribute %v: values are not a SET",
				ErrMalformed, a.Type)
		}
		for _, prev := range s.attrs {
			if prev.Type.Equal(a.Type) {
				return fmt.Errorf("%w: signed attribute %v appears twice", ErrMalformed, a.Type)
			}
		}
		s.attrs = append(s.attrs, a)
	}
	value, ok, err := s.attribute(oidAttrSigningTime)
	if err != nil || !ok {
		return err
	}
	if _, err := asn1.Unmarshal(value, &s.SigningTime); err != nil {
		return fmt.Errorf("%w: signingTime: %w", ErrMalformed, err)
	}
	return nil
}

// attribute returns the single value of the signed attribute typ.
func (s *SignedObject) attribute(typ asn1.ObjectIdentifier) ([]byte, bool, error) {
	for _, a := range s.attrs {
		if !a.Type.Equal(typ) {
			continue
		}
		var value asn1.RawValue
		rest, err := asn1.Unmarshal(a.Values.Bytes, &value)
		if err != nil || len(rest) != 0 {
			return nil, false, fmt.Errorf("%w: attribute %v must have exactly one value",
				ErrMalformed, typ)
		}
		return value.FullBytes, true, nil
	}
	return nil, false, nil
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
