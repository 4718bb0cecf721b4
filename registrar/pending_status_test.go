package registrar

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/brski-eap/brski/masa"
	"github.com/brski-eap/brski/masaclient"
	"github.com/brski-eap/brski/voucher"
)

// A voucher that waits for a MASA retry gets a 202 whose message gives the
// MASA's status and message, here its rate limit for a second claim of the
// device, and Options.OnMASARetry gets the retry with the device's serial.
func TestPendingVoucherNamesMASAAnswer(t *testing.T) {
	m := newTestMASA(t, func(c *masa.Config) { c.RateInterval = time.Hour })
	dev := mintDevice(t, m, "SN-0201")
	st := newMemStore()
	st.expected["SN-0201"] = ExpectedDevice{Serial: "SN-0201"}
	d := newTestDomain(t)
	client, err := masaclient.New(masaclient.Config{
		RootCAs:      chainPool([]*x509.Certificate{m.ts.Certificate()}),
		Certificates: []tls.Certificate{d.cert.TLSCertificate()},
		MaxAttempts:  2, Backoff: time.Hour, MaxBackoff: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	type retried struct {
		serial string
		retry  masaclient.Retry
	}
	retries := make(chan retried, 1)
	r, _ := testRegistrarFor(t, m, st, Options{DomainCA: d.ca, Cert: d.cert, MASA: client,
		VoucherWait: 10 * time.Millisecond, RetryAfter: 5 * time.Second,
		OnMASARetry: func(serial string, retry masaclient.Retry) {
			retries <- retried{serial, retry}
		}})
	p := dialPledge(t, serveRegistrar(t, r), dev)
	first := p.voucherRequest(t)
	resp, body := p.do(t, http.MethodPost, PathRequestVoucher, voucher.MediaType, first)
	// The first exchange may outlast VoucherWait on a loaded machine.
	for deadline := time.Now().Add(10 * time.Second); resp.StatusCode == http.StatusAccepted &&
		time.Now().Before(deadline); {
		resp, body = p.do(t, http.MethodPost, PathRequestVoucher, voucher.MediaType, first)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("first voucher request: status %d, want 200; body %q", resp.StatusCode, body)
	}

	// A new nonce is a second claim within the MASA's rate interval.
	vr := p.voucherRequest(t)
	p.do(t, http.MethodPost, PathRequestVoucher, voucher.MediaType, vr)
	got := <-retries
	if got.serial != "SN-0201" {
		t.Errorf("OnMASARetry serial = %q, want SN-0201", got.serial)
	}
	if got.retry.Attempt != 1 || got.retry.MaxAttempts != 2 || got.retry.Err == nil {
		t.Errorf("retry = %+v, want attempt 1 of 2 with the 503 error", got.retry)
	}
	resp, body = p.do(t, http.MethodPost, PathRequestVoucher, voucher.MediaType, vr)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("status %d, want 202; body %q", resp.StatusCode, body)
	}
	for _, want := range []string{"the voucher is not ready yet (the MASA answered 503 ",
		"retry 2 of 2 in 1h0m0s)"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("202 body %q lacks %q", body, want)
		}
	}
}

func TestRetryStatus(t *testing.T) {
	long := strings.Repeat("x", maxStatusMessage+10)
	tests := []struct {
		name  string
		retry masaclient.Retry
		want  string
	}{
		{"status with message", masaclient.Retry{Attempt: 1, MaxAttempts: 3,
			Delay: 1500 * time.Millisecond, Err: &masaclient.StatusError{Code: 503,
				Message: "busy"}}, `the MASA answered 503 "busy"; retry 2 of 3 in 2s`},
		{"status without message", masaclient.Retry{Attempt: 2, MaxAttempts: 3,
			Delay: time.Minute, Err: &masaclient.StatusError{Code: 502}},
			"the MASA answered 502; retry 3 of 3 in 1m0s"},
		{"long message", masaclient.Retry{Attempt: 1, MaxAttempts: 2, Delay: time.Second,
			Err: &masaclient.StatusError{Code: 503, Message: long}},
			`the MASA answered 503 "` + long[:maxStatusMessage] + `..."; retry 2 of 2 in 1s`},
		{"transport error", masaclient.Retry{Attempt: 1, MaxAttempts: 2, Delay: time.Second,
			Err: errors.New("dial tcp 127.0.0.1:9: connection refused")},
			"the MASA could not be reached; retry 2 of 2 in 1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := retryStatus(tt.retry); got != tt.want {
				t.Errorf("retryStatus = %q, want %q", got, tt.want)
			}
		})
	}
}
