package pledge

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/smallstep/pkcs7"

	"github.com/brski-eap/brski/voucher"
)

// fakeRegistrar is a BRSKI and EST server for flow tests. It checks the
// pledge's requests the way a registrar does and responds with a voucher
// that its MASA signs, unless a hook changes the response.
type fakeRegistrar struct {
	t   *testing.T
	pki *testPKI
	srv *httptest.Server

	// pending is how many voucher requests get 202 before the voucher,
	// with Retry-After retryAfter ("0" when empty).
	pending    int
	retryAfter string
	// editVoucher changes the voucher before the MASA signs it.
	editVoucher func(v *voucher.Voucher)
	// voucherStatus, when not zero, is the status of the voucher response,
	// with errorMessage or a default plain-text message.
	voucherStatus int
	errorMessage  string
	// voucherMedia, when not empty, replaces the voucher's Content-Type.
	voucherMedia string
	// caCerts are the certificates of /cacerts; nil means the domain CA.
	caCerts []*x509.Certificate
	// csrAttrs is the DER of /csrattrs; nil means 204 No Content.
	csrAttrs []byte
	// issuer signs LDevIDs; nil means the domain CA.
	issuer *testCA
	// wrongKey makes /simpleenroll certify otherKey.
	wrongKey bool
	otherKey crypto.Signer

	mu       sync.Mutex
	requests [][]byte                  // bodies of every voucher request
	reports  map[string][]statusReport // status reports by path
	paths    []string                  // every request path in order
	csr      *x509.CertificateRequest
}

func newFakeRegistrar(t *testing.T, pki *testPKI) *fakeRegistrar {
	fr := &fakeRegistrar{t: t, pki: pki, reports: map[string][]statusReport{},
		otherKey: newKey(t)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+pathRequestVoucher, fr.requestVoucher)
	mux.HandleFunc("POST "+pathVoucherStatus, fr.status)
	mux.HandleFunc("POST "+pathEnrollStatus, fr.status)
	mux.HandleFunc("GET "+pathCACerts, fr.serveCACerts)
	mux.HandleFunc("GET "+pathCSRAttrs, fr.serveCSRAttrs)
	mux.HandleFunc("POST "+pathSimpleEnroll, fr.simpleEnroll)
	fr.srv = httptest.NewUnstartedServer(fr.record(mux))
	fr.srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{pki.registrar.tlsCert()},
		ClientAuth:   tls.RequireAnyClientCert,
	}
	fr.srv.StartTLS()
	t.Cleanup(fr.srv.Close)
	return fr
}

func (fr *fakeRegistrar) record(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fr.mu.Lock()
		fr.paths = append(fr.paths, r.URL.Path)
		fr.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

// requestVoucher checks the pledge voucher request as RFC 8995, Section 5.2
// and 5.3 describe and responds with a voucher for its nonce.
func (fr *fakeRegistrar) requestVoucher(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	fr.mu.Lock()
	fr.requests = append(fr.requests, body)
	n := len(fr.requests)
	fr.mu.Unlock()

	if r.Header.Get("Content-Type") != mediaVoucherCMS ||
		r.Header.Get("Accept") != mediaVoucherCMS {
		http.Error(w, "wrong media type", http.StatusUnsupportedMediaType)
		return
	}
	req, err := fr.parseRequest(r, body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	if n <= fr.pending {
		retry := fr.retryAfter
		if retry == "" {
			retry = "0"
		}
		w.Header().Set("Retry-After", retry)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	if fr.voucherStatus != 0 {
		msg := fr.errorMessage
		if msg == "" {
			msg = "device is not in the inventory"
		}
		http.Error(w, msg, fr.voucherStatus)
		return
	}
	v := fr.pki.voucherFor(req.Nonce)
	if fr.editVoucher != nil {
		fr.editVoucher(v)
	}
	signed, err := signVoucher(v, fr.pki.masa)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	media := mediaVoucherCMS
	if fr.voucherMedia != "" {
		media = fr.voucherMedia
	}
	w.Header().Set("Content-Type", media)
	w.Write(signed)
}

// parseRequest verifies the voucher request's signature by the IDevID that
// authenticated the TLS connection and checks its leaves.
func (fr *fakeRegistrar) parseRequest(r *http.Request, body []byte) (*voucher.Voucher,
	error) {
	obj, err := voucher.ParseSigned(body)
	if err != nil {
		return nil, err
	}
	client := r.TLS.PeerCertificates[0]
	if _, err := obj.Verify(voucher.VerifyOptions{Roots: certPool(
		[]*x509.Certificate{fr.pki.factory.cert}), CurrentTime: testNow}); err != nil {
		return nil, err
	}
	if !obj.Certificates[0].Equal(client) {
		return nil, errString("voucher request is not signed by the TLS client")
	}
	req, err := voucher.ParseRequest(obj.Content)
	if err != nil {
		return nil, err
	}
	if req.Assertion != voucher.AssertionProximity ||
		!bytes.Equal(req.ProximityRegistrarCert, fr.pki.registrar.cert.Raw) ||
		req.SerialNumber != testDeviceSerial || len(req.Nonce) < 16 {
		return nil, errString("voucher request leaves are wrong")
	}
	return req, nil
}

type errString string

func (e errString) Error() string { return string(e) }

func (fr *fakeRegistrar) status(w http.ResponseWriter, r *http.Request) {
	var rep statusReport
	if err := json.NewDecoder(r.Body).Decode(&rep); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	fr.mu.Lock()
	fr.reports[r.URL.Path] = append(fr.reports[r.URL.Path], rep)
	fr.mu.Unlock()
}

func (fr *fakeRegistrar) serveCACerts(w http.ResponseWriter, r *http.Request) {
	certs := fr.caCerts
	if certs == nil {
		certs = []*x509.Certificate{fr.pki.domainCA.cert}
	}
	fr.writeCertsOnly(w, certs...)
}

func (fr *fakeRegistrar) serveCSRAttrs(w http.ResponseWriter, r *http.Request) {
	if fr.csrAttrs == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Type", mediaCSRAttrs)
	io.WriteString(w, base64.StdEncoding.EncodeToString(fr.csrAttrs))
}

// simpleEnroll issues a certificate for the base64 PKCS #10 request.
func (fr *fakeRegistrar) simpleEnroll(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	der, err := base64.StdEncoding.DecodeString(string(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil || csr.CheckSignature() != nil {
		http.Error(w, "invalid CSR", http.StatusBadRequest)
		return
	}
	fr.mu.Lock()
	fr.csr = csr
	fr.mu.Unlock()

	issuer := fr.issuer
	if issuer == nil {
		issuer = fr.pki.domainCA
	}
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: csr.Subject.CommonName,
		SerialNumber: csr.Subject.SerialNumber}, ExtraExtensions: csr.Extensions}
	pub := csr.PublicKey
	if fr.wrongKey {
		pub = fr.otherKey.Public()
	}
	cert, err := issuer.certify(tmpl, pub)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	fr.writeCertsOnly(w, cert)
}

func (fr *fakeRegistrar) writeCertsOnly(w http.ResponseWriter, certs ...*x509.Certificate) {
	var raw []byte
	for _, c := range certs {
		raw = append(raw, c.Raw...)
	}
	der, err := pkcs7.DegenerateCertificate(raw)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", mediaPKCS7+"; smime-type=certs-only")
	io.WriteString(w, base64.StdEncoding.EncodeToString(der))
}

// session returns a Session to the fake registrar over HTTPS.
func (fr *fakeRegistrar) session(t *testing.T, p *Pledge) Session {
	t.Helper()
	s, closeIdle, err := p.DialHTTPS(t.Context(), fr.srv.URL)
	if err != nil {
		t.Fatalf("DialHTTPS: %v", err)
	}
	t.Cleanup(closeIdle)
	return s
}

// seen returns copies of the voucher requests, the request paths and the
// last CSR that the registrar received.
func (fr *fakeRegistrar) seen() ([][]byte, []string, *x509.CertificateRequest) {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	return append([][]byte(nil), fr.requests...), append([]string(nil), fr.paths...), fr.csr
}

func (fr *fakeRegistrar) reportsOf(path string) []statusReport {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	return append([]statusReport(nil), fr.reports[path]...)
}
