package pledge

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/brski-eap/brski/voucher"
)

func TestRunEnrolls(t *testing.T) {
	pki := newTestPKI(t)
	fr := newFakeRegistrar(t, pki)
	fr.pending = 2
	san := pkix.Extension{Id: oidSubjectAltName,
		Value: []byte{0x30, 0x0b, 0x82, 0x09, 'p', 'l', 'e', 'd', 'g', 'e', '.', 'e', 'x'}}
	fr.csrAttrs = csrAttrsDER(t, signatureAlgorithms[0].oid, oidAttrSerialNumber,
		csrAttribute{Type: oidExtensionRequest,
			Values: []asn1.RawValue{rawOf(t, []pkix.Extension{san})}})
	p := pki.pledge()
	var kinds []EventKind
	p.Trace = func(e Event) { kinds = append(kinds, e.Kind) }
	res, err := p.Run(t.Context(), fr.session(t, p))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	wantKinds := []EventKind{EventVoucherRequested, EventRetry, EventRetry,
		EventVoucherVerified, EventCACerts, EventEnrolled}
	if diff := cmp.Diff(wantKinds, kinds); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	requests, _, csr := fr.seen()
	if len(requests) != 3 {
		t.Fatalf("registrar saw %d voucher requests, want 3", len(requests))
	}
	for i, req := range requests[1:] {
		if !bytes.Equal(req, requests[0]) {
			t.Errorf("retry %d changed the voucher request", i+1)
		}
	}
	if !res.Key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(
		res.LDevID.PublicKey) {
		t.Errorf("LDevID does not certify the returned key")
	}
	if got := res.LDevID.Subject.SerialNumber; got != testDeviceSerial {
		t.Errorf("LDevID serialNumber = %q, want %q", got, testDeviceSerial)
	}
	if diff := cmp.Diff([]string{"pledge.ex"}, csr.DNSNames); diff != "" {
		t.Errorf("CSR DNS names from csrattrs (-want +got):\n%s", diff)
	}
	if len(res.DomainCAs) != 1 || !res.DomainCAs[0].Equal(pki.domainCA.cert) {
		t.Errorf("DomainCAs are not the domain CA")
	}
	if !res.PinnedDomainCert.Equal(pki.domainCA.cert) {
		t.Errorf("PinnedDomainCert is not the domain CA")
	}
	want := []statusReport{{Version: 1, Status: true}}
	if diff := cmp.Diff(want, fr.reportsOf(pathVoucherStatus)); diff != "" {
		t.Errorf("voucher_status (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, fr.reportsOf(pathEnrollStatus)); diff != "" {
		t.Errorf("enrollstatus (-want +got):\n%s", diff)
	}
}

func TestRunNewNoncePerAttempt(t *testing.T) {
	pki := newTestPKI(t)
	fr := newFakeRegistrar(t, pki)
	p := pki.pledge()
	for range 2 {
		if _, err := p.Run(t.Context(), fr.session(t, p)); err != nil {
			t.Fatalf("Run: %v", err)
		}
	}
	var nonces [][]byte
	requests, _, _ := fr.seen()
	for _, body := range requests {
		obj, err := voucher.ParseSigned(body)
		if err != nil {
			t.Fatal(err)
		}
		req, err := voucher.ParseRequest(obj.Content)
		if err != nil {
			t.Fatal(err)
		}
		nonces = append(nonces, req.Nonce)
	}
	if len(nonces) != 2 || bytes.Equal(nonces[0], nonces[1]) {
		t.Errorf("two attempts sent nonces %x", nonces)
	}
}

func TestRunRejectsVoucher(t *testing.T) {
	pki := newTestPKI(t)
	otherDomain := newRootCA(t, "other domain CA")
	tests := []struct {
		name   string
		edit   func(v *voucher.Voucher)
		want   error
		reason string
	}{
		{"wrong nonce", func(v *voucher.Voucher) { v.Nonce = []byte("0000000000000000") },
			ErrNonceMismatch, "voucher nonce does not match the request"},
		{"other domain", func(v *voucher.Voucher) {
			v.PinnedDomainCert = otherDomain.cert.Raw
		}, ErrPinnedDomainCert, "registrar certificate does not match pinned-domain-cert"},
		{"other device", func(v *voucher.Voucher) { v.SerialNumber = "PLEDGE-0002" },
			ErrSerialMismatch, "voucher serial-number is not this device"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fr := newFakeRegistrar(t, pki)
			fr.editVoucher = tt.edit
			p := pki.pledge()
			_, err := p.Run(t.Context(), fr.session(t, p))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Run error = %v, want %v", err, tt.want)
			}
			want := []statusReport{{Version: 1, Status: false, Reason: tt.reason}}
			if diff := cmp.Diff(want, fr.reportsOf(pathVoucherStatus)); diff != "" {
				t.Errorf("voucher_status (-want +got):\n%s", diff)
			}
			_, paths, _ := fr.seen()
			for _, path := range paths {
				if path == pathCACerts || path == pathSimpleEnroll {
					t.Errorf("pledge continued to %s after rejecting the voucher", path)
				}
			}
		})
	}
}

func TestRunRegistrarError(t *testing.T) {
	pki := newTestPKI(t)
	fr := newFakeRegistrar(t, pki)
	fr.voucherStatus = http.StatusNotAcceptable
	p := pki.pledge()
	_, err := p.Run(t.Context(), fr.session(t, p))
	var se *StatusError
	if !errors.As(err, &se) {
		t.Fatalf("Run error = %v, want a *StatusError", err)
	}
	want := StatusError{Path: pathRequestVoucher, StatusCode: http.StatusNotAcceptable,
		Message: "device is not in the inventory"}
	if diff := cmp.Diff(want, *se); diff != "" {
		t.Errorf("StatusError (-want +got):\n%s", diff)
	}
	if got := fr.reportsOf(pathVoucherStatus); len(got) != 0 {
		t.Errorf("voucher_status sent without a voucher: %v", got)
	}
}

func TestRunRetryLimit(t *testing.T) {
	pki := newTestPKI(t)
	fr := newFakeRegistrar(t, pki)
	fr.pending = 10
	p := pki.pledge()
	p.RetryLimit = 3
	_, err := p.Run(t.Context(), fr.session(t, p))
	if !errors.Is(err, ErrRetryLimit) {
		t.Fatalf("Run error = %v, want ErrRetryLimit", err)
	}
	if requests, _, _ := fr.seen(); len(requests) != 4 {
		t.Errorf("registrar saw %d voucher requests, want 4", len(requests))
	}
}

func TestRunRejectsEnrollment(t *testing.T) {
	pki := newTestPKI(t)
	otherDomain := newRootCA(t, "other domain CA")
	tests := []struct {
		name   string
		setup  func(fr *fakeRegistrar)
		want   error
		reason string
	}{
		{"CA certificates of another domain", func(fr *fakeRegistrar) {
			fr.caCerts = []*x509.Certificate{otherDomain.cert}
		}, ErrDomainCA, "EST CA certificates do not match pinned-domain-cert"},
		{"LDevID for another key", func(fr *fakeRegistrar) { fr.wrongKey = true },
			ErrLDevID, "enrolled certificate is not valid"},
		{"LDevID from another CA", func(fr *fakeRegistrar) { fr.issuer = otherDomain },
			ErrLDevID, "enrolled certificate is not valid"},
		{"invalid csrattrs", func(fr *fakeRegistrar) { fr.csrAttrs = []byte{0x30, 0x05} },
			ErrCSRAttributes, "invalid CSR attributes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fr := newFakeRegistrar(t, pki)
			tt.setup(fr)
			p := pki.pledge()
			_, err := p.Run(t.Context(), fr.session(t, p))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Run error = %v, want %v", err, tt.want)
			}
			want := []statusReport{{Version: 1, Status: false, Reason: tt.reason}}
			if diff := cmp.Diff(want, fr.reportsOf(pathEnrollStatus)); diff != "" {
				t.Errorf("enrollstatus (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckDomainCAs(t *testing.T) {
	pki := newTestPKI(t)
	issuing := pki.domainCA.issue(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "issuing CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	})
	other := newRootCA(t, "other")
	tests := []struct {
		name   string
		cas    []*x509.Certificate
		pinned *x509.Certificate
		ok     bool
	}{
		{"pinned is the CA", []*x509.Certificate{pki.domainCA.cert}, pki.domainCA.cert, true},
		{"CA chains to pinned root", []*x509.Certificate{issuing.cert}, pki.domainCA.cert,
			true},
		{"pinned registrar issued by CA", []*x509.Certificate{pki.domainCA.cert},
			pki.registrar.cert, true},
		{"unrelated CA", []*x509.Certificate{other.cert}, pki.domainCA.cert, false},
		{"pinned registrar, unrelated CA", []*x509.Certificate{other.cert},
			pki.registrar.cert, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkDomainCAs(tt.cas, tt.pinned, testNow)
			if tt.ok && err != nil {
				t.Errorf("checkDomainCAs: %v", err)
			}
			if !tt.ok && !errors.Is(err, ErrDomainCA) {
				t.Errorf("checkDomainCAs error = %v, want ErrDomainCA", err)
			}
		})
	}
}

func TestRunEnrollStatusSession(t *testing.T) {
	errDial := errors.New("dial failed")
	tests := []struct {
		name       string
		reconnect  func(s *Session)
		wantFailed int // EventTelemetryFailed events
	}{
		{"reconnect with LDevID", func(s *Session) {}, 0},
		{"no reconnect, as in EAP-EST", func(s *Session) { s.Reconnect = nil }, 0},
		{"reconnect fails", func(s *Session) {
			s.Reconnect = func(context.Context, tls.Certificate, *x509.CertPool) (Session,
				func(), error) {
				return Session{}, nil, errDial
			}
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pki := newTestPKI(t)
			fr := newFakeRegistrar(t, pki)
			p := pki.pledge()
			var failed []error
			p.Trace = func(e Event) {
				if e.Kind == EventTelemetryFailed {
					failed = append(failed, e.Err)
				}
			}
			s := fr.session(t, p)
			tt.reconnect(&s)
			if _, err := p.Run(t.Context(), s); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if len(failed) != tt.wantFailed {
				t.Errorf("telemetry failures %v, want %d", failed, tt.wantFailed)
			}
			want := []statusReport{{Version: 1, Status: true}}
			if diff := cmp.Diff(want, fr.reportsOf(pathEnrollStatus)); diff != "" {
				t.Errorf("enrollstatus (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunRegistrarErrorMessageCapped(t *testing.T) {
	pki := newTestPKI(t)
	fr := newFakeRegistrar(t, pki)
	fr.voucherStatus = http.StatusForbidden
	fr.errorMessage = "\xff" + strings.Repeat("x", 10000)
	p := pki.pledge()
	_, err := p.Run(t.Context(), fr.session(t, p))
	var se *StatusError
	if !errors.As(err, &se) {
		t.Fatalf("Run error = %v, want a *StatusError", err)
	}
	if len(se.Message) != maxErrorMessage {
		t.Errorf("message length = %d, want %d", len(se.Message), maxErrorMessage)
	}
	if !utf8.ValidString(se.Error()) {
		t.Errorf("error text is not valid UTF-8")
	}
}

func TestRunRejectsVoucherMediaType(t *testing.T) {
	pki := newTestPKI(t)
	fr := newFakeRegistrar(t, pki)
	fr.voucherMedia = "application/json"
	p := pki.pledge()
	_, err := p.Run(t.Context(), fr.session(t, p))
	if !errors.Is(err, ErrVoucherMalformed) {
		t.Fatalf("Run error = %v, want ErrVoucherMalformed", err)
	}
}

func TestRunCanceledWhileWaiting(t *testing.T) {
	pki := newTestPKI(t)
	fr := newFakeRegistrar(t, pki)
	fr.pending = 1
	fr.retryAfter = "60"
	p := pki.pledge()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	p.Trace = func(e Event) {
		if e.Kind == EventRetry {
			cancel()
		}
	}
	_, err := p.Run(ctx, fr.session(t, p))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run error = %v, want context.Canceled", err)
	}
}

func TestRunRejectsConfiguration(t *testing.T) {
	pki := newTestPKI(t)
	fr := newFakeRegistrar(t, pki)
	good := fr.session(t, pki.pledge())
	tests := []struct {
		name    string
		pledge  func(p *Pledge)
		session func(s *Session)
	}{
		{"no IDevID", func(p *Pledge) { p.IDevID = tls.Certificate{} }, nil},
		{"key cannot sign", func(p *Pledge) { p.IDevID.PrivateKey = "not a key" }, nil},
		{"no MASA trust", func(p *Pledge) { p.MASATrust = nil }, nil},
		{"IDevID without serial", func(p *Pledge) {
			p.IDevID = pki.registrar.tlsCert()
		}, nil},
		{"no HTTP client", nil, func(s *Session) { s.HTTP = nil }},
		{"no registrar certificate", nil, func(s *Session) { s.RegistrarCert = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, s := pki.pledge(), good
			if tt.pledge != nil {
				tt.pledge(p)
			}
			if tt.session != nil {
				tt.session(&s)
			}
			if _, err := p.Run(t.Context(), s); err == nil {
				t.Fatal("Run succeeded")
			}
			if requests, _, _ := fr.seen(); len(requests) != 0 {
				t.Errorf("Run sent %d voucher requests with an invalid configuration",
					len(requests))
			}
		})
	}
}
