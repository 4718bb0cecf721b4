package voucher

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Names of the RFC 8995 Appendix C files in testdata/rfc8995.
const (
	pledgeRequestName    = "pledge-voucher-request_00-D0-E5-F2-00-02"
	registrarRequestName = "registrar-voucher-request_00-D0-E5-F2-00-02"
	voucherName          = "voucher_00-D0-E5-F2-00-02"

	manufacturerCAName = "manufacturer-ca_vendor"
	masaName           = "masa_voucher-signing"
	ownerCAName        = "registrar-ca_ownerca_secp384r1"
	registrarName      = "registrar_jrc_prime256v1"
	idevidName         = "pledge_idevid_00-D0-E5-F2-00-02"
)

// vectorTime is a time at which every Appendix C certificate is valid.
var vectorTime = time.Date(2021, 5, 1, 0, 0, 0, 0, time.UTC)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "rfc8995", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readCMS returns the DER bytes of an Appendix C.2 CMS object.
func readCMS(t testing.TB, name string) []byte {
	t.Helper()
	der, err := DecodeInput(readTestdata(t, name+".cms.b64"))
	if err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	return der
}

func readCert(t testing.TB, name string) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(readTestdata(t, name+".crt.pem"))
	if block == nil {
		t.Fatalf("%s.crt.pem: no PEM block", name)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("%s.crt.pem: %v", name, err)
	}
	return cert
}

func readKey(t testing.TB, name string) crypto.Signer {
	t.Helper()
	block, _ := pem.Decode(readTestdata(t, name+".key.pem"))
	if block == nil {
		t.Fatalf("%s.key.pem: no PEM block", name)
	}
	if key, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
		return key
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatalf("%s.key.pem: %v", name, err)
	}
	return key.(crypto.Signer)
}

func poolOf(certs ...*x509.Certificate) *x509.CertPool {
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool
}

func boolPtr(b bool) *bool { return &b }
