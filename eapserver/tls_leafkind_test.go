package eapserver_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/brski-eap/brski/pledge"
	"github.com/brski-eap/brski/store"
)

// TestEAPTLSRejectsWrongKindOfLeaf stores certificates of the domain CA
// that an LDevID must not be, as if the registrar had issued them, and
// checks that EAP-TLS rejects each one.
func TestEAPTLSRejectsWrongKindOfLeaf(t *testing.T) {
	e := newEnv(t)
	dev := e.bootstrap("SN-2701", "02-00-00-00-27-01")
	ctx := context.Background()
	roots := pool(dev.res.DomainCAs...)
	tests := []struct {
		name string
		tmpl x509.Certificate
	}{
		{"serverAuth only", x509.Certificate{KeyUsage: x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}},
		{"CA certificate", x509.Certificate{
			KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
			IsCA:        true, BasicConstraintsValid: true}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			tmpl := tt.tmpl
			tmpl.SerialNumber = randomSerial(t)
			tmpl.Subject = pkix.Name{CommonName: "SN-2701", SerialNumber: "SN-2701"}
			tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
			der, err := x509.CreateCertificate(rand.Reader, &tmpl, e.ca.Cert, &key.PublicKey,
				e.ca.Key)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(der)
			err = e.st.DB.AddCertificate(ctx, store.Certificate{SerialNumber: tmpl.SerialNumber,
				Subject: tmpl.Subject.String(), DeviceSerial: "SN-2701",
				Fingerprint: hex.EncodeToString(sum[:]), NotAfter: tmpl.NotAfter})
			if err != nil {
				t.Fatal(err)
			}
			nas := e.nas(fmt.Sprintf("02-00-00-00-27-%02X", 0x10+i))
			_, err = pledge.AuthenticateTLS(ctx, nas, tls.Certificate{
				Certificate: [][]byte{der}, PrivateKey: key}, roots, pledge.EAPConfig{})
			if !errors.Is(err, pledge.ErrEAPFailure) {
				t.Errorf("AuthenticateTLS error = %v (result %+v), want ErrEAPFailure", err,
					e.lastResult())
			}
		})
	}
}

func randomSerial(t *testing.T) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		t.Fatal(err)
	}
	return n
}
