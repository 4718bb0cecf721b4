package pledge

import (
	"crypto"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
)

// ErrTLSVersion reports a TLS version that the pledge's certificate cannot
// authenticate with.
var ErrTLSVersion = errors.New("pledge: TLS version not usable with the certificate")

// pssSchemes are the RSA-PSS signature schemes, the only ones with which
// an RSA key may sign a TLS 1.3 CertificateVerify.
var pssSchemes = []tls.SignatureScheme{tls.PSSWithSHA256, tls.PSSWithSHA384,
	tls.PSSWithSHA512}

// maxTLSVersion returns the highest TLS version in which cert can sign the
// handshake: tls.VersionTLS12 for an RSA key that its
// SupportedSignatureAlgorithms limit to PKCS #1 v1.5, as keys in a TPM 1.2
// are, and tls.VersionTLS13 otherwise. Without the limit, crypto/tls sends
// no client certificate in TLS 1.3, and the registrar rejects the pledge.
func maxTLSVersion(cert tls.Certificate) uint16 {
	if len(cert.SupportedSignatureAlgorithms) == 0 || !hasRSAKey(cert) {
		return tls.VersionTLS13
	}
	for _, s := range cert.SupportedSignatureAlgorithms {
		if slices.Contains(pssSchemes, s) {
			return tls.VersionTLS13
		}
	}
	return tls.VersionTLS12
}

func hasRSAKey(cert tls.Certificate) bool {
	if signer, ok := cert.PrivateKey.(crypto.Signer); ok {
		_, isRSA := signer.Public().(*rsa.PublicKey)
		return isRSA
	}
	if cert.Leaf != nil {
		return cert.Leaf.PublicKeyAlgorithm == x509.RSA
	}
	return false
}

// limitTLSVersion sets tc.MaxVersion to the highest version that cert can
// use, and to want when want is not zero. A want above that version gets
// an error wrapping ErrTLSVersion.
func limitTLSVersion(tc *tls.Config, cert tls.Certificate, want uint16) error {
	limit := maxTLSVersion(cert)
	if want > limit {
		return fmt.Errorf("%w: the RSA key of %q signs only with PKCS #1 v1.5, but %s "+
			"needs RSA-PSS; use TLS 1.2 or add RSA-PSS to SupportedSignatureAlgorithms",
			ErrTLSVersion, subjectOf(cert), tls.VersionName(want))
	}
	if want != 0 {
		tc.MinVersion, tc.MaxVersion = want, want
		return nil
	}
	if limit < tls.VersionTLS13 {
		tc.MaxVersion = limit
	}
	return nil
}

// subjectOf returns the subject of cert's leaf, or "" when it has none.
func subjectOf(cert tls.Certificate) string {
	if cert.Leaf != nil {
		return cert.Leaf.Subject.String()
	}
	if len(cert.Certificate) > 0 {
		if leaf, err := x509.ParseCertificate(cert.Certificate[0]); err == nil {
			return leaf.Subject.String()
		}
	}
	return ""
}
