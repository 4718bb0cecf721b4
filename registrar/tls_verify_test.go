package registrar

import (
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestVerifyPeerChainCases checks the EAP-EST handshake check against
// chains that a hostile or misconfigured pledge sends: an IDevID of an
// unknown manufacturer, an expired IDevID, and more certificates than a
// real chain needs, which the HTTPS handler must not verify either.
func TestVerifyPeerChainCases(t *testing.T) {
	m := newTestMASA(t)
	st := openTestStore(t, "SN-0701")
	dev := mintDevice(t, m, "SN-0701")
	other := newTestCA(t, "other manufacturer")
	foreign := other.issue(t, newKey(t), "SN-0702", x509.ExtKeyUsageClientAuth)
	// copies returns the IDevID followed by n copies of the factory CA.
	copies := func(n int) []*x509.Certificate {
		certs := []*x509.Certificate{dev.Certificate}
		for range n {
			certs = append(certs, m.factory.CA)
		}
		return certs
	}
	tests := []struct {
		name  string
		certs []*x509.Certificate
		now   time.Time // zero means time.Now
		// wantErr is a sentinel that the error wraps, or nil for success.
		wantErr error
		// wantReason is an x509 reason that the error wraps, or -1.
		wantReason x509.InvalidReason
	}{
		{"IDevID", []*x509.Certificate{dev.Certificate}, time.Time{}, nil, -1},
		{"eight certificates", copies(maxPeerCertificates - 1), time.Time{}, nil, -1},
		{"nine certificates", copies(maxPeerCertificates), time.Time{},
			errTooManyCertificates, -1},
		{"unknown manufacturer", []*x509.Certificate{foreign}, time.Time{},
			errUntrustedPeer, -1},
		{"expired IDevID", []*x509.Certificate{dev.Certificate},
			dev.Certificate.NotAfter.Add(time.Hour), errUntrustedPeer, x509.Expired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{}
			if !tt.now.IsZero() {
				opts.Now = func() time.Time { return tt.now }
			}
			r, _ := testRegistrarFor(t, m, st, opts)
			err := r.VerifyPeerChain(tt.certs)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("VerifyPeerChain = %v, want %v", err, tt.wantErr)
			}
			var invalid x509.CertificateInvalidError
			if tt.wantReason >= 0 && (!errors.As(err, &invalid) ||
				invalid.Reason != tt.wantReason) {
				t.Errorf("VerifyPeerChain = %v, want x509 reason %d", err, tt.wantReason)
			}
			if err != nil && strings.Contains(err.Error(), "PRIVATE KEY") {
				t.Errorf("error %q contains key material", err)
			}
			if p := r.verifyPeer(tt.certs, r.now()); (p.Kind == PeerUntrusted) !=
				(tt.wantErr != nil) {
				t.Errorf("handler peer kind = %v, want untrusted: %v", p.Kind,
					tt.wantErr != nil)
			}
		})
	}
}
