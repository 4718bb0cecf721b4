package registrar

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/brski-eap/brski/devid"
)

func TestSimpleEnroll(t *testing.T) {
	d := newTestDomain(t)
	factory := newTestCA(t, "acme factory")
	key := newKey(t)
	csr := newCSR(t, key, pkix.Name{CommonName: "pledge", SerialNumber: "SN-1"})
	noSerial := newCSR(t, key, pkix.Name{CommonName: "pledge"})
	otherSerial := newCSR(t, key, pkix.Name{CommonName: "pledge", SerialNumber: "SN-2"})
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	weak := newCSR(t, rsaKey, pkix.Name{SerialNumber: "SN-1"})
	wrapped := []byte(base64.StdEncoding.EncodeToString(csr))
	var lines []byte
	for len(wrapped) > 64 {
		lines = append(append(lines, wrapped[:64]...), '\r', '\n')
		wrapped = wrapped[64:]
	}
	lines = append(lines, wrapped...)
	tests := []struct {
		name        string
		session     bool
		body        []byte
		contentType string
		cte         string
		want        int
		reason      string
	}{
		{"no session", false, b64(csr), "application/pkcs10", "", http.StatusForbidden,
			"no successful voucher exchange"},
		{"base64", true, b64(csr), "application/pkcs10", "", http.StatusOK, ""},
		{"line breaks", true, lines, "application/pkcs10", "", http.StatusOK, ""},
		{"url alphabet unpadded", true,
			[]byte(base64.RawURLEncoding.EncodeToString(csr)), "application/pkcs10", "",
			http.StatusOK, ""},
		{"media type parameters", true, b64(csr), "application/pkcs10; charset=utf-8", "",
			http.StatusOK, ""},
		{"binary", true, csr, "application/pkcs10", "binary", http.StatusOK, ""},
		{"serial absent", true, b64(noSerial), "application/pkcs10", "", http.StatusOK, ""},
		{"serial differs", true, b64(otherSerial), "application/pkcs10", "",
			http.StatusBadRequest, "does not match"},
		{"wrong media type", true, b64(csr), "application/json", "",
			http.StatusUnsupportedMediaType, ""},
		{"not a CSR", true, b64([]byte{0x30, 0x03, 1, 2, 3}), "application/pkcs10", "",
			http.StatusBadRequest, ""},
		{"not base64", true, []byte("!!!"), "application/pkcs10", "", http.StatusBadRequest, ""},
		{"weak RSA key", true, b64(weak), "application/pkcs10", "", http.StatusBadRequest,
			"1024-bit RSA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newMemStore()
			r := newTestRegistrar(t, d, factory, st)
			ctx := NewSessionContext(context.Background())
			if tt.session {
				grantSession(ctx, "SN-1")
			}
			req := estRequest(ctx, http.MethodPost, PathSimpleEnroll, tt.body, nil)
			req.Header.Set("Content-Type", tt.contentType)
			if tt.cte != "" {
				req.Header.Set("Content-Transfer-Encoding", tt.cte)
			}
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("status = %d, want %d; body %q", rec.Code, tt.want, rec.Body)
			}
			if tt.want != http.StatusOK {
				if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
					t.Errorf("error Content-Type = %q, want text/plain", ct)
				}
				if tt.reason != "" && !strings.Contains(rec.Body.String(), tt.reason) {
					t.Errorf("body %q does not contain %q", rec.Body, tt.reason)
				}
				return
			}
			checkLDevID(t, d, st, rec, "SN-1")
		})
	}
}

// checkLDevID checks an enrollment response: the LDevID chains to the
// domain CA, has the serial number and clientAuth, and is in the store.
func checkLDevID(t *testing.T, d *testDomain, st *memStore, rec *httptest.ResponseRecorder,
	serial string) *x509.Certificate {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/pkcs7-mime") {
		t.Errorf("Content-Type = %q, want application/pkcs7-mime", ct)
	}
	certs := parseCertsOnly(t, rec.Body.Bytes())
	if len(certs) != 2 {
		t.Fatalf("response has %d certificates, want the LDevID and the domain CA", len(certs))
	}
	if !certs[1].Equal(d.ca.Cert) {
		t.Errorf("second certificate is %q, want the domain CA", certs[1].Subject)
	}
	ldevid := certs[0]
	if _, err := ldevid.Verify(x509.VerifyOptions{Roots: chainPool([]*x509.Certificate{d.ca.Cert}),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("LDevID does not chain to the domain CA with clientAuth: %v", err)
	}
	got, err := devid.SerialNumber(ldevid)
	if err != nil || got != serial {
		t.Errorf("LDevID serialNumber = %q, %v; want %q", got, err, serial)
	}
	rc, err := st.IssuedCertificate(context.Background(), certSerial(ldevid))
	if err != nil {
		t.Fatalf("issued certificate not in the store: %v", err)
	}
	if rc.DeviceSerial != serial || rc.Fingerprint != devid.Fingerprint(ldevid) {
		t.Errorf("stored certificate = %+v, want device %q and the LDevID fingerprint", rc,
			serial)
	}
	return ldevid
}

func TestSimpleReenroll(t *testing.T) {
	d := newTestDomain(t)
	factory := newTestCA(t, "acme factory")
	foreign := newTestCA(t, "foreign CA")
	st := newMemStore()
	r := newTestRegistrar(t, d, factory, st)
	key := newKey(t)
	csr := b64(newCSR(t, key, pkix.Name{CommonName: "pledge", SerialNumber: "SN-1"}))

	// Enroll once to obtain an LDevID of the domain.
	ctx := NewSessionContext(context.Background())
	grantSession(ctx, "SN-1")
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, estRequest(ctx, http.MethodPost, PathSimpleEnroll, csr, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("simpleenroll status = %d; body %q", rec.Code, rec.Body)
	}
	ldevid := checkLDevID(t, d, st, rec, "SN-1")

	// A second LDevID, revoked in the store.
	ctx2 := NewSessionContext(context.Background())
	grantSession(ctx2, "SN-1")
	rec = httptest.NewRecorder()
	r.ServeHTTP(rec, estRequest(ctx2, http.MethodPost, PathSimpleEnroll, csr, nil))
	revoked := checkLDevID(t, d, st, rec, "SN-1")
	st.revoke(certSerial(revoked))

	// An LDevID of the domain CA that the store does not know.
	unknownKey := newKey(t)
	unknown, err := r.issueLDevID(estRequest(ctx, http.MethodPost, "/", nil, nil),
		mustParseCSR(t, newCSR(t, unknownKey, pkix.Name{})),
		pkix.Name{SerialNumber: "SN-1"}, issued{device: "SN-1"})
	if err != nil {
		t.Fatal(err)
	}
	delete(st.certs, certSerial(unknown))

	tests := []struct {
		name string
		cert *x509.Certificate
		want int
	}{
		{"valid", ldevid, http.StatusOK},
		{"revoked", revoked, http.StatusForbidden},
		{"unknown to store", unknown, http.StatusForbidden},
		{"foreign CA", foreign.issue(t, key, "SN-1", x509.ExtKeyUsageClientAuth),
			http.StatusForbidden},
		{"IDevID", factory.issue(t, key, "SN-1", x509.ExtKeyUsageAny), http.StatusForbidden},
		{"no certificate", nil, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := NewSessionContext(context.Background())
			req := estRequest(ctx, http.MethodPost, PathSimpleReenroll, csr, tt.cert)
			req.Header.Set("Content-Type", "application/pkcs10")
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("status = %d, want %d; body %q", rec.Code, tt.want, rec.Body)
			}
			if tt.want == http.StatusOK {
				renewed := checkLDevID(t, d, st, rec, "SN-1")
				if diff := cmp.Diff(ldevid.Subject.String(), renewed.Subject.String()); diff != "" {
					t.Errorf("renewed subject (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func mustParseCSR(t *testing.T, der []byte) *x509.CertificateRequest {
	t.Helper()
	csr, err := parseCSR(der)
	if err != nil {
		t.Fatal(err)
	}
	return csr
}

func TestCACertsAndCSRAttrs(t *testing.T) {
	d := newTestDomain(t)
	r := newTestRegistrar(t, d, newTestCA(t, "acme factory"), newMemStore())
	ctx := NewSessionContext(context.Background())

	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, estRequest(ctx, http.MethodGet, PathCACerts, nil, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("cacerts status = %d; body %q", rec.Code, rec.Body)
	}
	certs := parseCertsOnly(t, rec.Body.Bytes())
	if len(certs) != 1 || !certs[0].Equal(d.ca.Cert) {
		t.Errorf("cacerts returned %d certificates, want the domain CA only", len(certs))
	}

	rec = httptest.NewRecorder()
	r.ServeHTTP(rec, estRequest(ctx, http.MethodGet, PathCSRAttrs, nil, nil))
	if ct := rec.Header().Get("Content-Type"); ct != "application/csrattrs" {
		t.Errorf("csrattrs Content-Type = %q, want application/csrattrs", ct)
	}
	der, err := decodeBase64(rec.Body.Bytes())
	if err != nil {
		t.Fatalf("csrattrs is not base64: %v", err)
	}
	var oids []asn1.ObjectIdentifier
	if _, err := asn1.Unmarshal(der, &oids); err != nil {
		t.Fatalf("csrattrs is not a SEQUENCE OF OBJECT IDENTIFIER: %v", err)
	}
	want := []asn1.ObjectIdentifier{oidECDSAWithSHA256, devid.OIDSerialNumber}
	if diff := cmp.Diff(want, oids); diff != "" {
		t.Errorf("csrattrs (-want +got):\n%s", diff)
	}
}

func TestESTBodyTooLarge(t *testing.T) {
	d := newTestDomain(t)
	r := newTestRegistrar(t, d, newTestCA(t, "acme factory"), newMemStore())
	ctx := NewSessionContext(context.Background())
	grantSession(ctx, "SN-1")
	body := []byte(strings.Repeat("A", maxBody+1))
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, estRequest(ctx, http.MethodPost, PathSimpleEnroll, body, nil))
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("status = %d, want 413", rec.Code)
	}
}

func TestUnknownRouteAndMethod(t *testing.T) {
	d := newTestDomain(t)
	var logs []RequestLog
	r, err := New(Options{DomainCA: d.ca, Cert: d.cert, Store: newMemStore(),
		Policy: parsePolicy(t, testPolicy), OnRequest: func(l RequestLog) {
			logs = append(logs, l)
		}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method, path string
		want         int
		allow        string
	}{
		{http.MethodGet, PathSimpleEnroll, http.StatusMethodNotAllowed, http.MethodPost},
		{http.MethodPost, PathCACerts, http.StatusMethodNotAllowed, http.MethodGet},
		{http.MethodGet, "/.well-known/est/serverkeygen", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			logs = nil
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, estRequest(context.Background(), tt.method, tt.path, nil, nil))
			if rec.Code != tt.want {
				t.Fatalf("status = %d, want %d", rec.Code, tt.want)
			}
			if got := rec.Header().Get("Allow"); got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
			if len(logs) != 1 || logs[0].Status != tt.want {
				t.Errorf("request logs = %+v, want one with status %d", logs, tt.want)
			}
		})
	}
}
