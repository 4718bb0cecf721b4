package registrar

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/smallstep/pkcs7"

	"github.com/brski-eap/brski/policies"
)

// testPolicy accepts expected devices and rejects everything else.
const testPolicy = `
rule "expected" {
  expected = true
  outcome  = "accept"
  vlan     = 10
}
default {
  outcome = "reject"
  reason  = "device is not in the expected list"
}
`

func parsePolicy(t testing.TB, src string) *policies.Policy {
	t.Helper()
	f, diags := hclparse.NewParser().ParseHCL([]byte(src), "test.hcl")
	if diags.HasErrors() {
		t.Fatalf("parse policy: %v", diags)
	}
	p, diags := policies.Decode(f.Body, "test.hcl")
	if diags.HasErrors() {
		t.Fatalf("decode policy: %v", diags)
	}
	return p
}

// testDomain is a domain CA and registrar certificate in a temporary
// directory.
type testDomain struct {
	dir  string
	ca   *DomainCA
	cert *RegistrarCert
}

func newTestDomain(t testing.TB) *testDomain {
	t.Helper()
	dir := t.TempDir()
	now := time.Now()
	ca, err := GenerateDomainCA(dir, now)
	if err != nil {
		t.Fatalf("GenerateDomainCA: %v", err)
	}
	rc, err := GenerateRegistrarCert(dir, ca, []string{"localhost", "127.0.0.1"}, now)
	if err != nil {
		t.Fatalf("GenerateRegistrarCert: %v", err)
	}
	return &testDomain{dir: dir, ca: ca, cert: rc}
}

// testCA is a minimal issuing CA for test IDevIDs and foreign LDevIDs.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t testing.TB, name string) *testCA {
	t.Helper()
	return newSubCA(t, name, nil)
}

// newSubCA returns a CA that parent issued, or a self-signed one when
// parent is nil.
func newSubCA(t testing.TB, name string, parent *testCA) *testCA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	issuer, issuerKey := tmpl, key
	if parent != nil {
		tmpl.SerialNumber = big.NewInt(2)
		issuer, issuerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, key.Public(), issuerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key}
}

// issue signs a leaf certificate for key with the given subject serial
// number and extended key usage.
func (ca *testCA) issue(t testing.TB, key crypto.Signer, serial string,
	eku x509.ExtKeyUsage) *x509.Certificate {
	t.Helper()
	n, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: n,
		Subject:      pkix.Name{CommonName: "test device", SerialNumber: serial},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{eku},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// newCSR returns a DER PKCS #10 request for key.
func newCSR(t testing.TB, key crypto.Signer, subject pkix.Name) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader,
		&x509.CertificateRequest{Subject: subject}, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// newTestRegistrar returns a registrar of d with a memory store, the test
// policy and an IDevID manufacturer "acme" issued by factory.
func newTestRegistrar(t *testing.T, d *testDomain, factory *testCA, st Store) *Registrar {
	t.Helper()
	r, err := New(Options{
		DomainCA:      d.ca,
		Cert:          d.cert,
		Store:         st,
		Policy:        parsePolicy(t, testPolicy),
		Manufacturers: []Manufacturer{{Name: "acme", CA: []*x509.Certificate{factory.cert}}},
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

// estRequest builds a request with the TLS state of a client that presents
// cert (nil for none) in the given session context.
func estRequest(ctx context.Context, method, path string, body []byte,
	cert *x509.Certificate) *http.Request {
	req := httptest.NewRequestWithContext(ctx, method, path, bytes.NewReader(body))
	req.TLS = &tls.ConnectionState{}
	if cert != nil {
		req.TLS.PeerCertificates = []*x509.Certificate{cert}
	}
	return req
}

// parseCertsOnly decodes a base64 certs-only response body.
func parseCertsOnly(t *testing.T, body []byte) []*x509.Certificate {
	t.Helper()
	der, err := decodeBase64(body)
	if err != nil {
		t.Fatalf("response is not base64: %v", err)
	}
	p7, err := pkcs7.Parse(der)
	if err != nil {
		t.Fatalf("response is not CMS: %v", err)
	}
	return p7.Certificates
}

func b64(der []byte) []byte { return []byte(base64.StdEncoding.EncodeToString(der)) }

// grantSession marks the session of ctx as having passed a voucher
// exchange for serial.
func grantSession(ctx context.Context, serial string) {
	sessionFrom(ctx).setGrant(&enrollGrant{Serial: serial, DecisionID: 7,
		Outcome: "accept"})
}
