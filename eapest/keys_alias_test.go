package eapest

import (
	"crypto/tls"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestTLSConfigGroupsNotShared changes the groups of one returned config
// and checks that the next config still has the tunnel's groups.
func TestTLSConfigGroupsNotShared(t *testing.T) {
	p := newPKI(t)
	tests := []struct {
		name   string
		config func() (*tls.Config, error)
		want   []tls.CurveID
	}{
		{"server", func() (*tls.Config, error) { return ServerTLSConfig(p.serverTLS(0)) },
			[]tls.CurveID{tls.X25519, tls.CurveP256}},
		{"peer default", func() (*tls.Config, error) { return PeerTLSConfig(p.clientTLS(0)) },
			[]tls.CurveID{tls.CurveP256}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first, err := tt.config()
			if err != nil {
				t.Fatal(err)
			}
			first.CurvePreferences[0] = tls.CurveP384
			second, err := tt.config()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, second.CurvePreferences); diff != "" {
				t.Errorf("groups after a change to an earlier config (-want +got):\n%s", diff)
			}
		})
	}
}
