package voucher

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"sort"
	"time"
)

// SignOptions configures Sign. A nil *SignOptions means the defaults.
type SignOptions struct {
	// Hash is the digest; zero means SHA-256 for P-256 and RSA keys,
	// SHA-384 for P-384 and SHA-512 for P-521.
	Hash crypto.Hash
	// Certificates are extra certificates to carry, such as the chain.
	// The signer's own certificate is always included first unless
	// OmitSigner is set.
	Certificates []*x509.Certificate
	// OmitSigner leaves the signer's certificate out of the CMS.
	OmitSigner bool
	// SubjectKeyIdentifier names the signer by subject key identifier
	// instead of issuer and serial number (RFC 5652, Section 5.3).
	SubjectKeyIdentifier bool
	// SigningTime is the signingTime attribute; zero means time.Now().
	SigningTime time.Time
	// ContentType is the eContentType; nil means OIDAnimaJSONVoucher.
	ContentType asn1.ObjectIdentifier
}

// Sign wraps content in CMS SignedData (eContentType id-ct-animaJSONVoucher), DER.
// The SignerInfo carries the content-type, message-digest and signingTime
// attributes (RFC 8366, Section 5.4; RFC 5652, Section 11). The key must be
// ECDSA (P-256, P-384 or P-521) or RSA of at least MinRSABits and match
// signer's public key.
func Sign(content []byte, signer *x509.Certificate, key crypto.Signer,
	opts *SignOptions) ([]byte, error) {
	if opts == nil {
		opts = &SignOptions{}
	}
	if signer == nil || key == nil {
		return nil, errors.New("voucher: Sign needs a signer certificate and its key")
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(signer.PublicKey) {
		return nil, fmt.Errorf("voucher: key does not match the public key of signer %q",
			signer.Subject)
	}
	if err := checkRSASize(key.Public(), fmt.Sprintf("signer %q", signer.Subject)); err != nil {
		return nil, err
	}
	hash, sigAlg, err := signingAlgorithms(key.Public(), opts.Hash)
	if err != nil {
		return nil, err
	}
	contentType := opts.ContentType
	if contentType == nil {
		contentType = OIDAnimaJSONVoucher
	}
	si, err := newSignerInfo(signer, opts.SubjectKeyIdentifier)
	if err != nil {
		return nil, err
	}
	if err := si.sign(key, hash, sigAlg, contentType, content, opts.SigningTime); err != nil {
		return nil, err
	}
	return encodeSignedData(contentType, content, si, carriedCertificates(signer, opts))
}

// signingAlgorithms picks the digest and the signature algorithm for pub.
func signingAlgorithms(pub crypto.PublicKey, h crypto.Hash) (crypto.Hash,
	x509.SignatureAlgorithm, error) {
	var keyType asn1.ObjectIdentifier
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		keyType = oidECPublicKey
		if h != 0 {
			break
		}
		switch k.Curve {
		case elliptic.P256():
			h = crypto.SHA256
		case elliptic.P384():
			h = crypto.SHA384
		case elliptic.P521():
			h = crypto.SHA512
		default:
			return 0, 0, fmt.Errorf("%w: ECDSA curve %s", ErrUnsupportedAlgorithm,
				k.Curve.Params().Name)
		}
	case *rsa.PublicKey:
		keyType = oidRSAEncryption
		if h == 0 {
			h = crypto.SHA256
		}
	default:
		return 0, 0, fmt.Errorf("%w: key type %T; use ECDSA or RSA",
			ErrUnsupportedAlgorithm, pub)
	}
	for _, k := range keyTypeAlgorithms {
		if k.key.Equal(keyType) && k.hash == h {
			return h, k.alg, nil
		}
	}
	return 0, 0, fmt.Errorf("%w: hash %v; use SHA-256, SHA-384 or SHA-512",
		ErrUnsupportedAlgorithm, h)
}

// newSignerInfo returns a SignerInfo whose sid names signer. The version is
// 1 for issuerAndSerialNumber and 3 for subjectKeyIdentifier (RFC 5652,
// Section 5.3).
func newSignerInfo(signer *x509.Certificate, bySKI bool) (*signerInfo, error) {
	if bySKI {
		ski := signer.SubjectKeyId
		if len(ski) == 0 {
			ski = keyIdentifier(signer)
		}
		return &signerInfo{Version: 3, SID: asn1.RawValue{
			Class: asn1.ClassContextSpecific, Tag: 0, Bytes: ski}}, nil
	}
	sid, err := asn1.Marshal(issuerAndSerialNumber{
		Issuer:       asn1.RawValue{FullBytes: signer.RawIssuer},
		SerialNumber: signer.SerialNumber,
	})
	if err != nil {
		return nil, fmt.Errorf("voucher: encode issuerAndSerialNumber: %w", err)
	}
	return &signerInfo{Version: 1, SID: asn1.RawValue{FullBytes: sid}}, nil
}

// sign fills in the algorithms, the signed attributes and the signature.
func (si *signerInfo) sign(key crypto.Signer, hash crypto.Hash,
	alg x509.SignatureAlgorithm, contentType asn1.ObjectIdentifier, content []byte,
	signingTime time.Time) error {
	digestAlg, err := digestOID(hash)
	if err != nil {
		return err
	}
	sigOID, err := signatureOID(alg)
	if err != nil {
		return err
	}
	si.DigestAlgorithm = pkix.AlgorithmIdentifier{Algorithm: digestAlg}
	si.SignatureAlgorithm = pkix.AlgorithmIdentifier{Algorithm: sigOID}
	if _, isRSA := key.Public().(*rsa.PublicKey); isRSA {
		si.SignatureAlgorithm.Parameters = asn1.NullRawValue // RFC 4055, Section 5
	}
	if signingTime.IsZero() {
		signingTime = time.Now()
	}
	h := hash.New()
	h.Write(content)
	attrs, err := encodeAttributes(contentType, h.Sum(nil), signingTime)
	if err != nil {
		return err
	}
	// The signature covers the attributes with the SET OF tag, while the
	// SignerInfo carries them as [0] IMPLICIT (RFC 5652, Section 5.4).
	si.SignedAttrs = asn1.RawValue{FullBytes: append([]byte{0xa0}, attrs[1:]...)}
	h = hash.New()
	h.Write(attrs)
	si.Signature, err = key.Sign(rand.Reader, h.Sum(nil), hash)
	if err != nil {
		return fmt.Errorf("voucher: signing failed: %w", err)
	}
	return nil
}

// encodeAttributes returns the DER SET OF the content-type, message-digest
// and signingTime attributes, sorted as DER requires for SET OF.
func encodeAttributes(contentType asn1.ObjectIdentifier, digest []byte,
	signingTime time.Time) ([]byte, error) {
	values := []struct {
		typ   asn1.ObjectIdentifier
		value any
	}{
		{oidAttrContentType, contentType},
		{oidAttrMessageDigest, digest},
		{oidAttrSigningTime, signingTime.UTC()},
	}
	var encoded [][]byte
	for _, v := range values {
		value, err := asn1.Marshal(v.value)
		if err != nil {
			return nil, fmt.Errorf("voucher: encode attribute %v: %w", v.typ, err)
		}
		attr, err := asn1.Marshal(attribute{Type: v.typ, Values: asn1.RawValue{
			Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: value}})
		if err != nil {
			return nil, fmt.Errorf("voucher: encode attribute %v: %w", v.typ, err)
		}
		encoded = append(encoded, attr)
	}
	sort.Slice(encoded, func(i, j int) bool { return bytes.Compare(encoded[i], encoded[j]) < 0 })
	return encodeElement([]byte{0x31}, bytes.Join(encoded, nil)), nil
}

// carriedCertificates returns the signer (unless omitted) followed by the
// extra certificates, without repeating the signer.
func carriedCertificates(signer *x509.Certificate, opts *SignOptions) []*x509.Certificate {
	var certs []*x509.Certificate
	if !opts.OmitSigner {
		certs = append(certs, signer)
	}
	for _, c := range opts.Certificates {
		if c != nil && (opts.OmitSigner || !c.Equal(signer)) {
			certs = append(certs, c)
		}
	}
	return certs
}

// encodeSignedData returns the DER ContentInfo for one SignerInfo.
func encodeSignedData(contentType asn1.ObjectIdentifier, content []byte, si *signerInfo,
	certs []*x509.Certificate) ([]byte, error) {
	octets, err := asn1.Marshal(content)
	if err != nil {
		return nil, fmt.Errorf("voucher: encode eContent: %w", err)
	}
	// Version 3 whenever eContentType is not id-data or a sid is a
	// subjectKeyIdentifier, else 1 (RFC 5652, Section 5.1).
	version := 1
	if !contentType.Equal(oidData) || si.Version == 3 {
		version = 3
	}
	sd := signedData{
		Version:          version,
		DigestAlgorithms: []pkix.AlgorithmIdentifier{si.DigestAlgorithm},
		EncapContentInfo: encapContentInfo{
			EContentType: contentType,
			EContent:     asn1.RawValue{FullBytes: encodeElement([]byte{0xa0}, octets)},
		},
		SignerInfos: []signerInfo{*si},
	}
	if len(certs) > 0 {
		var raw []byte
		for _, c := range certs {
			raw = append(raw, c.Raw...)
		}
		sd.Certificates = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0,
			IsCompound: true, Bytes: raw}
	}
	inner, err := asn1.Marshal(sd)
	if err != nil {
		return nil, fmt.Errorf("voucher: encode SignedData: %w", err)
	}
	out, err := asn1.Marshal(contentInfo{
		ContentType: oidSignedData,
		Content:     asn1.RawValue{FullBytes: encodeElement([]byte{0xa0}, inner)},
	})
	if err != nil {
		return nil, fmt.Errorf("voucher: encode ContentInfo: %w", err)
	}
	return out, nil
}
