package voucher

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"fmt"

	// The digests that digestHash returns must be linked in.
	_ "crypto/sha256"
	_ "crypto/sha512"
)

// Algorithm identifiers of RFC 5754 (digests), RFC 5758 (ECDSA), RFC 8017
// (RSA) and RFC 8419 (Ed25519) that CMS signers use.
var (
	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}

	oidECPublicKey     = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSAWithSHA384 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSAWithSHA512 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}

	oidRSAEncryption = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidSHA256WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidSHA384WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidSHA512WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}

	oidEd25519 = asn1.ObjectIdentifier{1, 3, 101, 112}
)

// MinRSABits is the smallest RSA key that Sign signs with and that Verify
// accepts from a signer.
const MinRSABits = 2048

// checkRSASize returns an error wrapping ErrUnsupportedAlgorithm for an RSA
// key shorter than MinRSABits. role names the key in the error.
func checkRSASize(pub crypto.PublicKey, role string) error {
	k, ok := pub.(*rsa.PublicKey)
	if !ok || k.N.BitLen() >= MinRSABits {
		return nil
	}
	return fmt.Errorf("%w: %s has a %d-bit RSA key; use RSA of at least %d bits or "+
		"ECDSA P-256", ErrUnsupportedAlgorithm, role, k.N.BitLen(), MinRSABits)
}

var digestOIDs = []struct {
	oid  asn1.ObjectIdentifier
	hash crypto.Hash
}{
	{oidSHA256, crypto.SHA256},
	{oidSHA384, crypto.SHA384},
	{oidSHA512, crypto.SHA512},
}

// digestHash returns the hash of a digestAlgorithm. SHA-1 and MD5 are not
// accepted.
func digestHash(oid asn1.ObjectIdentifier) (crypto.Hash, error) {
	for _, d := range digestOIDs {
		if d.oid.Equal(oid) {
			return d.hash, nil
		}
	}
	return 0, fmt.Errorf("%w: digest algorithm %v; use SHA-256, SHA-384 or SHA-512",
		ErrUnsupportedAlgorithm, oid)
}

func digestOID(h crypto.Hash) (asn1.ObjectIdentifier, error) {
	for _, d := range digestOIDs {
		if d.hash == h {
			return d.oid, nil
		}
	}
	return nil, fmt.Errorf("%w: hash %v; use SHA-256, SHA-384 or SHA-512",
		ErrUnsupportedAlgorithm, h)
}

var signatureOIDs = []struct {
	oid asn1.ObjectIdentifier
	alg x509.SignatureAlgorithm
}{
	{oidECDSAWithSHA256, x509.ECDSAWithSHA256},
	{oidECDSAWithSHA384, x509.ECDSAWithSHA384},
	{oidECDSAWithSHA512, x509.ECDSAWithSHA512},
	{oidSHA256WithRSA, x509.SHA256WithRSA},
	{oidSHA384WithRSA, x509.SHA384WithRSA},
	{oidSHA512WithRSA, x509.SHA512WithRSA},
	{oidEd25519, x509.PureEd25519},
}

// keyTypeAlgorithms completes a signatureAlgorithm that names only the key
// type with the hash of the digestAlgorithm.
var keyTypeAlgorithms = []struct {
	key  asn1.ObjectIdentifier
	hash crypto.Hash
	alg  x509.SignatureAlgorithm
}{
	{oidECPublicKey, crypto.SHA256, x509.ECDSAWithSHA256},
	{oidECPublicKey, crypto.SHA384, x509.ECDSAWithSHA384},
	{oidECPublicKey, crypto.SHA512, x509.ECDSAWithSHA512},
	{oidRSAEncryption, crypto.SHA256, x509.SHA256WithRSA},
	{oidRSAEncryption, crypto.SHA384, x509.SHA384WithRSA},
	{oidRSAEncryption, crypto.SHA512, x509.SHA512WithRSA},
}

// signatureAlgorithm maps a SignerInfo's digest and signature algorithms to
// the x509 algorithm that checks the signature. Some signers name only the
// key type (id-ecPublicKey, rsaEncryption), and then the digest algorithm
// gives the hash.
func signatureAlgorithm(digest, sig asn1.ObjectIdentifier) (x509.SignatureAlgorithm, error) {
	for _, s := range signatureOIDs {
		if s.oid.Equal(sig) {
			return s.alg, nil
		}
	}
	if !sig.Equal(oidECPublicKey) && !sig.Equal(oidRSAEncryption) {
		return 0, fmt.Errorf("%w: signature algorithm %v", ErrUnsupportedAlgorithm, sig)
	}
	h, err := digestHash(digest)
	if err != nil {
		return 0, err
	}
	for _, k := range keyTypeAlgorithms {
		if k.key.Equal(sig) && k.hash == h {
			return k.alg, nil
		}
	}
	return 0, fmt.Errorf("%w: signature algorithm %v", ErrUnsupportedAlgorithm, sig)
}

// signatureOID returns the signatureAlgorithm identifier for alg.
func signatureOID(alg x509.SignatureAlgorithm) (asn1.ObjectIdentifier, error) {
	for _, s := range signatureOIDs {
		if s.alg == alg {
			return s.oid, nil
		}
	}
	return nil, fmt.Errorf("%w: signature algorithm %v", ErrUnsupportedAlgorithm, alg)
}
