package masaclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brski-eap/brski/masa"
	"github.com/brski-eap/brski/voucher"
	"github.com/google/go-cmp/cmp"
)

// testServer runs handler on a loopback TLS server and returns a client that
// trusts it, with short delays so that retries do not slow the test down.
func testServer(t *testing.T, cfg Config, handler http.HandlerFunc) (*Client, string) {
	t.Helper()
	srv := httptest.NewTLSServer(handler)
	t.Cleanup(srv.Close)
	cfg.RootCAs = srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	if cfg.Backoff == 0 {
		cfg.Backoff = time.Millisecond
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = 2 * time.Millisecond
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, srv.URL
}

func voucherHandler(t *testing.T, attempts *atomic.Int32, fail func(n int32,
	w http.ResponseWriter) bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n := attempts.Add(1)
		if r.URL.Path != PathRequestVoucher || r.Method != http.MethodPost {
			http.Error(w, "wrong path or method", http.StatusTeapot)
			return
		}
		if r.Header.Get("Content-Type") != voucher.MediaType ||
			r.Header.Get("Accept") != voucher.MediaType {
			http.Error(w, "wrong media types", http.StatusTeapot)
			return
		}
		if fail != nil && fail(n, w) {
			return
		}
		w.Header().Set("Content-Type", voucher.MediaType)
		w.Write([]byte("voucher-cms"))
	}
}

func TestRequestVoucher(t *testing.T) {
	var attempts atomic.Int32
	c, url := testServer(t, Config{}, voucherHandler(t, &attempts, nil))
	got, err := c.RequestVoucher(context.Background(), url, []byte("request"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("voucher-cms", string(got)); diff != "" {
		t.Errorf("voucher (-want +got):\n%s", diff)
	}
}

func TestRequestVoucherRetries(t *testing.T) {
	tests := []struct {
		name   string
		status int
	}{
		{"503 with Retry-After", http.StatusServiceUnavailable},
		{"500", http.StatusInternalServerError},
		{"502", http.StatusBadGateway},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var attempts atomic.Int32
			c, url := testServer(t, Config{MaxAttempts: 3}, voucherHandler(t, &attempts,
				func(n int32, w http.ResponseWriter) bool {
					if n < 3 {
						w.Header().Set("Retry-After", "1")
						http.Error(w, "busy", tt.status)
						return true
					}
					return false
				}))
			if _, err := c.RequestVoucher(context.Background(), url, nil); err != nil {
				t.Fatal(err)
			}
			if got := attempts.Load(); got != 3 {
				t.Errorf("attempts = %d, want 3", got)
			}
		})
	}
}

func TestRequestVoucherUnavailable(t *testing.T) {
	var attempts atomic.Int32
	c, url := testServer(t, Config{MaxAttempts: 2}, voucherHandler(t, &attempts,
		func(n int32, w http.ResponseWriter) bool {
			w.Header().Set("Retry-After", "7")
			http.Error(w, "device claimed in the last minute", http.StatusServiceUnavailable)
			return true
		}))
	_, err := c.RequestVoucher(context.Background(), url, nil)
	if !errors.Is(err, ErrServiceUnavailable) {
		t.Fatalf("error = %v, want ErrServiceUnavailable", err)
	}
	var se *StatusError
	if !errors.As(err, &se) {
		t.Fatalf("error %T is not a *StatusError", err)
	}
	if se.RetryAfter != 7*time.Second {
		t.Errorf("RetryAfter = %v, want 7s", se.RetryAfter)
	}
	if diff := cmp.Diff("device claimed in the last minute", se.Message); diff != "" {
		t.Errorf("message (-want +got):\n%s", diff)
	}
	if got := attempts.Load(); got != 2 {
		t.Errorf("attempts = %d, want 2", got)
	}
}

func TestRequestVoucherClientErrors(t *testing.T) {
	tests := []struct {
		status int
		want   error
	}{
		{http.StatusBadRequest, ErrBadRequest},
		{http.StatusForbidden, ErrForbidden},
		{http.StatusNotFound, ErrNotFound},
		{http.StatusNotAcceptable, ErrNotAcceptable},
		{http.StatusUnsupportedMediaType, ErrUnsupportedMediaType},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			var attempts atomic.Int32
			c, url := testServer(t, Config{}, voucherHandler(t, &attempts,
				func(n int32, w http.ResponseWriter) bool {
					http.Error(w, "reason\r\nsecond line", tt.status)
					return true
				}))
			_, err := c.RequestVoucher(context.Background(), url, nil)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
			var se *StatusError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not a *StatusError", err)
			}
			if diff := cmp.Diff("reason  second line", se.Message); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
			if got := attempts.Load(); got != 1 {
				t.Errorf("attempts = %d, want 1", got)
			}
		})
	}
}

func TestRequestVoucherContextCancelledDuringBackoff(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var attempts atomic.Int32
	c, url := testServer(t, Config{Backoff: time.Hour, MaxBackoff: time.Hour},
		voucherHandler(t, &attempts, func(n int32, w http.ResponseWriter) bool {
			cancel()
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return true
		}))
	_, err := c.RequestVoucher(ctx, url, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if got := attempts.Load(); got != 1 {
		t.Errorf("attempts = %d, want 1", got)
	}
}

func TestRequestVoucherBadResponses(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"too large", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", voucher.MediaType)
			w.Write([]byte(strings.Repeat("x", 65)))
		}},
		{"wrong content type", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html>"))
		}},
		{"empty", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", voucher.MediaType)
		}},
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, url := testServer(t, Config{MaxResponseBytes: 64}, tt.handler)
			if _, err := c.RequestVoucher(context.Background(), url, nil); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestRequestAuditLog(t *testing.T) {
	body := `{"version":"1","events":[{"date":"2026-01-01T00:00:00Z","domainID":"AQ==",` +
		`"nonce":null,"assertion":"logged"}]}`
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"200", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != PathRequestAuditLog {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(body))
		}},
		{"201 with Location", func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				w.Header().Set("Location", "/auditlog/slug")
				w.WriteHeader(http.StatusCreated)
				return
			}
			if r.URL.Path != "/auditlog/slug" {
				http.NotFound(w, r)
				return
			}
			w.Write([]byte(body))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, url := testServer(t, Config{}, tt.handler)
			got, err := c.RequestAuditLog(context.Background(), url, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := &masa.AuditLog{Version: "1", Events: []masa.AuditEvent{{
				Date: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), DomainID: []byte{1},
				Assertion: "logged"}}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("audit log (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRequestAuditLogInvalidJSON(t *testing.T) {
	c, url := testServer(t, Config{}, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"version":"x"}`))
	})
	_, err := c.RequestAuditLog(context.Background(), url, nil)
	if !errors.Is(err, masa.ErrInvalidAuditLog) {
		t.Fatalf("error = %v, want masa.ErrInvalidAuditLog", err)
	}
}

func TestMASAURL(t *testing.T) {
	f, err := masa.InitFactory(t.TempDir(), "Example Devices", "masa.example.com:9443")
	if err != nil {
		t.Fatal(err)
	}
	d, err := f.Mint("SN-1", "")
	if err != nil {
		t.Fatal(err)
	}
	keyID := hex.EncodeToString(d.Certificate.AuthorityKeyId)
	colonKeyID := strings.ToUpper(keyID[:2] + ":" + keyID[2:])
	tests := []struct {
		name      string
		overrides map[string]string
		want      string
	}{
		{"extension", nil, "https://masa.example.com:9443"},
		{"key identifier", map[string]string{colonKeyID: "other.example.com"},
			"https://other.example.com"},
		{"manufacturer name", map[string]string{"example devices": "https://n.example.com/"},
			"https://n.example.com"},
		{"other manufacturer", map[string]string{"Acme": "https://acme.example.com"},
			"https://masa.example.com:9443"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(Config{MASAURLs: tt.overrides})
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.MASAURL(d.Certificate)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("URL (-want +got):\n%s", diff)
			}
		})
	}
	c, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.MASAURL(f.CA); err == nil {
		t.Error("no error for a certificate without MASA URL")
	}
}

func TestNewRejectsInvalidOverride(t *testing.T) {
	_, err := New(Config{MASAURLs: map[string]string{"x": "http://plain.example.com"}})
	if err == nil {
		t.Fatal("New accepted an http:// override")
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		value string
		want  time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"120", 2 * time.Minute},
		{" 5 ", 5 * time.Second},
		{"-3", 0},
		{"soon", 0},
		{"99999999999999999999", 0},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			if got := parseRetryAfter(tt.value, now); got != tt.want {
				t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.value, got, tt.want)
			}
		})
	}
}

func TestRequestVoucherTransportErrors(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var accepted atomic.Int32
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			conn.Close()
		}
	}()
	c, err := New(Config{MaxAttempts: 3, Backoff: time.Millisecond, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.RequestVoucher(context.Background(), "https://"+l.Addr().String(), nil)
	if err == nil {
		t.Fatal("no error from a server that closes every connection")
	}
	var se *StatusError
	if errors.As(err, &se) {
		t.Errorf("transport failure returned a StatusError: %v", err)
	}
	if got := accepted.Load(); got != 3 {
		t.Errorf("connections = %d, want 3", got)
	}
}

func TestRequestVoucherUntrustedServerNotRetried(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	c, err := New(Config{RootCAs: x509.NewCertPool(), MaxAttempts: 3,
		Backoff: time.Millisecond, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.RequestVoucher(context.Background(), srv.URL, nil)
	var certErr *tls.CertificateVerificationError
	if !errors.As(err, &certErr) {
		t.Fatalf("error = %v, want a certificate verification error", err)
	}
	if got := conns.Load(); got != 1 {
		t.Errorf("connections = %d, want 1", got)
	}
}
