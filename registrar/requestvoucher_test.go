package registrar

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/brski-eap/brski/masa"
	"github.com/brski-eap/brski/store"
	"github.com/brski-eap/brski/voucher"
)

// signRequest signs a pledge voucher request that edit may change first.
func signRequest(t *testing.T, p *testPledge, edit func(*voucher.Voucher),
	signer *masa.Device) []byte {
	t.Helper()
	vr := &voucher.Voucher{CreatedOn: time.Now(), Assertion: voucher.AssertionProximity,
		SerialNumber: p.dev.SerialNumber, Nonce: []byte("0123456789abcdef"),
		ProximityRegistrarCert: p.registrar.Raw}
	if edit != nil {
		edit(vr)
	}
	content, err := vr.MarshalRequest()
	if err != nil {
		t.Fatal(err)
	}
	signed, err := voucher.Sign(content, signer.Certificate, signer.Key, nil)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

func TestRequestVoucherRejects(t *testing.T) {
	m := newTestMASA(t)
	dev := mintDevice(t, m, "SN-0100")
	other := mintDevice(t, m, "SN-0101")
	st := openTestStore(t, "SN-0100")
	r, _ := testRegistrarFor(t, m, st, Options{})
	addr := serveRegistrar(t, r)
	tests := []struct {
		name        string
		edit        func(*voucher.Voucher)
		signer      *masa.Device
		contentType string
		accept      string
		body        []byte
		want        int
		reason      string
	}{
		{name: "signed by another device", signer: other, want: http.StatusForbidden,
			reason: "not by the IDevID"},
		{name: "proximity cert differs", want: http.StatusUnauthorized,
			edit:   func(v *voucher.Voucher) { v.ProximityRegistrarCert = m.factory.CA.Raw },
			reason: "proximity-registrar-cert"},
		{name: "serial differs", want: http.StatusBadRequest,
			edit:   func(v *voucher.Voucher) { v.SerialNumber = "SN-0101" },
			reason: "does not match the IDevID"},
		{name: "assertion logged", want: http.StatusBadRequest,
			edit:   func(v *voucher.Voucher) { v.Assertion = voucher.AssertionLogged },
			reason: "must assert"},
		{name: "created in the future", want: http.StatusBadRequest,
			edit:   func(v *voucher.Voucher) { v.CreatedOn = time.Now().Add(48 * time.Hour) },
			reason: "in the future"},
		{name: "wrong media type", contentType: "application/json",
			want: http.StatusUnsupportedMediaType, reason: "not supported"},
		{name: "not CMS", body: []byte("hello"), want: http.StatusBadRequest,
			reason: "voucher request"},
		{name: "accept json only", accept: "application/json", want: http.StatusNotAcceptable,
			reason: "Accept"},
		{name: "accept voucher with q=0", accept: voucher.MediaType + ";q=0, text/plain",
			want: http.StatusNotAcceptable, reason: "Accept"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := dialPledge(t, addr, dev)
			signer := dev
			if tt.signer != nil {
				signer = tt.signer
			}
			body := tt.body
			if body == nil {
				body = signRequest(t, p, tt.edit, signer)
			}
			ct := voucher.MediaType
			if tt.contentType != "" {
				ct = tt.contentType
			}
			resp, got := p.doAccept(t, PathRequestVoucher, ct, tt.accept, body)
			if resp.StatusCode != tt.want {
				t.Fatalf("status = %d, want %d; body %q", resp.StatusCode, tt.want, got)
			}
			if tt.want == http.StatusUnauthorized && !resp.Close {
				t.Error("401 does not close the connection")
			}
			if !strings.Contains(string(got), tt.reason) {
				t.Errorf("body %q does not contain %q", got, tt.reason)
			}
		})
	}
	if n := m.voucherRequests(); n != 0 {
		t.Errorf("MASA saw %d voucher requests for invalid pledge requests, want 0", n)
	}
}

func TestRequestVoucherUntrustedPledge(t *testing.T) {
	m := newTestMASA(t)
	st := openTestStore(t, "SN-0200")
	r, _ := testRegistrarFor(t, m, st, Options{})
	addr := serveRegistrar(t, r)
	foreign := newTestCA(t, "other factory")
	key := newKey(t)
	dev := &masa.Device{SerialNumber: "SN-0200", Key: key,
		Certificate: foreign.issue(t, key, "SN-0200", x509.ExtKeyUsageClientAuth)}
	p := dialPledge(t, addr, dev)
	resp, body := p.do(t, http.MethodPost, PathRequestVoucher, voucher.MediaType,
		p.voucherRequest(t))
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status = %d, want 403; body %q", resp.StatusCode, body)
	}
	if !strings.Contains(string(body), "IDevID") {
		t.Errorf("rejection %q does not mention the missing IDevID", body)
	}
	list := decisions(t, st, "SN-0200")
	if len(list) != 1 || list[0].Outcome != "reject" {
		t.Errorf("decisions = %+v, want one reject", list)
	}
}

// unreachableMASA fails every request as a network error would.
type unreachableMASA struct{}

func (unreachableMASA) RequestVoucher(context.Context, string, []byte) ([]byte, error) {
	return nil, errors.New("dial tcp 127.0.0.1:1: connection refused")
}

func (unreachableMASA) RequestAuditLog(context.Context, string, []byte) (*masa.AuditLog,
	error) {
	return nil, errors.New("dial tcp 127.0.0.1:1: connection refused")
}

func TestRequestVoucherMASAUnreachable(t *testing.T) {
	m := newTestMASA(t)
	dev := mintDevice(t, m, "SN-0300")
	st := openTestStore(t, "SN-0300")
	var logs []RequestLog
	r, _ := testRegistrarFor(t, m, st, Options{MASA: unreachableMASA{},
		OnRequest: func(l RequestLog) { logs = append(logs, l) }})
	p := dialPledge(t, serveRegistrar(t, r), dev)
	resp, body := p.do(t, http.MethodPost, PathRequestVoucher, voucher.MediaType,
		p.voucherRequest(t))
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status = %d, want 503; body %q", resp.StatusCode, body)
	}
	if resp.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if strings.Contains(string(body), "connection refused") {
		t.Errorf("body %q shows the internal cause", body)
	}
	if len(logs) != 1 || logs[0].Err == nil {
		t.Fatalf("request logs = %+v, want one with the cause", logs)
	}
	if n := len(decisions(t, st, "SN-0300")); n != 0 {
		t.Errorf("store has %d decisions after a MASA outage, want 0", n)
	}
}

func TestRequestVoucherSkipMASA(t *testing.T) {
	m := newTestMASA(t)
	dev := mintDevice(t, m, "LAB-1")
	st := openTestStore(t, "LAB-1")
	r, _ := testRegistrarFor(t, m, st, Options{Policy: parsePolicy(t, `
rule "lab" {
  serial  = "LAB-*"
  voucher = "skip"
  outcome = "quarantine"
  vlan    = 99
}
default {
  outcome = "reject"
}
`)})
	p := dialPledge(t, serveRegistrar(t, r), dev)
	resp, body := p.do(t, http.MethodPost, PathRequestVoucher, voucher.MediaType,
		p.voucherRequest(t))
	if resp.StatusCode != http.StatusNoContent || len(body) != 0 {
		t.Fatalf("status = %d with %d bytes, want 204 without voucher", resp.StatusCode,
			len(body))
	}
	if n := m.voucherRequests(); n != 0 {
		t.Errorf("MASA saw %d voucher requests, want 0", n)
	}
	enroll(t, p)
	list := decisions(t, st, "LAB-1")
	if len(list) != 1 || list[0].Outcome != "quarantine" {
		t.Fatalf("decisions = %+v, want one quarantine", list)
	}
	if !strings.Contains(strings.Join(list[0].Modes, ","), "skip") {
		t.Errorf("decision modes = %v, want the skip-MASA mode", list[0].Modes)
	}
}

func TestRequestVoucherNoncelessCached(t *testing.T) {
	d := newTestDomain(t)
	m := newTestMASA(t, func(c *masa.Config) {
		c.Owners = map[string][]*x509.Certificate{masa.AnyDevice: {d.ca.Cert}}
	})
	dev := mintDevice(t, m, "AIR-1")
	st := openTestStore(t, "AIR-1")
	r, _ := testRegistrarFor(t, m, st, Options{DomainCA: d.ca, Cert: d.cert,
		Policy: parsePolicy(t, `
rule "air-gap" {
  expected = true
  voucher  = "nonceless-cached"
  outcome  = "accept"
}
default {
  outcome = "reject"
}
`)})
	// Fetch a nonceless voucher as an orchestrator would in advance.
	rvr := &voucher.Voucher{CreatedOn: time.Now(), SerialNumber: "AIR-1",
		Assertion: voucher.AssertionProximity}
	content, err := rvr.MarshalRequest()
	if err != nil {
		t.Fatal(err)
	}
	signed, err := voucher.Sign(content, d.cert.Leaf(), d.cert.Key,
		&voucher.SignOptions{Certificates: d.cert.Chain[1:]})
	if err != nil {
		t.Fatal(err)
	}
	cms, err := m.client(t, d.cert).RequestVoucher(context.Background(), m.ts.URL, signed)
	if err != nil {
		t.Fatalf("fetch nonceless voucher: %v", err)
	}
	err = st.DB.PutCachedVoucher(context.Background(), store.CachedVoucher{
		DeviceSerial: "AIR-1", Voucher: cms})
	if err != nil {
		t.Fatal(err)
	}
	before := m.voucherRequests()

	p := dialPledge(t, serveRegistrar(t, r), dev)
	resp, body := p.do(t, http.MethodPost, PathRequestVoucher, voucher.MediaType,
		p.voucherRequest(t))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %q", resp.StatusCode, body)
	}
	if string(body) != string(cms) {
		t.Error("the registrar did not return the cached voucher")
	}
	if n := m.voucherRequests() - before; n != 0 {
		t.Errorf("MASA saw %d voucher requests during bootstrapping, want 0", n)
	}
	enroll(t, p)
	list := decisions(t, st, "AIR-1")
	if len(list) != 1 || !strings.Contains(strings.Join(list[0].Modes, ","), "nonceless") {
		t.Errorf("decisions = %+v, want one with the nonceless-cached mode", list)
	}
}

func TestEnrollOnOtherConnection(t *testing.T) {
	m := newTestMASA(t)
	dev := mintDevice(t, m, "SN-0400")
	st := openTestStore(t, "SN-0400")
	r, _ := testRegistrarFor(t, m, st, Options{})
	addr := serveRegistrar(t, r)
	p := dialPledge(t, addr, dev)
	resp, body := p.do(t, http.MethodPost, PathRequestVoucher, voucher.MediaType,
		p.voucherRequest(t))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("requestvoucher status = %d; body %q", resp.StatusCode, body)
	}
	// A second TLS connection is a new session without a voucher exchange.
	p2 := dialPledge(t, addr, dev)
	csr := newCSR(t, newKey(t), pkix.Name{SerialNumber: "SN-0400"})
	resp, _ = p2.do(t, http.MethodPost, PathSimpleEnroll, "application/pkcs10", b64(csr))
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("enrollment on another connection: status = %d, want 403", resp.StatusCode)
	}
}

func TestCertMemoKeepsLatestCertificates(t *testing.T) {
	ca := newTestCA(t, "memo test")
	var certs []*x509.Certificate
	for i := range maxMemoCerts + 2 {
		certs = append(certs, ca.issue(t, newKey(t), fmt.Sprintf("MEMO-%d", i),
			x509.ExtKeyUsageClientAuth))
	}
	var m certMemo
	if got := m.get(); len(got) != 0 {
		t.Fatalf("new memo has %d certificates, want 0", len(got))
	}
	m.remember(certs[:1])
	if got := m.get(); len(got) != 1 || got[0] != certs[0] {
		t.Errorf("memo after one certificate = %v, want certs[0]", got)
	}
	m.remember(certs)
	got := m.get()
	if len(got) != maxMemoCerts {
		t.Fatalf("memo keeps %d certificates, want %d", len(got), maxMemoCerts)
	}
	for i, c := range got {
		if c != certs[i] {
			t.Errorf("memo certificate %d is not certs[%d]", i, i)
		}
	}
	certs[0] = nil
	if m.get()[0] == nil {
		t.Error("memo shares the caller's slice, want a copy")
	}
}
