package eapserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/brski-eap/brski/eap"
	"github.com/brski-eap/brski/eapest"
)

// selfSigned returns a throwaway ECDSA P-256 certificate for both ends of
// a test handshake.
func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1),
		Subject:   pkix.Name{CommonName: "legacy-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// legacyHandshake returns the server's state of a TLS 1.1 handshake under
// the legacy profile.
func legacyHandshake(t *testing.T) tls.ConnectionState {
	t.Helper()
	cert := selfSigned(t)
	server, err := eapest.ProfileLegacy.ServerTLSConfig(&tls.Config{
		Certificates:     []tls.Certificate{cert},
		VerifyConnection: func(tls.ConnectionState) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	client := &tls.Config{Certificates: []tls.Certificate{cert}, InsecureSkipVerify: true,
		MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}
	a, b := net.Pipe()
	defer a.Close()
	clientErr := make(chan error, 1)
	go func() {
		err := tls.Client(b, client).Handshake()
		b.Close()
		clientErr <- err
	}()
	s := tls.Server(a, server)
	if err := s.Handshake(); err != nil {
		t.Fatalf("server handshake: %v", err)
	}
	if err := <-clientErr; err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	return s.ConnectionState()
}

func TestResultLegacyTLS(t *testing.T) {
	state := legacyHandshake(t)
	tests := []struct {
		name    string
		profile eapest.TLSProfile
		detail  any
		want    eapest.LegacyFeatures
	}{
		{"legacy profile", eapest.ProfileLegacy, state, eapest.LegacyTLS11},
		{"default profile", eapest.ProfileDefault, state, 0},
		{"no handshake", eapest.ProfileLegacy, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Server{cfg: Config{TLSProfile: tt.profile}}
			res := eap.Result{Outcome: eap.Outcome{Detail: tt.detail}}
			if got := s.legacyTLS(res); got != tt.want {
				t.Errorf("legacyTLS = %q, want %q", got, tt.want)
			}
		})
	}
}
