package pledge

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
)

// failingTransport fails every request with err.
type failingTransport struct{ err error }

func (ft failingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, ft.err
}

// TestRoundTripNamesTransport checks that the error of a request names the
// session's transport instead of a tunnel URL whose host is not real.
func TestRoundTripNamesTransport(t *testing.T) {
	tests := []struct {
		name, via, want, notWant string
	}{
		{"https", "", `"https://registrar.test/.well-known/est/cacerts"`, ""},
		{"tunnel", "inside the EAP-EST tunnel via RADIUS server 127.0.0.1:1812",
			"GET /.well-known/est/cacerts inside the EAP-EST tunnel via RADIUS server " +
				"127.0.0.1:1812: ", "https://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Session{HTTP: &http.Client{Transport: failingTransport{net.ErrClosed}},
				BaseURL: "https://registrar.test", Via: tt.via}
			_, err := roundTrip(t.Context(), s, exchange{method: http.MethodGet,
				path: pathCACerts})
			if !errors.Is(err, net.ErrClosed) {
				t.Fatalf("roundTrip error = %v, want net.ErrClosed", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
			if tt.notWant != "" && strings.Contains(err.Error(), tt.notWant) {
				t.Errorf("error %q contains %q", err, tt.notWant)
			}
		})
	}
}
