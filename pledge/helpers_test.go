package pledge

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brski-eap/brski/voucher"
)

// testNow is the clock of the tests, so validity checks never depend on
// the machine's time.
var testNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

var testSerial atomic.Int64

// testCA is a certificate with its key, able to issue more.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// newRootCA returns a self-signed CA valid around testNow.
func newRootCA(t testing.TB, name string) *testCA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             testNow.Add(-24 * time.Hour),
		NotAfter:              testNow.Add(365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	cert, err := createCert(tmpl, &key.PublicKey, nil, key)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key}
}

// issue signs tmpl for a new key. A zero validity becomes one valid around
// testNow.
func (ca *testCA) issue(t testing.TB, tmpl *x509.Certificate) *testCA {
	t.Helper()
	key := newKey(t)
	cert, err := ca.certify(tmpl, &key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key}
}

// certify signs tmpl for pub. It returns errors instead of failing the test
// so that server handlers can use it.
func (ca *testCA) certify(tmpl *x509.Certificate, pub crypto.PublicKey) (*x509.Certificate,
	error) {
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = testNow.Add(-time.Hour)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = testNow.Add(30 * 24 * time.Hour)
	}
	return createCert(tmpl, pub, ca.cert, ca.key)
}

func createCert(tmpl *x509.Certificate, pub crypto.PublicKey, parent *x509.Certificate,
	signer crypto.Signer) (*x509.Certificate, error) {
	tmpl.SerialNumber = big.NewInt(testSerial.Add(1))
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// tlsCert returns c as a tls.Certificate with the chain extra.
func (c *testCA) tlsCert(extra ...*x509.Certificate) tls.Certificate {
	tc := tls.Certificate{Certificate: [][]byte{c.cert.Raw}, PrivateKey: c.key, Leaf: c.cert}
	for _, e := range extra {
		tc.Certificate = append(tc.Certificate, e.Raw)
	}
	return tc
}

// testPKI is a manufacturer with its MASA, a device, and a domain with its
// registrar.
type testPKI struct {
	factory   *testCA // manufacturer CA, the MASA trust anchor
	masa      *testCA // voucher-signing certificate
	idevid    *testCA
	domainCA  *testCA
	registrar *testCA
}

const testDeviceSerial = "PLEDGE-0001"

var loopbackIPs = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	pki := &testPKI{factory: newRootCA(t, "factory CA"), domainCA: newRootCA(t, "domain CA")}
	pki.masa = pki.factory.issue(t, &x509.Certificate{
		Subject:  pkix.Name{CommonName: "MASA voucher signing"},
		KeyUsage: x509.KeyUsageDigitalSignature,
	})
	pki.idevid = pki.factory.issue(t, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "widget", SerialNumber: testDeviceSerial},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	pki.registrar = pki.domainCA.issue(t, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "registrar"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: loopbackIPs,
	})
	return pki
}

// pledge returns a Pledge with the IDevID of pki, trusting its factory CA.
func (pki *testPKI) pledge() *Pledge {
	return &Pledge{
		IDevID:    pki.idevid.tlsCert(),
		MASATrust: certPool([]*x509.Certificate{pki.factory.cert}),
		Now:       func() time.Time { return testNow },
	}
}

// voucherFor returns a voucher that a MASA would issue for the pledge of
// pki with nonce, pinning the domain CA.
func (pki *testPKI) voucherFor(nonce []byte) *voucher.Voucher {
	return &voucher.Voucher{
		CreatedOn:        testNow.Add(-time.Minute),
		Assertion:        voucher.AssertionLogged,
		SerialNumber:     testDeviceSerial,
		Nonce:            nonce,
		IDevIDIssuer:     pki.idevid.cert.AuthorityKeyId,
		PinnedDomainCert: pki.domainCA.cert.Raw,
	}
}

// sign encodes v and signs it as signer, which Sign carries in the CMS.
func sign(t testing.TB, v *voucher.Voucher, signer *testCA) []byte {
	t.Helper()
	signed, err := signVoucher(v, signer)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

func signVoucher(v *voucher.Voucher, signer *testCA) ([]byte, error) {
	content, err := v.MarshalVoucher()
	if err != nil {
		return nil, err
	}
	return voucher.Sign(content, signer.cert, signer.key, nil)
}
