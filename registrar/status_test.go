package registrar

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/brski-eap/brski/policies"
)

// statusEnv is a registrar with a memory store, an IDevID of its
// manufacturer, an LDevID of its domain and a certificate that neither
// trusts.
type statusEnv struct {
	r        *Registrar
	st       *memStore
	idevid   *x509.Certificate
	ldevid   *x509.Certificate
	stranger *x509.Certificate
	logs     []RequestLog
}

func newStatusEnv(t *testing.T) *statusEnv {
	t.Helper()
	d := newTestDomain(t)
	factory := newTestCA(t, "acme factory")
	e := &statusEnv{st: newMemStore()}
	r, err := New(Options{DomainCA: d.ca, Cert: d.cert, Store: e.st,
		Policy:        parsePolicy(t, testPolicy),
		Manufacturers: []Manufacturer{{Name: "acme", CA: []*x509.Certificate{factory.cert}}},
		OnRequest:     func(l RequestLog) { e.logs = append(e.logs, l) }})
	if err != nil {
		t.Fatal(err)
	}
	e.r = r
	e.idevid = factory.issue(t, newKey(t), "SN-1", x509.ExtKeyUsageClientAuth)
	domain := &testCA{cert: d.ca.Cert, key: d.ca.Key.(*ecdsa.PrivateKey)}
	e.ldevid = domain.issue(t, newKey(t), "SN-2", x509.ExtKeyUsageClientAuth)
	e.stranger = newTestCA(t, "stranger").issue(t, newKey(t), "SN-3",
		x509.ExtKeyUsageClientAuth)
	return e
}

func (e *statusEnv) post(ctx context.Context, path string, cert *x509.Certificate,
	body string) *httptest.ResponseRecorder {
	req := estRequest(ctx, http.MethodPost, path, []byte(body), cert)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	e.r.ServeHTTP(rec, req)
	return rec
}

const okReport = `{"version":1,"status":true}`

func TestStatusReportAuthentication(t *testing.T) {
	tests := []struct {
		name     string
		path     string
		cert     func(*statusEnv) *x509.Certificate
		expected bool // SN-1 is in the expected-devices list
		exchange bool // a voucher exchange ran in the session
		want     int
	}{
		{"voucher status without certificate", PathVoucherStatus,
			func(*statusEnv) *x509.Certificate { return nil }, true, true,
			http.StatusUnauthorized},
		{"enroll status without certificate", PathEnrollStatus,
			func(*statusEnv) *x509.Certificate { return nil }, true, true,
			http.StatusUnauthorized},
		{"untrusted certificate", PathVoucherStatus,
			func(e *statusEnv) *x509.Certificate { return e.stranger }, true, true,
			http.StatusForbidden},
		{"IDevID of an unknown device without exchange", PathVoucherStatus,
			func(e *statusEnv) *x509.Certificate { return e.idevid }, false, false,
			http.StatusForbidden},
		{"IDevID of an expected device", PathVoucherStatus,
			func(e *statusEnv) *x509.Certificate { return e.idevid }, true, false,
			http.StatusOK},
		{"IDevID after an exchange", PathVoucherStatus,
			func(e *statusEnv) *x509.Certificate { return e.idevid }, false, true,
			http.StatusOK},
		{"IDevID enroll status", PathEnrollStatus,
			func(e *statusEnv) *x509.Certificate { return e.idevid }, false, false,
			http.StatusOK},
		{"LDevID", PathEnrollStatus,
			func(e *statusEnv) *x509.Certificate { return e.ldevid }, false, false,
			http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newStatusEnv(t)
			if tt.expected {
				e.st.expected["SN-1"] = ExpectedDevice{Serial: "SN-1"}
			}
			ctx := NewSessionContext(context.Background())
			if tt.exchange {
				sessionFrom(ctx).setDecision(&policies.Decision{})
			}
			rec := e.post(ctx, tt.path, tt.cert(e), okReport)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d; body %q", rec.Code, tt.want, rec.Body)
			}
			stored := 0
			if tt.want == http.StatusOK {
				stored = 1
			}
			if len(e.st.statuses) != stored {
				t.Errorf("store has %d reports, want %d", len(e.st.statuses), stored)
			}
		})
	}
}

// A long reason is capped in the store and in the log, where line breaks
// become spaces.
func TestStatusReportReasonCapped(t *testing.T) {
	e := newStatusEnv(t)
	reason := "first line\r\nsecond line " + strings.Repeat("A", 60000)
	body := fmt.Sprintf(`{"version":1,"status":false,"reason":%q}`, reason)
	rec := e.post(NewSessionContext(context.Background()), PathEnrollStatus, e.ldevid, body)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d; body %q", rec.Code, rec.Body)
	}
	got := e.st.statuses[0]
	if len(got.Reason) > maxStoredReason || len(got.Raw) > maxStoredRaw {
		t.Errorf("stored reason %d bytes and body %d bytes, want at most %d and %d",
			len(got.Reason), len(got.Raw), maxStoredReason, maxStoredRaw)
	}
	logged := e.logs[0].Reason
	if len(logged) > maxLoggedReason+3 || strings.ContainsAny(logged, "\r\n") ||
		!strings.HasPrefix(logged, "first line  second line") {
		t.Errorf("logged reason %q, want at most %d bytes without CR or LF",
			logged, maxLoggedReason+3)
	}
}

func TestStatusReportsPerDeviceBounded(t *testing.T) {
	e := newStatusEnv(t)
	for i := range maxReportsPerWindow + 2 {
		rec := e.post(NewSessionContext(context.Background()), PathEnrollStatus, e.ldevid,
			okReport)
		want := http.StatusOK
		if i >= maxReportsPerWindow {
			want = http.StatusTooManyRequests
		}
		if rec.Code != want {
			t.Fatalf("report %d: status %d, want %d; body %q", i+1, rec.Code, want, rec.Body)
		}
	}
	if n := len(e.st.statuses); n != maxReportsPerWindow {
		t.Errorf("store has %d reports, want %d", n, maxReportsPerWindow)
	}
	other := e.post(NewSessionContext(context.Background()), PathVoucherStatus, e.ldevid,
		okReport)
	if other.Code != http.StatusOK {
		t.Errorf("voucher status of the same device: status %d, want 200", other.Code)
	}
}

// FuzzLogText checks that a logged reason stays short, on one line, and
// valid UTF-8 when the reason was.
func FuzzLogText(f *testing.F) {
	f.Add("first line\r\nsecond line")
	f.Add(strings.Repeat("é", 150))
	f.Add("\xff\xfe")
	f.Fuzz(func(t *testing.T, reason string) {
		got := logText(reason, maxLoggedReason)
		if len(got) > maxLoggedReason+3 || strings.ContainsAny(got, "\r\n") {
			t.Fatalf("logText(%q) = %q: longer than %d bytes or several lines", reason, got,
				maxLoggedReason+3)
		}
		if utf8.ValidString(reason) && !utf8.ValidString(got) {
			t.Fatalf("logText(%q) = %q is not valid UTF-8", reason, got)
		}
	})
}
