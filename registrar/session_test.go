package registrar

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/brski-eap/brski/policies"
	"github.com/brski-eap/brski/voucher"
)

// tunnelRequest builds a request as the EAP-EST layer passes it: the TLS
// state of the tunnel with the IDevID, in the tunnel's session context.
func tunnelRequest(ctx context.Context, path, contentType string, body []byte,
	certs []*x509.Certificate) *http.Request {
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.TLS = &tls.ConnectionState{PeerCertificates: certs}
	return req
}

func TestTunnelSessionNASFacts(t *testing.T) {
	m := newTestMASA(t)
	dev := mintDevice(t, m, "NAS-1")
	st := openTestStore(t, "NAS-1")
	r, d := testRegistrarFor(t, m, st, Options{Policy: parsePolicy(t, `
rule "floor-switch" {
  nas_client = ["switch-1"]
  expected   = true
  outcome    = "accept"
  vlan       = 42
}
default {
  outcome = "reject"
}
`)})
	p := &testPledge{dev: dev, registrar: d.cert.Leaf()}
	tests := []struct {
		name   string
		client string
		want   int
		vlan   int
	}{
		{"matching NAS", "switch-1", http.StatusOK, 42},
		{"other NAS", "switch-2", http.StatusForbidden, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := WithNASFacts(NewSessionContext(context.Background()),
				NASFacts{ClientName: tt.client, CallingStationID: "02-00-00-00-00-01"})
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, tunnelRequest(ctx, PathRequestVoucher, voucher.MediaType,
				p.voucherRequest(t), []*x509.Certificate{dev.Certificate}))
			if rec.Code != tt.want {
				t.Fatalf("status = %d, want %d; body %q", rec.Code, tt.want, rec.Body)
			}
			dec, ok := SessionDecision(ctx)
			if !ok {
				t.Fatal("SessionDecision found no decision in the tunnel's session")
			}
			if dec.Reply.VLAN.ID != tt.vlan {
				t.Errorf("decision VLAN = %v, want %d", dec.Reply.VLAN, tt.vlan)
			}
			if tt.want != http.StatusOK {
				if dec.Outcome != policies.OutcomeReject {
					t.Errorf("decision outcome = %v, want reject", dec.Outcome)
				}
				return
			}
			if SessionEnrolled(ctx) {
				t.Error("SessionEnrolled before simpleenroll")
			}
			csr := newCSR(t, newKey(t), pkix.Name{SerialNumber: "NAS-1"})
			rec = httptest.NewRecorder()
			r.ServeHTTP(rec, tunnelRequest(ctx, PathSimpleEnroll, "application/pkcs10",
				b64(csr), []*x509.Certificate{dev.Certificate}))
			if rec.Code != http.StatusOK {
				t.Errorf("simpleenroll in the tunnel: status = %d; body %q", rec.Code,
					rec.Body)
			}
			if !SessionEnrolled(ctx) {
				t.Error("SessionEnrolled after simpleenroll = false")
			}
		})
	}
}

func TestSessionDecisionWithoutSession(t *testing.T) {
	if _, ok := SessionDecision(context.Background()); ok {
		t.Error("SessionDecision reported a decision for a context without session")
	}
	if SessionEnrolled(context.Background()) {
		t.Error("SessionEnrolled for a context without session")
	}
	if _, ok := NASFactsFrom(context.Background()); ok {
		t.Error("NASFactsFrom reported facts for a context without them")
	}
}

func TestPendingTableLimitAndExpiry(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	pt := newPendingTable(time.Minute, clock)
	hold := make(chan struct{})
	block := func(func(string)) (*exchangeResult, error) {
		<-hold
		return &exchangeResult{}, nil
	}
	for i := range maxPending {
		if pt.start(fmt.Sprint(i), nil, block) == nil {
			t.Fatalf("start %d returned nil below the limit", i)
		}
	}
	if e := pt.start("one more", nil, block); e != nil {
		t.Fatal("start beyond maxPending returned an entry")
	}
	if e := pt.start("0", nil, block); e == nil {
		t.Fatal("start of a running key returned nil, want the running entry")
	}
	close(hold)
	for i := range maxPending {
		e := pt.start(fmt.Sprint(i), nil, block)
		<-e.done
	}
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	if e := pt.start("after expiry", nil, block); e == nil {
		t.Fatal("start after expiry returned nil")
	}
	if n := pt.len(); n != 1 {
		t.Errorf("%d entries after expiry, want 1", n)
	}
}

func TestRejectWithdrawsGrant(t *testing.T) {
	m := newTestMASA(t)
	dev := mintDevice(t, m, "NAS-2")
	st := openTestStore(t, "NAS-2")
	r, d := testRegistrarFor(t, m, st, Options{Policy: parsePolicy(t, `
rule "floor-switch" {
  nas_client = ["switch-1"]
  expected   = true
  outcome    = "accept"
}
default {
  outcome = "reject"
}
`)})
	p := &testPledge{dev: dev, registrar: d.cert.Leaf()}
	certs := []*x509.Certificate{dev.Certificate}
	session := NewSessionContext(context.Background())
	accepted := WithNASFacts(session, NASFacts{ClientName: "switch-1"})
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, tunnelRequest(accepted, PathRequestVoucher, voucher.MediaType,
		p.voucherRequest(t), certs))
	if rec.Code != http.StatusOK {
		t.Fatalf("first exchange: status = %d; body %q", rec.Code, rec.Body)
	}
	rejected := WithNASFacts(session, NASFacts{ClientName: "switch-2"})
	rec = httptest.NewRecorder()
	r.ServeHTTP(rec, tunnelRequest(rejected, PathRequestVoucher, voucher.MediaType,
		p.voucherRequest(t), certs))
	if rec.Code != http.StatusForbidden {
		t.Fatalf("second exchange: status = %d, want 403; body %q", rec.Code, rec.Body)
	}
	csr := newCSR(t, newKey(t), pkix.Name{SerialNumber: "NAS-2"})
	rec = httptest.NewRecorder()
	r.ServeHTTP(rec, tunnelRequest(rejected, PathSimpleEnroll, "application/pkcs10",
		b64(csr), certs))
	if rec.Code != http.StatusForbidden {
		t.Errorf("enrollment after the reject: status = %d, want 403", rec.Code)
	}
}

// TestSessionEnrolledAfterNewExchange checks that SessionEnrolled stays
// true when a voucher exchange follows the session's enrollment, because
// the LDevID that the session issued stays valid.
func TestSessionEnrolledAfterNewExchange(t *testing.T) {
	m := newTestMASA(t)
	dev := mintDevice(t, m, "NAS-3")
	st := openTestStore(t, "NAS-3")
	r, d := testRegistrarFor(t, m, st, Options{})
	p := &testPledge{dev: dev, registrar: d.cert.Leaf()}
	certs := []*x509.Certificate{dev.Certificate}
	session := NewSessionContext(context.Background())
	steps := []struct {
		name         string
		path         string
		wantStatus   int
		wantEnrolled bool
	}{
		{"voucher exchange", PathRequestVoucher, http.StatusOK, false},
		{"enrollment", PathSimpleEnroll, http.StatusOK, true},
		{"second voucher exchange", PathRequestVoucher, http.StatusOK, true},
	}
	for _, st := range steps {
		var req *http.Request
		if st.path == PathRequestVoucher {
			req = tunnelRequest(session, st.path, voucher.MediaType, p.voucherRequest(t), certs)
		} else {
			csr := newCSR(t, newKey(t), pkix.Name{SerialNumber: "NAS-3"})
			req = tunnelRequest(session, st.path, "application/pkcs10", b64(csr), certs)
		}
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		if rec.Code != st.wantStatus {
			t.Fatalf("%s: status = %d, want %d; body %q", st.name, rec.Code, st.wantStatus,
				rec.Body)
		}
		if got := SessionEnrolled(session); got != st.wantEnrolled {
			t.Errorf("%s: SessionEnrolled = %v, want %v", st.name, got, st.wantEnrolled)
		}
	}
}
