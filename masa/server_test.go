package masa_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brski-eap/brski/masa"
	"github.com/brski-eap/brski/masaclient"
	"github.com/brski-eap/brski/voucher"
	"github.com/google/go-cmp/cmp"
)

func TestRequestVoucherRejections(t *testing.T) {
	e := newEnv(t, nil)
	nonce := []byte("nonce-0123456789")

	other, err := masa.InitFactory(t.TempDir(), "Other Devices", "https://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := other.Mint("SN-0001", "")
	if err != nil {
		t.Fatal(err)
	}
	forgotten, err := e.factory.Mint("SN-GONE", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Dir(forgotten.CertFile)); err != nil {
		t.Fatal(err)
	}
	twin, err := e.factory.MintUnstored("SN-0001")
	if err != nil {
		t.Fatal(err)
	}
	selfSigned := newDomain(t, "Lone Registrar", true)
	selfSigned.registrar, selfSigned.registrarKey = selfSigned.ca, selfSigned.caKey
	content, err := (&voucher.Voucher{SerialNumber: "SN-0001", Nonce: nonce,
		PriorSignedVoucherRequest: e.pledgeRequest(e.device, nonce, nil)}).MarshalRequest()
	if err != nil {
		t.Fatal(err)
	}
	noCerts, err := voucher.Sign(content, e.domain.registrar, e.domain.registrarKey,
		&voucher.SignOptions{OmitSigner: true})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		req  []byte
		want error
	}{
		{"not CMS", []byte("{}"), masaclient.ErrBadRequest},
		{"unknown device", e.registrarRequest(e.domain, "SN-GONE", nonce,
			e.pledgeRequest(forgotten, nonce, nil)), masaclient.ErrNotFound},
		{"other factory", e.registrarRequest(e.domain, "SN-0001", nonce,
			e.pledgeRequest(foreign, nonce, nil)), masaclient.ErrForbidden},
		{"second IDevID for a minted serial", e.registrarRequest(e.domain, "SN-0001", nonce,
			e.pledgeRequest(twin, nonce, nil)), masaclient.ErrForbidden},
		{"nonce differs", e.registrarRequest(e.domain, "SN-0001", []byte("other-nonce"),
			e.pledgeRequest(e.device, nonce, nil)), masaclient.ErrBadRequest},
		{"serial differs", e.registrarRequest(e.domain, "SN-0002", nonce,
			e.pledgeRequest(e.device, nonce, nil)), masaclient.ErrBadRequest},
		{"nonce without prior request", e.registrarRequest(e.domain, "SN-0001", nonce, nil),
			masaclient.ErrBadRequest},
		{"nonceless unknown device", e.registrarRequest(e.domain, "SN-NONE", nil, nil),
			masaclient.ErrNotFound},
		{"registrar without cmcRA", e.registrarRequest(newDomain(t, "No RA", false),
			"SN-0001", nonce, e.pledgeRequest(e.device, nonce, nil)), masaclient.ErrForbidden},
		{"domain CA as signer", e.registrarRequest(selfSigned, "SN-0001", nonce,
			e.pledgeRequest(e.device, nonce, nil)), masaclient.ErrForbidden},
		{"no certificates", noCerts, masaclient.ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.client.RequestVoucher(context.Background(), e.url, tt.req)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
			var se *masaclient.StatusError
			if errors.As(err, &se) && se.Message == "" {
				t.Error("rejection has no message")
			}
		})
	}
	if _, err := e.client.RequestVoucher(context.Background(), e.url,
		e.claim(nonce)); err != nil {
		t.Errorf("valid claim after the rejections: %v", err)
	}
}

// post sends body to path with the given headers and returns the status,
// the Content-Type and the body of the response.
func (e *env) post(t *testing.T, method, path string, header map[string]string,
	body []byte) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := e.https.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), data
}

func TestRequestVoucherMediaTypes(t *testing.T) {
	e := newEnv(t, func(c *masa.Config) { c.RateInterval = time.Nanosecond })
	tests := []struct {
		name        string
		method      string
		contentType string
		accept      string
		want        int
	}{
		{"voucher types", "POST", voucher.MediaType, voucher.MediaType, http.StatusOK},
		{"parameters ignored", "POST", voucher.MediaType + "; charset=utf-8",
			"text/plain;q=0.5, " + voucher.MediaType + ";q=0.9", http.StatusOK},
		{"no Accept", "POST", voucher.MediaType, "", http.StatusOK},
		{"wildcard Accept", "POST", voucher.MediaType, "application/*", http.StatusOK},
		{"json content", "POST", "application/json", voucher.MediaType,
			http.StatusUnsupportedMediaType},
		{"no content type", "POST", "", voucher.MediaType, http.StatusUnsupportedMediaType},
		{"json only accepted", "POST", voucher.MediaType, "application/json",
			http.StatusNotAcceptable},
		{"zero quality", "POST", voucher.MediaType, voucher.MediaType + ";q=0",
			http.StatusNotAcceptable},
		{"GET", "GET", voucher.MediaType, voucher.MediaType, http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.clock.Advance(time.Second)
			header := map[string]string{"Content-Type": tt.contentType, "Accept": tt.accept}
			status, ct, body := e.post(t, tt.method, masa.PathRequestVoucher, header,
				e.claim([]byte("media-type-nonce")))
			if status != tt.want {
				t.Fatalf("status = %d (%s), want %d", status, body, tt.want)
			}
			wantType := "text/plain; charset=utf-8"
			if status == http.StatusOK {
				wantType = voucher.MediaType
			}
			if ct != wantType {
				t.Errorf("Content-Type = %q, want %q", ct, wantType)
			}
		})
	}
}

func TestAliases(t *testing.T) {
	e := newEnv(t, nil)
	header := map[string]string{"Content-Type": voucher.MediaType}
	var req []byte
	for i, path := range []string{"/.well-known/brski/requestMASAauthorization",
		"/.well-known/est/requestMASAauthorization"} {
		e.clock.Advance(time.Hour)
		req = e.claim([]byte("alias-nonce-012" + strconv.Itoa(i)))
		status, ct, _ := e.post(t, "POST", path, header, req)
		if status != http.StatusOK || ct != voucher.MediaType {
			t.Errorf("%s: status %d, Content-Type %q", path, status, ct)
		}
	}
	for _, path := range []string{masa.PathRequestAuditLog, "/.well-known/brski/requestMASAlog",
		"/.well-known/est/requestMASAlog"} {
		status, ct, body := e.post(t, "POST", path, header, req)
		if status != http.StatusOK || ct != "application/json" {
			t.Fatalf("%s: status %d, Content-Type %q", path, status, ct)
		}
		log, err := masa.ParseAuditLog(body)
		if err != nil {
			t.Fatal(err)
		}
		if len(log.Events) != 2 {
			t.Errorf("%s: %d events, want 2", path, len(log.Events))
		}
	}
}

func TestNonceless(t *testing.T) {
	owner := newDomain(t, "Owner Domain CA", true)
	wildcard := newDomain(t, "Reseller Domain CA", true)
	lifetime := 2 * time.Hour
	e := newEnv(t, func(c *masa.Config) {
		c.Owners = map[string][]*x509.Certificate{"SN-0001": {owner.ca},
			masa.AnyDevice: {wildcard.ca}}
		c.NoncelessLifetime = lifetime
	})
	tests := []struct {
		name string
		dom  domain
		want error
	}{
		{"owner", owner, nil},
		{"any-device owner", wildcard, nil},
		{"not an owner", e.domain, masaclient.ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.clock.Advance(time.Hour)
			req := e.registrarRequest(tt.dom, "SN-0001", nil, nil)
			signed, err := e.client.RequestVoucher(context.Background(), e.url, req)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
			if err != nil {
				var se *masaclient.StatusError
				if !errors.As(err, &se) || !strings.Contains(se.Message, "owner") {
					t.Errorf("message %q does not name the missing owner", se.Message)
				}
				return
			}
			v := verifyVoucher(t, e, signed)
			if v.Nonce != nil {
				t.Errorf("nonceless voucher has nonce %q", v.Nonce)
			}
			wantExpiry := minTime(e.clock.Now().Add(lifetime), tt.dom.ca.NotAfter,
				tt.dom.registrar.NotAfter)
			if !v.ExpiresOn.Equal(wantExpiry) {
				t.Errorf("expires-on = %v, want %v", v.ExpiresOn, wantExpiry)
			}
			if !bytes.Equal(v.PinnedDomainCert, tt.dom.ca.Raw) {
				t.Error("voucher does not pin the owner's domain CA")
			}
		})
	}
}

func minTime(a time.Time, others ...time.Time) time.Time {
	for _, b := range others {
		if b.Before(a) {
			a = b
		}
	}
	return a
}

func TestProximityAssertion(t *testing.T) {
	e := newEnv(t, func(c *masa.Config) { c.Assertion = voucher.AssertionProximity })
	nonce := []byte("proximity-nonce1")
	stranger := newDomain(t, "Stranger", true)
	tests := []struct {
		name      string
		proximity *x509.Certificate
		want      error
	}{
		{"no proximity cert", nil, masaclient.ErrForbidden},
		{"other registrar", stranger.registrar, masaclient.ErrForbidden},
		{"this registrar", e.domain.registrar, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := e.registrarRequest(e.domain, "SN-0001", nonce,
				e.pledgeRequest(e.device, nonce, tt.proximity))
			signed, err := e.client.RequestVoucher(context.Background(), e.url, req)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
			if err == nil && verifyVoucher(t, e, signed).Assertion != voucher.AssertionProximity {
				t.Error("voucher assertion is not proximity")
			}
		})
	}
}

func TestAuditLogOtherDomain(t *testing.T) {
	e := newEnv(t, nil)
	nonce := []byte("audit-nonce-0123")
	if _, err := e.client.RequestVoucher(context.Background(), e.url, e.claim(nonce)); err != nil {
		t.Fatal(err)
	}
	stranger := newDomain(t, "Stranger", true)
	req := e.registrarRequest(stranger, "SN-0001", nonce, e.pledgeRequest(e.device, nonce, nil))
	_, err := e.client.RequestAuditLog(context.Background(), e.url, req)
	if !errors.Is(err, masaclient.ErrNotFound) {
		t.Fatalf("error = %v, want ErrNotFound", err)
	}
}

func TestRacingClaims(t *testing.T) {
	e := newEnv(t, nil)
	const claimers = 4
	errs := make([]error, claimers)
	var wg sync.WaitGroup
	for i := range claimers {
		req := e.claim([]byte("racing-nonce-" + string(rune('a'+i))))
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.client.RequestVoucher(context.Background(), e.url, req)
		}()
	}
	wg.Wait()
	issued, limited := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			issued++
		case errors.Is(err, masaclient.ErrServiceUnavailable):
			limited++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if issued != 1 || limited != claimers-1 {
		t.Errorf("issued %d, rate limited %d; want 1 and %d", issued, limited, claimers-1)
	}
}

func TestOnRequest(t *testing.T) {
	e := newEnv(t, nil)
	if _, err := e.client.RequestVoucher(context.Background(), e.url,
		e.claim([]byte("hook-nonce-01234"))); err != nil {
		t.Fatal(err)
	}
	e.post(t, "POST", masa.PathRequestVoucher, map[string]string{"Content-Type": "text/plain"},
		nil)
	e.logMu.Lock()
	defer e.logMu.Unlock()
	type summary struct {
		Path, Outcome, Serial string
		Status                int
	}
	var got []summary
	for _, l := range e.logs {
		got = append(got, summary{l.Path, l.Outcome, l.SerialNumber, l.Status})
	}
	want := []summary{
		{masa.PathRequestVoucher, masa.OutcomeVoucherIssued, "SN-0001", http.StatusOK},
		{masa.PathRequestVoucher, masa.OutcomeRejected, "", http.StatusUnsupportedMediaType},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("request logs (-want +got):\n%s", diff)
	}
}

// A pledge voucher request may leave out the IDevID, which the MASA then
// takes from the device it minted for the serial number.
func TestPledgeRequestWithoutIDevID(t *testing.T) {
	e := newEnv(t, nil)
	nonce := []byte("omitted-idevid-1")
	content, err := (&voucher.Voucher{CreatedOn: e.clock.Now(), SerialNumber: "SN-0001",
		Nonce: nonce, Assertion: voucher.AssertionProximity,
		ProximityRegistrarCert: e.domain.registrar.Raw}).MarshalRequest()
	if err != nil {
		t.Fatal(err)
	}
	prior, err := voucher.Sign(content, e.device.Certificate, e.device.Key,
		&voucher.SignOptions{OmitSigner: true})
	if err != nil {
		t.Fatal(err)
	}
	req := e.registrarRequest(e.domain, "SN-0001", nonce, prior)
	if _, err := e.client.RequestVoucher(context.Background(), e.url, req); err != nil {
		t.Fatal(err)
	}
}
