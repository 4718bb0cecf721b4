package masa_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/brski-eap/brski/devid"
	"github.com/brski-eap/brski/masa"
	"github.com/brski-eap/brski/masaclient"
	"github.com/brski-eap/brski/voucher"
	"github.com/google/go-cmp/cmp"
)

// verifyVoucher checks the voucher's signature against the factory CA and,
// separately, against the voucher-signing certificate alone, since a pledge
// may hold either as its MASA trust anchor (RFC 8995, Section 5.6.1).
func verifyVoucher(t *testing.T, e *env, signed []byte) *voucher.Voucher {
	t.Helper()
	so, err := voucher.ParseSigned(signed)
	if err != nil {
		t.Fatal(err)
	}
	for name, anchor := range map[string]*x509.Certificate{"factory CA": e.factory.CA,
		"signing certificate": e.factory.SigningCert} {
		roots := newPool(anchor)
		if _, err := so.Verify(voucher.VerifyOptions{Roots: roots}); err != nil {
			t.Errorf("voucher does not verify with the %s as anchor: %v", name, err)
		}
	}
	v, err := voucher.ParseVoucher(so.Content)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Validate(); err != nil {
		t.Errorf("invalid voucher: %v", err)
	}
	return v
}

func TestEndToEnd(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	nonce := []byte("first-nonce-0123")
	req := e.claim(nonce)

	signed, err := e.client.RequestVoucher(ctx, e.url, req)
	if err != nil {
		t.Fatal(err)
	}
	v := verifyVoucher(t, e, signed)
	if !bytes.Equal(v.PinnedDomainCert, e.domain.ca.Raw) {
		t.Error("voucher does not pin the domain CA")
	}
	got := []string{v.SerialNumber, string(v.Nonce), string(v.Assertion)}
	want := []string{"SN-0001", string(nonce), "logged"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("serial, nonce, assertion (-want +got):\n%s", diff)
	}
	if !v.CreatedOn.Equal(e.clock.Now()) {
		t.Errorf("created-on = %v, want %v", v.CreatedOn, e.clock.Now())
	}
	if !v.ExpiresOn.IsZero() {
		t.Errorf("nonced voucher has expires-on %v", v.ExpiresOn)
	}
	if c := v.DomainCertRevocationChecks; c == nil || *c {
		t.Errorf("domain-cert-revocation-checks = %v, want false", c)
	}

	// A second claim inside the rate interval is refused with Retry-After.
	e.clock.Advance(15 * time.Second)
	_, err = e.client.RequestVoucher(ctx, e.url, e.claim([]byte("second-nonce")))
	var se *masaclient.StatusError
	if !errors.As(err, &se) || !errors.Is(err, masaclient.ErrServiceUnavailable) {
		t.Fatalf("second claim: error = %v, want a 503 StatusError", err)
	}
	if se.RetryAfter != 45*time.Second {
		t.Errorf("Retry-After = %v, want 45s", se.RetryAfter)
	}

	first := e.clock.Now().Add(-15 * time.Second)
	wantLog := []masa.AuditEvent{{Date: first, DomainID: devid.DomainID(e.domain.ca),
		Nonce: strPtr(base64.StdEncoding.EncodeToString(nonce)), Assertion: "logged"}}
	e.checkAuditLog(t, req, wantLog)

	// After the interval the device can be claimed again.
	e.clock.Advance(time.Minute)
	nonce2 := []byte("third-nonce-4567")
	if _, err := e.client.RequestVoucher(ctx, e.url, e.claim(nonce2)); err != nil {
		t.Fatal(err)
	}
	wantLog = append(wantLog, masa.AuditEvent{Date: e.clock.Now(),
		DomainID: devid.DomainID(e.domain.ca),
		Nonce:    strPtr(base64.StdEncoding.EncodeToString(nonce2)), Assertion: "logged"})
	e.checkAuditLog(t, req, wantLog)
}

func (e *env) checkAuditLog(t *testing.T, req []byte, want []masa.AuditEvent) {
	t.Helper()
	log, err := e.client.RequestAuditLog(context.Background(), e.url, req)
	if err != nil {
		t.Fatal(err)
	}
	wantLog := &masa.AuditLog{Version: "1", Events: want}
	if diff := cmp.Diff(wantLog, log, cmp.Comparer(func(a, b time.Time) bool {
		return a.Equal(b)
	})); diff != "" {
		t.Errorf("audit log (-want +got):\n%s", diff)
	}
}

func TestRegistrarWithoutCmcRA(t *testing.T) {
	e := newEnv(t, nil)
	nonce := []byte("nonce-without-ra")
	dom := newDomain(t, "Plain Domain CA", false)
	req := e.registrarRequest(dom, e.device.SerialNumber, nonce,
		e.pledgeRequest(e.device, nonce, dom.registrar))
	_, err := e.client.RequestVoucher(context.Background(), e.url, req)
	if !errors.Is(err, masaclient.ErrForbidden) {
		t.Fatalf("error = %v, want ErrForbidden", err)
	}
	_, err = e.client.RequestAuditLog(context.Background(), e.url, req)
	if !errors.Is(err, masaclient.ErrForbidden) {
		t.Fatalf("audit log: error = %v, want ErrForbidden", err)
	}
}

func strPtr(s string) *string { return &s }
