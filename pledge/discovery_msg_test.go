package pledge

import (
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestDiscoverNamesRegistrarResponse checks that a registrar that responded
// with an error status leads the error of Discover, which then does not
// claim that no registrar was reached.
func TestDiscoverNamesRegistrarResponse(t *testing.T) {
	pki := newTestPKI(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter,
		_ *http.Request) {
		http.Error(w, "no rule accepted the device", http.StatusForbidden)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pki.registrar.tlsCert()}}
	srv.StartTLS()
	defer srv.Close()
	d := Discovery{
		Interfaces:    []string{"eth0"},
		RegistrarURLs: []string{srv.URL},
		dial: func(string, EAPOLConfig) (eapolLink, error) {
			return nil, ErrNoAuthenticator
		},
	}
	_, _, err := pki.pledge().Discover(t.Context(), d)
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusForbidden {
		t.Fatalf("Discover error = %v, want a StatusError with 403", err)
	}
	if errors.Is(err, ErrNoRegistrar) {
		t.Errorf("Discover error = %v, want no ErrNoRegistrar after a response", err)
	}
	if !errors.Is(err, ErrNoAuthenticator) {
		t.Errorf("Discover error = %v, want it to wrap the 802.1X attempt's error", err)
	}
	first, _, _ := strings.Cut(err.Error(), "\n")
	if !strings.Contains(first, "HTTP 403") || !strings.Contains(first, "no rule accepted") {
		t.Errorf("first line %q, want the 403 and its reason", first)
	}
}
