package masa

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
)

// MintUnstored issues an IDevID for serial from the factory CA without
// storing it, as a second certificate for a minted serial number.
func (f *Factory) MintUnstored(serial string) (*Device, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	template := &x509.Certificate{Subject: pkix.Name{SerialNumber: serial},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	cert, err := issue(template, key.Public(), f.CA, f.caKey)
	if err != nil {
		return nil, err
	}
	return &Device{SerialNumber: serial, Certificate: cert, Key: key}, nil
}
