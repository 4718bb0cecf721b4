package masa

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
)

// MinRSABits is the smallest RSA key that the factory certifies or signs
// with.
const MinRSABits = 2048

// ErrUnsupportedKey is returned for a factory, MASA or IDevID key that the
// factory does not use: anything but ECDSA P-256, P-384 or P-521, and RSA of
// at least MinRSABits.
var ErrUnsupportedKey = errors.New("masa: unsupported key")

// CheckKey returns an error wrapping ErrUnsupportedKey when key is not an
// ECDSA P-256, P-384 or P-521 key or an RSA key of at least MinRSABits.
// Vouchers (RFC 8366, Section 5.4) are signed with ECDSA or RSA, and the
// IDevID key signs the pledge's voucher request the same way. role names the
// key in the error.
func CheckKey(key crypto.Signer, role string) error {
	switch k := key.Public().(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return nil
		}
		return fmt.Errorf("%w: the %s key is ECDSA on curve %s; use P-256, P-384 or P-521",
			ErrUnsupportedKey, role, k.Curve.Params().Name)
	case *rsa.PublicKey:
		if k.N.BitLen() >= MinRSABits {
			return nil
		}
		return fmt.Errorf("%w: the %s key is a %d-bit RSA key; use RSA of at least %d bits "+
			"or ECDSA P-256", ErrUnsupportedKey, role, k.N.BitLen(), MinRSABits)
	}
	return fmt.Errorf("%w: the %s key is %T; use ECDSA P-256 or RSA of at least %d bits",
		ErrUnsupportedKey, role, key.Public(), MinRSABits)
}

// keyOrP256 checks key, or generates an ECDSA P-256 key when key is nil.
func keyOrP256(key crypto.Signer, role string) (crypto.Signer, error) {
	if key == nil {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("masa: generate %s key: %w", role, err)
		}
		return k, nil
	}
	if err := CheckKey(key, role); err != nil {
		return nil, err
	}
	return key, nil
}
