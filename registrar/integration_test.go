package registrar

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/brski-eap/brski/devid"
	"github.com/brski-eap/brski/masa"
	"github.com/brski-eap/brski/store"
	"github.com/brski-eap/brski/voucher"
)

// newDomainPolicy accepts expected devices without history in another
// domain.
const newDomainPolicy = `
rule "expected-new" {
  expected = true
  outcome  = "accept"
  audit_log {
    other_domains = 0
  }
}
default {
  outcome = "reject"
}
`

// testRegistrarFor returns a registrar of a new domain that trusts the
// factory of m. Fields that opts leaves zero get the defaults of the test:
// a new domain, newDomainPolicy, the factory of m and a client for m.
func testRegistrarFor(t *testing.T, m *testMASA, st Store, opts Options) (*Registrar,
	*testDomain) {
	t.Helper()
	d := &testDomain{ca: opts.DomainCA, cert: opts.Cert}
	if opts.DomainCA == nil {
		d = newTestDomain(t)
	}
	opts.DomainCA, opts.Cert, opts.Store = d.ca, d.cert, st
	if opts.Policy == nil {
		opts.Policy = parsePolicy(t, newDomainPolicy)
	}
	if opts.Manufacturers == nil {
		opts.Manufacturers = []Manufacturer{m.manufacturer()}
	}
	if opts.MASA == nil {
		opts.MASA = m.client(t, d.cert)
	}
	r, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r, d
}

// checkVoucher verifies a voucher as a pledge does and returns the pinned
// domain certificate.
func checkVoucher(t *testing.T, m *testMASA, p *testPledge, body []byte) *x509.Certificate {
	t.Helper()
	so, err := voucher.ParseSigned(body)
	if err != nil {
		t.Fatalf("voucher is not CMS: %v", err)
	}
	if _, err := so.Verify(voucher.VerifyOptions{Roots: chainPool([]*x509.Certificate{
		m.factory.CA})}); err != nil {
		t.Fatalf("voucher does not verify with the factory CA: %v", err)
	}
	v, err := voucher.ParseVoucher(so.Content)
	if err != nil {
		t.Fatalf("ParseVoucher: %v", err)
	}
	if !bytes.Equal(v.Nonce, p.nonce) || v.SerialNumber != p.dev.SerialNumber {
		t.Fatalf("voucher nonce %x serial %q, want %x %q", v.Nonce, v.SerialNumber, p.nonce,
			p.dev.SerialNumber)
	}
	pinned, err := x509.ParseCertificate(v.PinnedDomainCert)
	if err != nil {
		t.Fatalf("pinned-domain-cert: %v", err)
	}
	if _, err := p.registrar.Verify(x509.VerifyOptions{Roots: chainPool(
		[]*x509.Certificate{pinned})}); err != nil {
		t.Fatalf("registrar certificate does not chain to the pinned-domain-cert: %v", err)
	}
	return pinned
}

// enroll runs simpleenroll on the pledge's connection and returns the
// LDevID.
func enroll(t *testing.T, p *testPledge) *x509.Certificate {
	t.Helper()
	csr := newCSR(t, newKey(t), pkix.Name{CommonName: "pledge",
		SerialNumber: p.dev.SerialNumber})
	resp, body := p.do(t, http.MethodPost, PathSimpleEnroll, "application/pkcs10", b64(csr))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("simpleenroll status = %d; body %q", resp.StatusCode, body)
	}
	return parseCertsOnly(t, body)[0]
}

func mintDevice(t *testing.T, m *testMASA, serial string) *masa.Device {
	t.Helper()
	dev, err := m.factory.Mint(serial, "router")
	if err != nil {
		t.Fatalf("Mint: %v", err)
	}
	return dev
}

// openTestStore opens a SQL store in a temporary directory with serial in
// the expected-devices list.
func openTestStore(t *testing.T, serial string) *SQLStore {
	t.Helper()
	st, err := OpenStore(context.Background(), t.TempDir())
	if err != nil {
		t.Fatalf("OpenStore: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	err = st.DB.AddExpectedDevice(context.Background(), store.ExpectedDevice{Serial: serial})
	if err != nil {
		t.Fatalf("AddExpectedDevice: %v", err)
	}
	return st
}

// decisions returns the decisions that st recorded for serial.
func decisions(t *testing.T, st *SQLStore, serial string) []store.Enrollment {
	t.Helper()
	list, err := st.DB.Enrollments(context.Background(), serial)
	if err != nil {
		t.Fatalf("Enrollments: %v", err)
	}
	return list
}

func TestIntegrationTwoDomains(t *testing.T) {
	m := newTestMASA(t)
	dev := mintDevice(t, m, "SN-0001")

	st1 := openTestStore(t, "SN-0001")
	r1, d1 := testRegistrarFor(t, m, st1, Options{})
	p := dialPledge(t, serveRegistrar(t, r1), dev)
	resp, body := p.do(t, http.MethodPost, PathRequestVoucher, voucher.MediaType,
		p.voucherRequest(t))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("requestvoucher status = %d; body %q", resp.StatusCode, body)
	}
	if pinned := checkVoucher(t, m, p, body); !pinned.Equal(d1.ca.Cert) {
		t.Errorf("pinned-domain-cert is %q, want the domain CA", pinned.Subject)
	}
	ldevid := enroll(t, p)
	if _, err := ldevid.Verify(x509.VerifyOptions{Roots: chainPool([]*x509.Certificate{
		d1.ca.Cert}), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("LDevID does not chain to the domain CA: %v", err)
	}
	if sn, _ := devid.SerialNumber(ldevid); sn != "SN-0001" {
		t.Errorf("LDevID serialNumber = %q, want SN-0001", sn)
	}
	list := decisions(t, st1, "SN-0001")
	if len(list) != 1 {
		t.Fatalf("domain 1 recorded %d decisions, want 1", len(list))
	}
	dec := list[0]
	if dec.Outcome != "accept" || !strings.HasPrefix(dec.AuditLog, "1 events") {
		t.Errorf("domain 1 decision = %+v, want accept with our claim in the audit log", dec)
	}
	if !strings.Contains(dec.AuditLog, "0 other domains") {
		t.Errorf("domain 1 audit summary = %q, want no other domain", dec.AuditLog)
	}
	if dec.CertificateSerial == nil || dec.CertificateSerial.Cmp(ldevid.SerialNumber) != 0 {
		t.Errorf("decision certificate serial = %v, want the LDevID's %v",
			dec.CertificateSerial, ldevid.SerialNumber)
	}

	// A second domain with the default policy finds the first one in the
	// audit log and rejects.
	def, err := DefaultConfig()
	if err != nil {
		t.Fatal(err)
	}
	st2 := openTestStore(t, "SN-0001")
	r2, _ := testRegistrarFor(t, m, st2, Options{Policy: def.Policy})
	p2 := dialPledge(t, serveRegistrar(t, r2), dev)
	resp, body = p2.do(t, http.MethodPost, PathRequestVoucher, voucher.MediaType,
		p2.voucherRequest(t))
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("second domain status = %d, want 403; body %q", resp.StatusCode, body)
	}
	first := domainID(d1.ca.Cert)
	for _, want := range []string{"prior domain other than ours", first} {
		if !strings.Contains(string(body), want) {
			t.Errorf("rejection %q does not contain %q", body, want)
		}
	}
	list = decisions(t, st2, "SN-0001")
	if len(list) != 1 || list[0].Outcome != "reject" {
		t.Fatalf("domain 2 decisions = %+v, want one reject", list)
	}
	if !strings.Contains(list[0].Reason, first) {
		t.Errorf("domain 2 decision reason %q does not name domain %s", list[0].Reason, first)
	}
	resp, body = p2.do(t, http.MethodPost, PathSimpleEnroll, "application/pkcs10",
		b64(newCSR(t, newKey(t), pkix.Name{})))
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("enrollment after a reject: status = %d, want 403; body %q",
			resp.StatusCode, body)
	}
}

func TestIntegrationBootstrapTokenAlias(t *testing.T) {
	m := newTestMASA(t)
	dev := mintDevice(t, m, "SN-0002")
	st := newMemStore()
	st.expected["SN-0002"] = ExpectedDevice{Serial: "SN-0002"}
	r, _ := testRegistrarFor(t, m, st, Options{})
	p := dialPledge(t, serveRegistrar(t, r), dev)
	resp, body := p.do(t, http.MethodPost, PathRequestBootstrapToken, voucher.MediaType,
		p.voucherRequest(t))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("requestbootstraptoken status = %d; body %q", resp.StatusCode, body)
	}
	checkVoucher(t, m, p, body)
	enroll(t, p)
}

func TestIntegrationSlowMASA(t *testing.T) {
	m := newTestMASA(t)
	dev := mintDevice(t, m, "SN-0003")
	st := newMemStore()
	st.expected["SN-0003"] = ExpectedDevice{Serial: "SN-0003"}
	decided := make(chan int64, 1)
	r, _ := testRegistrarFor(t, m, st, Options{
		VoucherWait: 10 * time.Millisecond,
		RetryAfter:  3 * time.Second,
		OnDecision:  func(id int64, _ DecisionRecord) { decided <- id },
	})
	p := dialPledge(t, serveRegistrar(t, r), dev)
	arrived, release := m.holdVouchers()
	vr := p.voucherRequest(t)

	resp, body := p.do(t, http.MethodPost, PathRequestVoucher, voucher.MediaType, vr)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("status = %d, want 202; body %q", resp.StatusCode, body)
	}
	if got := resp.Header.Get("Retry-After"); got != strconv.Itoa(3) {
		t.Errorf("Retry-After = %q, want 3", got)
	}
	<-arrived
	// The retry while the MASA is still busy joins the same exchange.
	resp, _ = p.do(t, http.MethodPost, PathRequestVoucher, voucher.MediaType, vr)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("second status = %d, want 202", resp.StatusCode)
	}
	release()
	<-decided

	resp, body = p.do(t, http.MethodPost, PathRequestVoucher, voucher.MediaType, vr)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("retry status = %d, want 200; body %q", resp.StatusCode, body)
	}
	checkVoucher(t, m, p, body)
	if n := m.voucherRequests(); n != 1 {
		t.Errorf("MASA saw %d voucher requests, want 1", n)
	}
	if n := r.pending.len(); n != 0 {
		t.Errorf("%d pending exchanges remain after delivery, want 0", n)
	}
	enroll(t, p)
}

func TestIntegrationStatusTelemetry(t *testing.T) {
	m := newTestMASA(t)
	dev := mintDevice(t, m, "SN-0004")
	st := newMemStore()
	// A voucher status without an exchange in the session needs a known
	// device.
	st.expected["SN-0004"] = ExpectedDevice{Serial: "SN-0004"}
	r, _ := testRegistrarFor(t, m, st, Options{})
	p := dialPledge(t, serveRegistrar(t, r), dev)
	resp, body := p.do(t, http.MethodPost, PathVoucherStatus, "application/json",
		[]byte(`{"version":1,"status":false,"reason":"bad pin","reason-context":{"a":1}}`))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("voucher_status status = %d; body %q", resp.StatusCode, body)
	}
	resp, _ = p.do(t, http.MethodPost, PathEnrollStatus, "application/json",
		[]byte(`{"version":1}`))
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("enrollstatus without status: %d, want 400", resp.StatusCode)
	}
	if len(st.statuses) != 1 {
		t.Fatalf("store has %d status reports, want 1", len(st.statuses))
	}
	got := st.statuses[0]
	if got.Kind != "voucher" || got.Status || got.Reason != "bad pin" ||
		got.DeviceSerial != "SN-0004" || !got.Authenticated {
		t.Errorf("status report = %+v", got)
	}
}
