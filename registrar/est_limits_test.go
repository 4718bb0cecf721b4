package registrar

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// postCSR posts csr to simpleenroll in the session of ctx, with cert as the
// TLS client certificate.
func postCSR(r *Registrar, ctx context.Context, csr []byte,
	cert *x509.Certificate) *httptest.ResponseRecorder {
	req := estRequest(ctx, http.MethodPost, PathSimpleEnroll, b64(csr), cert)
	req.Header.Set("Content-Type", "application/pkcs10")
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	return rec
}

// One voucher exchange allows one enrollment. A failed attempt does not
// use the grant up.
func TestSimpleEnrollOncePerExchange(t *testing.T) {
	d := newTestDomain(t)
	r := newTestRegistrar(t, d, newTestCA(t, "acme factory"), newMemStore())
	ctx := NewSessionContext(context.Background())
	grantSession(ctx, "SN-1")
	good := newCSR(t, newKey(t), pkix.Name{CommonName: "pledge", SerialNumber: "SN-1"})
	bad := newCSR(t, newKey(t), pkix.Name{SerialNumber: "SN-2"})
	steps := []struct {
		name   string
		csr    []byte
		want   int
		reason string
	}{
		{"bad CSR", bad, http.StatusBadRequest, "does not match"},
		{"first", good, http.StatusOK, ""},
		{"second", good, http.StatusForbidden, PathSimpleReenroll},
	}
	for _, s := range steps {
		rec := postCSR(r, ctx, s.csr, nil)
		if rec.Code != s.want || !strings.Contains(rec.Body.String(), s.reason) {
			t.Errorf("%s: status %d, body %q; want %d with %q", s.name, rec.Code, rec.Body,
				s.want, s.reason)
		}
	}
	grantSession(ctx, "SN-1")
	if rec := postCSR(r, ctx, good, nil); rec.Code != http.StatusOK {
		t.Errorf("after a new voucher exchange: status %d, body %q", rec.Code, rec.Body)
	}
}

func TestSimpleEnrollCSRLimits(t *testing.T) {
	d := newTestDomain(t)
	factory := newTestCA(t, "acme factory")
	idevidKey := newKey(t)
	idevid := factory.issue(t, idevidKey, "SN-1", x509.ExtKeyUsageClientAuth)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p521, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		key    crypto.Signer
		cn     string
		want   int
		reason string
	}{
		{"P-256", newKey(t), "pledge", http.StatusOK, ""},
		{"P-384", p384, "pledge", http.StatusOK, ""},
		{"P-521", p521, "pledge", http.StatusBadRequest, "P-521"},
		{"Ed25519", edKey, "pledge", http.StatusBadRequest, "Ed25519"},
		{"IDevID key", idevidKey, "pledge", http.StatusBadRequest, "new key pair"},
		{"64-character commonName", newKey(t), strings.Repeat("c", 64), http.StatusOK, ""},
		{"65-character commonName", newKey(t), strings.Repeat("c", 65),
			http.StatusBadRequest, "at most 64"},
		{"30000-character commonName", newKey(t), strings.Repeat("c", 30000),
			http.StatusBadRequest, "at most 64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newMemStore()
			r := newTestRegistrar(t, d, factory, st)
			ctx := NewSessionContext(context.Background())
			grantSession(ctx, "SN-1")
			rec := postCSR(r, ctx, newCSR(t, tt.key, pkix.Name{CommonName: tt.cn}), idevid)
			if rec.Code != tt.want || !strings.Contains(rec.Body.String(), tt.reason) {
				t.Fatalf("status %d, body %q; want %d with %q", rec.Code, rec.Body, tt.want,
					tt.reason)
			}
			if tt.want == http.StatusOK {
				checkLDevID(t, d, st, rec, "SN-1")
			}
		})
	}
}
