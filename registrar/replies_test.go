package registrar

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/brski-eap/brski/masa"
	"github.com/brski-eap/brski/masaclient"
	"github.com/brski-eap/brski/voucher"
)

// failingMASA answers every voucher request with err.
type failingMASA struct{ err error }

func (f failingMASA) RequestVoucher(context.Context, string, []byte) ([]byte, error) {
	return nil, f.err
}

func (f failingMASA) RequestAuditLog(context.Context, string, []byte) (*masa.AuditLog, error) {
	return nil, f.err
}

func TestRequestVoucherNeedsContentType(t *testing.T) {
	m := newTestMASA(t)
	dev := mintDevice(t, m, "SN-0700")
	r, _ := testRegistrarFor(t, m, openTestStore(t, "SN-0700"), Options{})
	p := dialPledge(t, serveRegistrar(t, r), dev)
	resp, body := p.doAccept(t, PathRequestVoucher, "", "", signRequest(t, p, nil, dev))
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("status %d, want 415; body %q", resp.StatusCode, body)
	}
}

// A pledge request without a nonce is rejected before the MASA sees it
// when the policy asks the MASA for the voucher.
func TestNoncelessPledgeRequestRejected(t *testing.T) {
	m := newTestMASA(t)
	dev := mintDevice(t, m, "SN-0701")
	r, _ := testRegistrarFor(t, m, openTestStore(t, "SN-0701"), Options{})
	p := dialPledge(t, serveRegistrar(t, r), dev)
	req := signRequest(t, p, func(v *voucher.Voucher) { v.Nonce = nil }, dev)
	resp, body := p.do(t, http.MethodPost, PathRequestVoucher, voucher.MediaType, req)
	if resp.StatusCode != http.StatusBadRequest ||
		!strings.Contains(string(body), "voucher request has no nonce") {
		t.Errorf("status %d, body %q; want 400 voucher request has no nonce",
			resp.StatusCode, body)
	}
	if n := m.voucherRequests(); n != 0 {
		t.Errorf("MASA saw %d voucher requests, want 0", n)
	}
}

// The pledge learns how the MASA failed without the MASA URL, package
// names or the MASA operator's text; the log and the store keep them.
func TestMASAFailureReplies(t *testing.T) {
	const url = "https://masa.invalid:9443/.well-known/brski/requestvoucher"
	rejected := &masaclient.StatusError{URL: url, Code: http.StatusForbidden,
		Message: "no nonceless voucher; the MASA operator adds it in an owner block"}
	tests := []struct {
		name   string
		err    error
		status int
		reason string
	}{
		{"4xx", rejected, http.StatusForbidden,
			"the MASA rejected the voucher request with 403 Forbidden"},
		{"500", &masaclient.StatusError{URL: url, Code: http.StatusInternalServerError,
			Message: "boom"}, http.StatusServiceUnavailable, "answered with an error"},
		{"unusable answer", fmt.Errorf("%w: %s: unexpected status 302",
			masaclient.ErrBadResponse, url), http.StatusServiceUnavailable,
			"answered with an error"},
		{"connection failure", fmt.Errorf("masaclient: dial %s: connection refused", url),
			http.StatusServiceUnavailable, "cannot be reached"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newTestMASA(t)
			dev := mintDevice(t, m, "SN-0702")
			logs := make(chan RequestLog, 4)
			r, _ := testRegistrarFor(t, m, openTestStore(t, "SN-0702"), Options{
				MASA:      failingMASA{tt.err},
				OnRequest: func(l RequestLog) { logs <- l }})
			p := dialPledge(t, serveRegistrar(t, r), dev)
			resp, body := p.do(t, http.MethodPost, PathRequestVoucher, voucher.MediaType,
				p.voucherRequest(t))
			text := string(body)
			if resp.StatusCode != tt.status || !strings.Contains(text, tt.reason) {
				t.Fatalf("status %d, body %q; want %d with %q", resp.StatusCode, text,
					tt.status, tt.reason)
			}
			for _, leak := range []string{"https://", "masaclient", "operator"} {
				if strings.Contains(text, leak) {
					t.Errorf("reply %q contains %q", text, leak)
				}
			}
			// OnRequest runs after the reply is written, so wait for it.
			if l := <-logs; !errors.Is(l.Err, tt.err) {
				t.Errorf("logged cause = %v, want %v", l.Err, tt.err)
			}
		})
	}
}
