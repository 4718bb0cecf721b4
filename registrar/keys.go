package registrar

import (
	"crypto"
	"crypto/dsa"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
)

// ErrUnsupportedKey is returned for a certificate key that the registrar
// does not use: anything but ECDSA P-256, P-384 or P-521 and RSA of at
// least 2048 bits. LoadDomainCA and LoadRegistrarCert return it for their
// files, and Config.Options and Config.CheckFiles for the manufacturer ca
// and masa_trust files.
var ErrUnsupportedKey = errors.New("registrar: unsupported key")

// ErrKeyMismatch is returned by LoadDomainCA and LoadRegistrarCert when the
// key file does not contain the private key of the certificate.
var ErrKeyMismatch = errors.New("registrar: private key does not match the certificate")

// checkCertKeys applies checkKey to every certificate of a file. role names
// the certificates in the error, such as "CA certificate".
func checkCertKeys(certs []*x509.Certificate, file, role string) error {
	for _, c := range certs {
		if err := checkKey(c.PublicKey, file, fmt.Sprintf("%s %q", role, c.Subject)); err != nil {
			return err
		}
	}
	return nil
}

// checkKey returns an error wrapping ErrUnsupportedKey unless pub is an
// ECDSA P-256, P-384 or P-521 key or an RSA key of at least minRSABits.
// Vouchers and voucher requests are signed with ECDSA or RSA (RFC 8366,
// Section 5.4), and the registrar applies the same RSA floor to CSRs.
func checkKey(pub crypto.PublicKey, file, role string) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return nil
		}
	case *rsa.PublicKey:
		if k.N.BitLen() >= minRSABits {
			return nil
		}
	}
	return fmt.Errorf("%w: %s: the %s has %s; replace it with a certificate whose key "+
		"is ECDSA P-256, P-384 or P-521 or RSA of at least %d bits",
		ErrUnsupportedKey, file, role, describeKey(pub), minRSABits)
}

// describeKey names the type and size of a public key for an error, such
// as "a 1024-bit RSA key" or "an Ed25519 key".
func describeKey(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("a %d-bit RSA key", k.N.BitLen())
	case *ecdsa.PublicKey:
		return fmt.Sprintf("an ECDSA %s key", k.Curve.Params().Name)
	case ed25519.PublicKey:
		return "an Ed25519 key"
	case *ecdh.PublicKey:
		// crypto/x509 parses only X25519 keys as ECDH keys.
		return fmt.Sprintf("an ECDH %v key", k.Curve())
	case *dsa.PublicKey:
		return fmt.Sprintf("a %d-bit DSA key", k.P.BitLen())
	}
	return fmt.Sprintf("a key of type %T", pub)
}
