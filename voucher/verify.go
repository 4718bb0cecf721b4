package voucher

import (
	"bytes"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"
)

// Errors of Verify. A chain failure wraps both ErrChain and the error of
// crypto/x509, so errors.As finds an x509.CertificateInvalidError whose
// Reason is x509.Expired when a certificate has expired.
var (
	// ErrSignature means the signature, the message-digest attribute or
	// the content-type attribute does not match the content.
	ErrSignature = errors.New("voucher: invalid signature")
	// ErrSignerNotFound means no carried certificate matches the
	// SignerInfo and VerifyOptions.Signer is nil.
	ErrSignerNotFound = errors.New("voucher: signer certificate not found")
	// ErrChain means the signer certificate does not chain to
	// VerifyOptions.Roots at the verification time.
	ErrChain = errors.New("voucher: signer certificate not trusted")
	// ErrUnsupportedAlgorithm means the digest or signature algorithm is
	// not one of SHA-256, SHA-384 or SHA-512 with ECDSA, RSA PKCS #1 v1.5 or
	// Ed25519, or that the signer has an RSA key shorter than MinRSABits.
	ErrUnsupportedAlgorithm = errors.New("voucher: unsupported algorithm")
)

// VerifyOptions configures SignedObject.Verify.
type VerifyOptions struct {
	// Roots are the trust anchors, such as the manufacturer CA for a
	// voucher. It must not be nil: the system roots never sign vouchers.
	Roots *x509.CertPool
	// Intermediates are added to the certificates carried in the CMS.
	Intermediates *x509.CertPool
	// CurrentTime is the time at which the chain must be valid; zero means
	// time.Now(). The signingTime attribute is never used.
	CurrentTime time.Time
	// Signer is the signer certificate to use when the CMS carries no
	// certificate that matches the SignerInfo. It need not match the
	// SignerInfo identifier, because its key must still verify the
	// signature and it must still chain to Roots.
	Signer *x509.Certificate
	// KeyUsages are the extended key usages the signer must have; nil
	// means x509.ExtKeyUsageAny.
	KeyUsages []x509.ExtKeyUsage
	// VerifyChain, when set, checks the signer's chain in place of
	// signer.Verify, for example with a cache of chains that verified
	// before. It receives the x509 options that Verify built from these
	// options and the carried certificates.
	VerifyChain func(signer *x509.Certificate, opts x509.VerifyOptions) (
		[][]*x509.Certificate, error)
}

// Verified is the result of a successful Verify.
type Verified struct {
	// Signer is the certificate whose key verified the signature.
	Signer *x509.Certificate
	// Chains are the chains from Signer to a root, as x509 returns them.
	Chains [][]*x509.Certificate
}

// Verify checks the signature of s (RFC 5652, Section 5.6) and the chain of
// its signer to opts.Roots at opts.CurrentTime. With signed attributes it
// requires content-type to equal the eContentType and message-digest to
// equal the digest of the content. Errors wrap ErrSignerNotFound,
// ErrSignature, ErrUnsupportedAlgorithm or ErrChain.
func (s *SignedObject) Verify(opts VerifyOptions) (*Verified, error) {
	if opts.Roots == nil {
		return nil, errors.New("voucher: VerifyOptions.Roots is nil; pass the CA " +
			"certificates trusted to sign this object")
	}
	signer, err := s.findSigner(opts.Signer)
	if err != nil {
		return nil, err
	}
	if err := s.checkSignature(signer); err != nil {
		return nil, err
	}
	chains, err := verifyChain(signer, s.Certificates, opts)
	if err != nil {
		return nil, err
	}
	return &Verified{Signer: signer, Chains: chains}, nil
}

// SignerCertificate returns the carried certificate that the SignerInfo
// names, for display. It verifies nothing, and returns an error wrapping
// ErrSignerNotFound when the object does not carry that certificate.
func (s *SignedObject) SignerCertificate() (*x509.Certificate, error) {
	return s.findSigner(nil)
}

// findSigner returns the carried certificate that the SignerIdentifier
// names (RFC 5652, Section 5.3), in any position, or else fallback.
func (s *SignedObject) findSigner(fallback *x509.Certificate) (*x509.Certificate, error) {
	match, desc, err := s.signerMatcher()
	if err != nil {
		return nil, err
	}
	for _, c := range s.Certificates {
		if match(c) {
			return c, nil
		}
	}
	if fallback != nil {
		return fallback, nil
	}
	return nil, fmt.Errorf("%w: no carried certificate matches %s; pass "+
		"VerifyOptions.Signer", ErrSignerNotFound, desc)
}

// signerMatcher returns a test for the certificate that the SignerInfo's
// sid names, and a description of sid for errors.
func (s *SignedObject) signerMatcher() (func(*x509.Certificate) bool, string, error) {
	sid := s.signer.SID
	switch {
	case sid.Class == asn1.ClassUniversal && sid.Tag == asn1.TagSequence:
		var ias issuerAndSerialNumber
		if err := unmarshalAll(sid.FullBytes, &ias); err != nil {
			return nil, "", fmt.Errorf("%w: issuerAndSerialNumber: %w", ErrMalformed, err)
		}
		issuer, err := parseName(ias.Issuer.FullBytes)
		if err != nil {
			return nil, "", fmt.Errorf("%w: issuerAndSerialNumber issuer: %w", ErrMalformed, err)
		}
		match := func(c *x509.Certificate) bool {
			if c.SerialNumber.Cmp(ias.SerialNumber) != 0 {
				return false
			}
			// Some encoders re-encode names with other string types,
			// so an equal parsed name also matches.
			return bytes.Equal(c.RawIssuer, ias.Issuer.FullBytes) ||
				c.Issuer.String() == issuer.String()
		}
		return match, fmt.Sprintf("issuer %q serial %v", issuer, ias.SerialNumber), nil
	case sid.Class == asn1.ClassContextSpecific && sid.Tag == 0 && !sid.IsCompound:
		ski := sid.Bytes
		match := func(c *x509.Certificate) bool {
			if len(c.SubjectKeyId) > 0 {
				return bytes.Equal(c.SubjectKeyId, ski)
			}
			return bytes.Equal(keyIdentifier(c), ski)
		}
		return match, fmt.Sprintf("subjectKeyIdentifier %x", ski), nil
	}
	return nil, "", fmt.Errorf("%w: SignerIdentifier has tag %d class %d", ErrMalformed,
		sid.Tag, sid.Class)
}

func parseName(der []byte) (pkix.Name, error) {
	var rdn pkix.RDNSequence
	if err := unmarshalAll(der, &rdn); err != nil {
		return pkix.Name{}, err
	}
	var name pkix.Name
	name.FillFromRDNSequence(&rdn)
	return name, nil
}

// keyIdentifier returns the SHA-1 of the subjectPublicKey BIT STRING, the
// first method of RFC 5280, Section 4.2.1.2, for certificates without a
// subject key identifier extension.
func keyIdentifier(c *x509.Certificate) []byte {
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(c.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil
	}
	sum := sha1.Sum(spki.PublicKey.Bytes)
	return sum[:]
}

// checkSignature verifies the signature with the key of cert. With signed
// attributes, the signature covers their DER encoding with the SET OF tag
// in place of the [0] IMPLICIT tag (RFC 5652, Section 5.4).
func (s *SignedObject) checkSignature(cert *x509.Certificate) error {
	si := s.signer
	alg, err := signatureAlgorithm(si.DigestAlgorithm.Algorithm, si.SignatureAlgorithm.Algorithm)
	if err != nil {
		return err
	}
	if err := checkRSASize(cert.PublicKey, fmt.Sprintf("signer %q", cert.Subject)); err != nil {
		return err
	}
	signed := s.Content
	if s.attrs != nil {
		if err := s.checkAttributes(); err != nil {
			return err
		}
		signed = append([]byte{0x31}, si.SignedAttrs.FullBytes[1:]...)
	}
	if err := cert.CheckSignature(alg, signed, si.Signature); err != nil {
		return fmt.Errorf("%w: signer %q: %w", ErrSignature, cert.Subject, err)
	}
	return nil
}

// checkAttributes checks the content-type and message-digest attributes,
// which RFC 5652, Section 5.3 requires whenever signed attributes are present.
func (s *SignedObject) checkAttributes() error {
	value, ok, err := s.attribute(oidAttrContentType)
	if err != nil {
		return err
	}
	var ct asn1.ObjectIdentifier
	if !ok {
		return fmt.Errorf("%w: signed attributes lack content-type", ErrSignature)
	}
	if err := unmarshalAll(value, &ct); err != nil || !ct.Equal(s.ContentType) {
		return fmt.Errorf("%w: content-type attribute does not equal eContentType %v",
			ErrSignature, s.ContentType)
	}

	value, ok, err = s.attribute(oidAttrMessageDigest)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: signed attributes lack message-digest", ErrSignature)
	}
	var digest []byte
	if err := unmarshalAll(value, &digest); err != nil {
		return fmt.Errorf("%w: message-digest: %w", ErrMalformed, err)
	}

	hash, err := digestHash(s.signer.DigestAlgorithm.Algorithm)
	if err != nil {
		return err
	}
	h := hash.New()
	h.Write(s.Content)
	if !bytes.Equal(h.Sum(nil), digest) {
		return fmt.Errorf("%w: message-digest does not match the content", ErrSignature)
	}
	return nil
}

func verifyChain(signer *x509.Certificate, carried []*x509.Certificate,
	opts VerifyOptions) ([][]*x509.Certificate, error) {
	intermediates := x509.NewCertPool()
	if opts.Intermediates != nil {
		intermediates = opts.Intermediates.Clone()
	}
	for _, c := range carried {
		intermediates.AddCert(c)
	}
	at := opts.CurrentTime
	if at.IsZero() {
		at = time.Now()
	}
	usages := opts.KeyUsages
	if usages == nil {
		usages = []x509.ExtKeyUsage{x509.ExtKeyUsageAny}
	}
	x509Opts := x509.VerifyOptions{
		Roots:         opts.Roots,
		Intermediates: intermediates,
		CurrentTime:   at,
		KeyUsages:     usages,
	}
	verify := opts.VerifyChain
	if verify == nil {
		verify = (*x509.Certificate).Verify
	}
	chains, err := verify(signer, x509Opts)
	if err != nil {
		return nil, fmt.Errorf("%w: signer %q at %s: %w", ErrChain, signer.Subject,
			at.UTC().Format(time.RFC3339), err)
	}
	return chains, nil
}
