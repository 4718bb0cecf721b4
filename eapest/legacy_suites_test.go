package eapest

import (
	"crypto/tls"
	"strings"
	"testing"
)

// TestDefaultProfileDropsBaseRSASuites gives the default profile a base
// configuration that lists TLS_RSA suites and checks that the tunnel still
// offers only ECDHE key exchange in TLS 1.2.
func TestDefaultProfileDropsBaseRSASuites(t *testing.T) {
	p := newPKI(t)
	rsaCert := rsaServerCert(t, p.ca)
	rsaSuite := tls.TLS_RSA_WITH_AES_128_GCM_SHA256
	ecdheSuite := tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
	tests := []struct {
		name    string
		suites  []uint16
		client  uint16 // the client's only TLS 1.2 suite
		wantErr bool
	}{
		{"RSA client", []uint16{rsaSuite, ecdheSuite}, rsaSuite, true},
		{"ECDHE client", []uint16{rsaSuite, ecdheSuite}, ecdheSuite, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := p.serverTLS(0)
			base.Certificates = []tls.Certificate{rsaCert}
			base.CipherSuites = tt.suites
			server, err := ProfileDefault.ServerTLSConfig(base)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range server.CipherSuites {
				if !strings.HasPrefix(tls.CipherSuiteName(id), "TLS_ECDHE_") {
					t.Errorf("server suites contain %s", tls.CipherSuiteName(id))
				}
			}
			client := legacyClient(p, tls.VersionTLS12, tls.VersionTLS12, tt.client)
			_, serverErr, clientErr := pipeHandshake(t, server, client)
			if gotErr := serverErr != nil || clientErr != nil; gotErr != tt.wantErr {
				t.Errorf("handshake errors: server %v, client %v; want failure %v",
					serverErr, clientErr, tt.wantErr)
			}
		})
	}
}

func TestDefaultProfileBaseWithoutECDHE(t *testing.T) {
	base := newPKI(t).serverTLS(0)
	base.CipherSuites = []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}
	if _, err := ProfileDefault.ServerTLSConfig(base); err == nil {
		t.Error("ServerTLSConfig accepted a base whose TLS 1.2 suites all lack ECDHE")
	}
}
