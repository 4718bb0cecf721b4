package eapest

import (
	"crypto/tls"
	"net"
	"testing"
)

// TestKeyExchangeGroups runs tunnel handshakes over a pipe and checks the
// group that the server chose, for each version and peer setting.
func TestKeyExchangeGroups(t *testing.T) {
	p := newPKI(t)
	server, err := ServerTLSConfig(p.serverTLS(0))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		groups []tls.CurveID
		max    uint16
		want   tls.CurveID
	}{
		{"default TLS 1.3", nil, tls.VersionTLS13, tls.CurveP256},
		{"default TLS 1.2", nil, tls.VersionTLS12, tls.CurveP256},
		{"X25519 TLS 1.3", []tls.CurveID{tls.X25519}, tls.VersionTLS13, tls.X25519},
		{"X25519 TLS 1.2", []tls.CurveID{tls.X25519}, tls.VersionTLS12, tls.X25519},
		{"both, TLS 1.3", []tls.CurveID{tls.CurveP256, tls.X25519}, tls.VersionTLS13,
			tls.X25519},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := p.clientTLS(tt.max)
			base.CurvePreferences = tt.groups
			peer, err := PeerTLSConfig(base)
			if err != nil {
				t.Fatal(err)
			}
			if got := handshakeGroup(t, server, peer); got != tt.want {
				t.Errorf("group = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPeerTLSConfigRejectsOtherGroups(t *testing.T) {
	base := newPKI(t).clientTLS(0)
	base.CurvePreferences = []tls.CurveID{tls.CurveP384}
	if _, err := PeerTLSConfig(base); err == nil {
		t.Fatal("PeerTLSConfig accepted P-384, which the tunnel does not allow")
	}
}

// handshakeGroup returns the key exchange group of a handshake between
// server and peer, as the server saw it.
func handshakeGroup(t *testing.T, server, peer *tls.Config) tls.CurveID {
	t.Helper()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	errc := make(chan error, 1)
	go func() {
		c := tls.Client(b, peer)
		errc <- c.Handshake()
		c.Close()
	}()
	s := tls.Server(a, server)
	if err := s.Handshake(); err != nil {
		t.Fatalf("server handshake: %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("peer handshake: %v", err)
	}
	st := s.ConnectionState()
	if st.HelloRetryRequest {
		t.Error("server sent a HelloRetryRequest")
	}
	return st.CurveID
}
