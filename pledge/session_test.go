package pledge

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRetryAfter(t *testing.T) {
	p := &Pledge{Now: func() time.Time { return testNow }}
	tests := []struct {
		name  string
		value string
		want  time.Duration
	}{
		{"zero", "0", 0},
		{"seconds", "7", 7 * time.Second},
		{"capped at 60 s", "3600", maxRetryAfter},
		{"HTTP-date", testNow.Add(20 * time.Second).Format(http.TimeFormat), 20 * time.Second},
		{"HTTP-date in the past", testNow.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"missing", "", defaultRetryAfter},
		{"garbage", "soon", defaultRetryAfter},
		{"negative", "-5", defaultRetryAfter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := &response{header: http.Header{}}
			if tt.value != "" {
				resp.header.Set("Retry-After", tt.value)
			}
			if got := p.retryAfter(resp); got != tt.want {
				t.Errorf("retryAfter(%q) = %s, want %s", tt.value, got, tt.want)
			}
		})
	}
}

func TestServerPin(t *testing.T) {
	pki := newTestPKI(t)
	other := pki.domainCA.issue(t, &x509.Certificate{})
	sp := &serverPin{}
	state := func(certs ...*x509.Certificate) tls.ConnectionState {
		return tls.ConnectionState{PeerCertificates: certs}
	}
	if err := sp.verify(state()); !errors.Is(err, errNoServerCert) {
		t.Errorf("no certificate: error = %v, want errNoServerCert", err)
	}
	if err := sp.verify(state(pki.registrar.cert, pki.domainCA.cert)); err != nil {
		t.Fatalf("first connection: %v", err)
	}
	if err := sp.verify(state(pki.registrar.cert)); err != nil {
		t.Errorf("same certificate again: %v", err)
	}
	if err := sp.verify(state(other.cert)); err == nil {
		t.Errorf("another certificate was accepted on a later connection")
	}
	leaf, chain := sp.certs()
	if !leaf.Equal(pki.registrar.cert) || len(chain) != 1 || !chain[0].Equal(pki.domainCA.cert) {
		t.Errorf("certs() did not keep the first connection's chain")
	}
}

func TestCheckSignatures(t *testing.T) {
	pki := newTestPKI(t)
	forged := *pki.registrar.cert
	forged.Signature = append([]byte(nil), forged.Signature...)
	forged.Signature[len(forged.Signature)-1] ^= 0xff
	selfSigned := newRootCA(t, "self-signed registrar").cert
	forgedSelf := *selfSigned
	forgedSelf.Signature = append([]byte(nil), forgedSelf.Signature...)
	forgedSelf.Signature[len(forgedSelf.Signature)-1] ^= 0xff
	tests := []struct {
		name  string
		certs []*x509.Certificate
		ok    bool
	}{
		{"leaf and issuer", []*x509.Certificate{pki.registrar.cert, pki.domainCA.cert}, true},
		{"leaf without issuer", []*x509.Certificate{pki.registrar.cert}, true},
		{"self-signed", []*x509.Certificate{selfSigned}, true},
		{"unrelated extra certificate", []*x509.Certificate{pki.registrar.cert,
			pki.factory.cert}, true},
		{"forged leaf", []*x509.Certificate{&forged, pki.domainCA.cert}, false},
		{"forged self-signed", []*x509.Certificate{&forgedSelf}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkSignatures(tt.certs)
			if (err == nil) != tt.ok {
				t.Errorf("checkSignatures error = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestSameOrigin(t *testing.T) {
	first := &http.Request{URL: mustURL(t, "https://127.0.0.1:8443/.well-known/est/cacerts")}
	tests := []struct {
		name string
		to   string
		via  []*http.Request
		ok   bool
	}{
		{"same origin", "https://127.0.0.1:8443/other", []*http.Request{first}, true},
		{"other port", "https://127.0.0.1:9443/other", []*http.Request{first}, false},
		{"other scheme", "http://127.0.0.1:8443/other", []*http.Request{first}, false},
		{"second redirect", "https://127.0.0.1:8443/x", []*http.Request{first, first}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sameOrigin(&http.Request{URL: mustURL(t, tt.to)}, tt.via)
			if (err == nil) != tt.ok {
				t.Errorf("sameOrigin(%s) error = %v, want ok %v", tt.to, err, tt.ok)
			}
		})
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestDialHTTPSRejectsURL(t *testing.T) {
	p := newTestPKI(t).pledge()
	for _, u := range []string{"http://127.0.0.1:1", "127.0.0.1:8443", "https://", "%zz"} {
		if _, _, err := p.DialHTTPS(t.Context(), u); err == nil {
			t.Errorf("DialHTTPS(%q) succeeded", u)
		}
	}
}

func TestWriteFiles(t *testing.T) {
	pki := newTestPKI(t)
	fr := newFakeRegistrar(t, pki)
	p := pki.pledge()
	res, err := p.Run(t.Context(), fr.session(t, p))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "out")
	if err := res.WriteFiles(dir); err != nil {
		t.Fatalf("WriteFiles: %v", err)
	}
	// A second write replaces the files and keeps the key private.
	if err := res.WriteFiles(dir); err != nil {
		t.Fatalf("WriteFiles again: %v", err)
	}
	fi, err := os.Stat(filepath.Join(dir, LDevIDKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %04o, want 0600", fi.Mode().Perm())
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, LDevIDFile),
		filepath.Join(dir, LDevIDKeyFile))
	if err != nil {
		t.Fatalf("LDevID files do not load as a key pair: %v", err)
	}
	if diff := cmp.Diff(res.LDevID.Raw, pair.Certificate[0]); diff != "" {
		t.Errorf("ldevid.pem (-want +got):\n%s", diff)
	}
	data, err := os.ReadFile(filepath.Join(dir, DomainCAFile))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil || !pki.domainCA.cert.Equal(mustParse(t, block.Bytes)) {
		t.Errorf("domain-ca.pem does not hold the domain CA")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		t.Errorf("output directory has %d entries, want 3 (no temporary files)", len(entries))
	}
}

func mustParse(t *testing.T, der []byte) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewSession(t *testing.T) {
	pki := newTestPKI(t)
	cs := tls.ConnectionState{PeerCertificates: []*x509.Certificate{pki.registrar.cert,
		pki.domainCA.cert}}
	s, err := NewSession(http.DefaultClient, "http://registrar", cs)
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	if !s.RegistrarCert.Equal(pki.registrar.cert) {
		t.Errorf("RegistrarCert is not the first peer certificate")
	}
	if len(s.RegistrarChain) != 1 || !s.RegistrarChain[0].Equal(pki.domainCA.cert) {
		t.Errorf("RegistrarChain is not the rest of the peer certificates")
	}
	if got := s.url(pathCACerts); got != "http://registrar"+pathCACerts {
		t.Errorf("url = %q", got)
	}
	if _, err := NewSession(http.DefaultClient, "http://registrar",
		tls.ConnectionState{}); !errors.Is(err, errNoServerCert) {
		t.Errorf("without peer certificates: error = %v, want errNoServerCert", err)
	}
	if _, err := NewSession(http.DefaultClient, "", cs); err == nil {
		t.Errorf("NewSession accepted an empty base URL")
	}
}
