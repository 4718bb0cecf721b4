package registrar

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/brski-eap/brski/devid"
)

// newKeyedDomain returns a domain whose CA has key, as an external CA of
// a campus PKI has, and a registrar certificate that the CA issued.
func newKeyedDomain(t *testing.T, key crypto.Signer) *testDomain {
	t.Helper()
	dir := t.TempDir()
	ca, err := LoadDomainCA(writeExternalCA(t, dir, key))
	if err != nil {
		t.Fatalf("LoadDomainCA: %v", err)
	}
	rc, err := GenerateRegistrarCert(dir, ca, []string{"localhost"}, time.Now())
	if err != nil {
		t.Fatalf("GenerateRegistrarCert: %v", err)
	}
	return &testDomain{dir: dir, ca: ca, cert: rc}
}

// testSerial returns a random certificate serial number.
func testSerial(t *testing.T) *big.Int {
	t.Helper()
	n, err := randomSerial()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCSRAttrsFollowDomainCAKey(t *testing.T) {
	var keys [4]crypto.Signer // the CA keys, then the LDevID keys
	for i := range keys {
		var err error
		if i%2 == 0 {
			keys[i], err = rsa.GenerateKey(rand.Reader, 2048)
		} else {
			keys[i], err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	attr := func(v any) asn1.RawValue {
		der, err := asn1.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return asn1.RawValue{FullBytes: der}
	}
	serial := attr(devid.OIDSerialNumber)
	tests := []struct {
		name  string
		key   crypto.Signer
		want  []asn1.RawValue
		csr   crypto.Signer // a key of the announced type
		alg   x509.SignatureAlgorithm
		issue x509.SignatureAlgorithm // the LDevID's signature algorithm
	}{
		{"RSA", keys[0], []asn1.RawValue{attr(oidSHA256WithRSA), attr(oidRSAEncryption),
			serial}, keys[2], x509.SHA256WithRSA, x509.SHA256WithRSA},
		{"P-384", keys[1], []asn1.RawValue{attr(oidECDSAWithSHA384), attr(csrAttribute{
			Type: oidECPublicKey, Values: []asn1.ObjectIdentifier{oidSecp384r1}}),
			serial}, keys[3], x509.ECDSAWithSHA384, x509.ECDSAWithSHA384},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newKeyedDomain(t, tt.key)
			r := newTestRegistrar(t, d, newTestCA(t, "acme factory"), newMemStore())
			ctx := NewSessionContext(context.Background())
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, estRequest(ctx, http.MethodGet, PathCSRAttrs, nil, nil))
			der, err := decodeBase64(rec.Body.Bytes())
			if err != nil {
				t.Fatalf("csrattrs is not base64: %v", err)
			}
			want, err := asn1.Marshal(tt.want)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, der); diff != "" {
				t.Errorf("csrattrs DER (-want +got):\n%s", diff)
			}

			grantSession(ctx, "SN-1")
			csr := newCSRWith(t, tt.csr, tt.alg)
			rec = httptest.NewRecorder()
			req := estRequest(ctx, http.MethodPost, PathSimpleEnroll, b64(csr), nil)
			req.Header.Set("Content-Type", "application/pkcs10")
			r.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("simpleenroll status = %d; body %q", rec.Code, rec.Body)
			}
			ldevid := parseCertsOnly(t, rec.Body.Bytes())[0]
			if err := ldevid.CheckSignatureFrom(d.ca.Cert); err != nil {
				t.Errorf("LDevID is not signed by the domain CA: %v", err)
			}
			if ldevid.SignatureAlgorithm != tt.issue {
				t.Errorf("LDevID signature algorithm = %v, want %v",
					ldevid.SignatureAlgorithm, tt.issue)
			}
		})
	}
}

// newCSRWith returns a CSR for key, signed with alg, for device SN-1.
func newCSRWith(t *testing.T, key crypto.Signer, alg x509.SignatureAlgorithm) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: "pledge", SerialNumber: "SN-1"}, SignatureAlgorithm: alg,
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}
