package masa_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/brski-eap/brski/masa"
	"github.com/brski-eap/brski/voucher"
)

var voucherHeader = map[string]string{"Content-Type": voucher.MediaType}

// A replayed registrar voucher request gets the voucher that its nonce
// already received. It adds no audit log event and does not start a new
// rate interval, so a replayer cannot lock the real registrar out.
func TestReplayedRequestGetsStoredVoucher(t *testing.T) {
	e := newEnv(t, nil)
	req := e.claim([]byte("replayed-nonce-1"))
	status, _, first := e.post(t, "POST", masa.PathRequestVoucher, voucherHeader, req)
	if status != http.StatusOK {
		t.Fatalf("first request: status %d: %s", status, first)
	}
	e.clock.Advance(2 * time.Minute)
	status, _, again := e.post(t, "POST", masa.PathRequestVoucher, voucherHeader, req)
	if status != http.StatusOK || !bytes.Equal(again, first) {
		t.Fatalf("replay: status %d, same voucher %t; want 200 and the stored voucher",
			status, bytes.Equal(again, first))
	}
	fresh := e.claim([]byte("replayed-nonce-2"))
	if status, _, body := e.post(t, "POST", masa.PathRequestVoucher, voucherHeader,
		fresh); status != http.StatusOK {
		t.Fatalf("fresh request after the replay: status %d: %s", status, body)
	}
	log, err := e.client.RequestAuditLog(context.Background(), e.url, fresh)
	if err != nil {
		t.Fatal(err)
	}
	if len(log.Events) != 2 {
		t.Errorf("audit log has %d events, want 2 (the replay adds none)", len(log.Events))
	}
	e.logMu.Lock()
	defer e.logMu.Unlock()
	if got := e.logs[1].Outcome; got != masa.OutcomeVoucherRepeated {
		t.Errorf("outcome of the replay = %q, want %q", got, masa.OutcomeVoucherRepeated)
	}
}

// Another domain that wraps a pledge request whose nonce already got a
// voucher is rejected.
func TestReusedNonceOtherDomain(t *testing.T) {
	e := newEnv(t, func(c *masa.Config) { c.RateInterval = time.Nanosecond })
	nonce := []byte("reused-nonce-012")
	prior := e.pledgeRequest(e.device, nonce, nil)
	req := e.registrarRequest(e.domain, e.device.SerialNumber, nonce, prior)
	if status, _, body := e.post(t, "POST", masa.PathRequestVoucher, voucherHeader,
		req); status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	other := e.registrarRequest(newDomain(t, "Other", true), e.device.SerialNumber, nonce,
		prior)
	status, _, body := e.post(t, "POST", masa.PathRequestVoucher, voucherHeader, other)
	if status != http.StatusConflict {
		t.Errorf("status %d, want 409: %s", status, body)
	}
}

func TestCreatedOnSkew(t *testing.T) {
	tests := []struct {
		name   string
		shift  time.Duration // created-on relative to the MASA clock
		omit   bool
		skew   time.Duration
		status int
	}{
		{name: "now", status: http.StatusOK},
		{name: "9 min old", shift: -9 * time.Minute, status: http.StatusOK},
		{name: "11 min old", shift: -11 * time.Minute, status: http.StatusBadRequest},
		{name: "11 min ahead", shift: 11 * time.Minute, status: http.StatusBadRequest},
		{name: "missing", omit: true, status: http.StatusBadRequest},
		{name: "configured 1h", shift: -30 * time.Minute, skew: time.Hour,
			status: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *masa.Config) { c.MaxClockSkew = tt.skew })
			nonce := []byte("skew-nonce-01234")
			v := &voucher.Voucher{CreatedOn: e.clock.Now().Add(tt.shift),
				SerialNumber: e.device.SerialNumber, Nonce: nonce,
				PriorSignedVoucherRequest: e.pledgeRequest(e.device, nonce, nil)}
			if tt.omit {
				v.CreatedOn = time.Time{}
			}
			req := e.signRegistrar(v)
			status, _, body := e.post(t, "POST", masa.PathRequestVoucher, voucherHeader, req)
			if status != tt.status {
				t.Errorf("status %d, want %d: %s", status, tt.status, body)
			}
		})
	}
}

// signRegistrar signs v as the env domain's registrar.
func (e *env) signRegistrar(v *voucher.Voucher) []byte {
	e.t.Helper()
	content, err := v.MarshalRequest()
	if err != nil {
		e.t.Fatal(err)
	}
	signed, err := voucher.Sign(content, e.domain.registrar, e.domain.registrarKey,
		&voucher.SignOptions{Certificates: []*x509.Certificate{e.domain.ca}})
	if err != nil {
		e.t.Fatal(err)
	}
	return signed
}

// A body that stalls until ReadTimeout gets a readable 400, because the
// write deadline lies beyond the read deadline.
func TestStalledBodyGets400(t *testing.T) {
	e := newEnv(t, func(c *masa.Config) { c.ReadTimeout = 300 * time.Millisecond })
	addr := strings.TrimPrefix(e.url, "https://")
	conn, err := tls.Dial("tcp", addr, tlsConfig(newPool(e.factory.CA)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\n"+
		"Content-Length: 1000\r\n\r\n0", masa.PathRequestVoucher, voucher.MediaType)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the response body: %v", err)
	}
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status %d, want 400: %s", resp.StatusCode, body)
	}
	if strings.Contains(string(body), "127.0.0.1") {
		t.Errorf("400 body %q shows socket addresses", body)
	}
}

func TestUnknownRouteListsRoutes(t *testing.T) {
	e := newEnv(t, nil)
	for _, path := range []string{"/", "/.well-known/brski/nothing"} {
		status, _, body := e.post(t, "GET", path, nil, nil)
		if status != http.StatusNotFound || !bytes.Contains(body, []byte(masa.PathRequestVoucher)) {
			t.Errorf("GET %s: status %d, body %q; want 404 that lists the routes", path,
				status, body)
		}
	}
}

// The same bad body gets the same message on both operations.
func TestBadBodySameMessage(t *testing.T) {
	e := newEnv(t, nil)
	for _, body := range [][]byte{[]byte("garbage"), {0x30, 0x82, 0x01}} {
		_, _, a := e.post(t, "POST", masa.PathRequestVoucher, voucherHeader, body)
		_, _, b := e.post(t, "POST", masa.PathRequestAuditLog, voucherHeader, body)
		if !bytes.Equal(a, b) {
			t.Errorf("body %q: requestvoucher says %q, requestauditlog says %q", body, a, b)
		}
	}
}
