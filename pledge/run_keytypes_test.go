package pledge

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"strings"
	"testing"

	"github.com/brski-eap/brski/voucher"
)

// rsaIDevID returns an IDevID of pki's factory with an RSA key of bits.
func rsaIDevID(t *testing.T, pki *testPKI, bits int) tls.Certificate {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := pki.factory.certify(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "widget", SerialNumber: testDeviceSerial},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, &key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}
}

func TestRunRSAIDevID(t *testing.T) {
	pki := newTestPKI(t)
	fr := newFakeRegistrar(t, pki)
	p := pki.pledge()
	p.IDevID = rsaIDevID(t, pki, 2048)
	if _, err := p.Run(t.Context(), fr.session(t, p)); err != nil {
		t.Fatalf("Run with an RSA-2048 IDevID: %v", err)
	}
	requests, _, _ := fr.seen()
	if len(requests) != 1 {
		t.Fatalf("registrar saw %d voucher requests, want 1", len(requests))
	}
	obj, err := voucher.ParseSigned(requests[0])
	if err != nil {
		t.Fatal(err)
	}
	signer, err := obj.SignerCertificate()
	if err != nil {
		t.Fatal(err)
	}
	if got := signer.SignatureAlgorithm; got != x509.ECDSAWithSHA256 {
		t.Errorf("IDevID signature algorithm = %v, want the factory's ECDSAWithSHA256", got)
	}
	if _, ok := signer.PublicKey.(*rsa.PublicKey); !ok {
		t.Errorf("voucher request signer key is %T, want the RSA IDevID", signer.PublicKey)
	}
}

// TestRunShortRSAIDevID pins that an IDevID with an RSA key below 2048
// bits fails before the voucher request is sent, with an error that names
// the key size.
func TestRunShortRSAIDevID(t *testing.T) {
	pki := newTestPKI(t)
	fr := newFakeRegistrar(t, pki)
	p := pki.pledge()
	p.IDevID = rsaIDevID(t, pki, 1024)
	_, err := p.Run(t.Context(), fr.session(t, p))
	if !errors.Is(err, voucher.ErrUnsupportedAlgorithm) {
		t.Fatalf("Run error = %v, want voucher.ErrUnsupportedAlgorithm", err)
	}
	if !strings.Contains(err.Error(), "1024-bit RSA key") {
		t.Errorf("Run error %q does not name the 1024-bit RSA key", err)
	}
	if requests, _, _ := fr.seen(); len(requests) != 0 {
		t.Errorf("registrar saw %d voucher requests, want none", len(requests))
	}
}

// TestRunRSAIDevIDWithoutPSS runs a pledge whose RSA IDevID signs only
// with PKCS #1 v1.5, as keys in a TPM 1.2 do. TLS 1.3 accepts only RSA-PSS
// from an RSA key, so the handshake must fall back to TLS 1.2.
func TestRunRSAIDevIDWithoutPSS(t *testing.T) {
	pki := newTestPKI(t)
	fr := newFakeRegistrar(t, pki)
	p := pki.pledge()
	p.IDevID = rsaIDevID(t, pki, 2048)
	p.IDevID.SupportedSignatureAlgorithms = []tls.SignatureScheme{tls.PKCS1WithSHA256}
	if _, err := p.Run(t.Context(), fr.session(t, p)); err != nil {
		t.Fatalf("Run with a PKCS #1 v1.5 only IDevID: %v", err)
	}
}
