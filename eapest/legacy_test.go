package eapest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"math/big"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/brski-eap/brski/eap"
)

func TestParseTLSProfile(t *testing.T) {
	tests := []struct {
		in      string
		want    TLSProfile
		wantErr bool
	}{
		{"default", ProfileDefault, false},
		{"legacy", ProfileLegacy, false},
		{"", 0, true},
		{"Legacy", 0, true},
		{"tls1.0", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTLSProfile(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrUnknownTLSProfile) {
					t.Fatalf("ParseTLSProfile(%q) error = %v, want ErrUnknownTLSProfile",
						tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("ParseTLSProfile(%q) = %v, want %v", tt.in, got, tt.want)
			}
			if got.String() != tt.in {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

func TestProfileServerTLSConfigUnknown(t *testing.T) {
	_, err := TLSProfile(7).ServerTLSConfig(newPKI(t).serverTLS(0))
	if !errors.Is(err, ErrUnknownTLSProfile) {
		t.Fatalf("error = %v, want ErrUnknownTLSProfile", err)
	}
}

func TestProfileServerTLSConfig(t *testing.T) {
	p := newPKI(t)
	tests := []struct {
		name       string
		profile    TLSProfile
		baseMin    uint16
		wantMin    uint16
		wantRSAKex bool
	}{
		{"default", ProfileDefault, 0, tls.VersionTLS12, false},
		{"legacy", ProfileLegacy, 0, tls.VersionTLS10, true},
		{"legacy with base TLS 1.2", ProfileLegacy, tls.VersionTLS12, tls.VersionTLS10, true},
		{"default with base TLS 1.3", ProfileDefault, tls.VersionTLS13, tls.VersionTLS13,
			false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := p.serverTLS(0)
			base.MinVersion = tt.baseMin
			c, err := tt.profile.ServerTLSConfig(base)
			if err != nil {
				t.Fatal(err)
			}
			if c.MinVersion != tt.wantMin {
				t.Errorf("MinVersion = %s, want %s", tls.VersionName(c.MinVersion),
					tls.VersionName(tt.wantMin))
			}
			for _, id := range rsaKeyExchangeSuites {
				if got := slices.Contains(c.CipherSuites, id); got != tt.wantRSAKex {
					t.Errorf("%s listed = %v, want %v", tls.CipherSuiteName(id), got,
						tt.wantRSAKex)
				}
			}
			for _, id := range ecdheSuites() {
				if !slices.Contains(c.CipherSuites, id) {
					t.Errorf("ECDHE suite %s missing", tls.CipherSuiteName(id))
				}
			}
			if !c.SessionTicketsDisabled || c.ClientAuth != tls.RequireAnyClientCert ||
				c.Renegotiation != tls.RenegotiateNever {
				t.Errorf("tickets disabled %v, client auth %v, renegotiation %v",
					c.SessionTicketsDisabled, c.ClientAuth, c.Renegotiation)
			}
			if c.KeyLogWriter != nil {
				t.Error("shared config has a KeyLogWriter")
			}
		})
	}
}

// legacyClient returns a client configuration that offers TLS minVersion
// to maxVersion only, with the test PKI's client certificate.
func legacyClient(p *pki, minVersion, maxVersion uint16, suites ...uint16) *tls.Config {
	c := p.clientTLS(maxVersion)
	c.MinVersion = minVersion
	c.CipherSuites = suites
	return c
}

// pipeHandshake runs one handshake over a pipe and returns the server's
// state and both errors.
func pipeHandshake(t *testing.T, server, client *tls.Config) (tls.ConnectionState, error,
	error) {
	t.Helper()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	clientErr := make(chan error, 1)
	go func() {
		c := tls.Client(b, client)
		err := c.Handshake()
		b.Close()
		clientErr <- err
	}()
	s := tls.Server(a, server)
	serverErr := s.Handshake()
	a.Close()
	return s.ConnectionState(), serverErr, <-clientErr
}

// rsaServerCert returns an RSA 2048 server certificate from the test CA.
func rsaServerCert(t *testing.T, ca *testCA) tls.Certificate {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "radius.example"},
		DNSNames:     []string{"radius.example"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der, ca.cert.Raw}, PrivateKey: key}
}

// TestProfileHandshakes runs Go clients limited to old versions or to RSA
// key exchange against the server configuration of each profile.
func TestProfileHandshakes(t *testing.T) {
	p := newPKI(t)
	rsaCert := rsaServerCert(t, p.ca)
	tests := []struct {
		name    string
		profile TLSProfile
		rsa     bool // RSA server certificate instead of ECDSA
		client  *tls.Config
		want    LegacyFeatures
		wantErr bool
	}{
		{"default TLS 1.1", ProfileDefault, false,
			legacyClient(p, tls.VersionTLS10, tls.VersionTLS11), 0, true},
		{"default TLS 1.0", ProfileDefault, false,
			legacyClient(p, tls.VersionTLS10, tls.VersionTLS10), 0, true},
		{"default TLS 1.2", ProfileDefault, false,
			legacyClient(p, tls.VersionTLS12, tls.VersionTLS12), 0, false},
		{"legacy TLS 1.1", ProfileLegacy, false,
			legacyClient(p, tls.VersionTLS10, tls.VersionTLS11), LegacyTLS11, false},
		{"legacy TLS 1.0", ProfileLegacy, false,
			legacyClient(p, tls.VersionTLS10, tls.VersionTLS10), LegacyTLS10, false},
		{"legacy TLS 1.3", ProfileLegacy, false,
			legacyClient(p, tls.VersionTLS13, tls.VersionTLS13), 0, false},
		{"default RSA kex", ProfileDefault, true, legacyClient(p, tls.VersionTLS12,
			tls.VersionTLS12, tls.TLS_RSA_WITH_AES_128_GCM_SHA256), 0, true},
		{"legacy RSA kex, ECDSA certificate", ProfileLegacy, false, legacyClient(p,
			tls.VersionTLS12, tls.VersionTLS12, tls.TLS_RSA_WITH_AES_128_GCM_SHA256), 0, true},
		{"legacy RSA kex TLS 1.2", ProfileLegacy, true, legacyClient(p, tls.VersionTLS12,
			tls.VersionTLS12, tls.TLS_RSA_WITH_AES_128_GCM_SHA256), LegacyRSAKeyExchange, false},
		{"legacy RSA kex TLS 1.0", ProfileLegacy, true, legacyClient(p, tls.VersionTLS10,
			tls.VersionTLS10, tls.TLS_RSA_WITH_AES_256_CBC_SHA),
			LegacyTLS10 | LegacyRSAKeyExchange, false},
		{"legacy 3DES", ProfileLegacy, true, legacyClient(p, tls.VersionTLS10,
			tls.VersionTLS12, tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA), 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := p.serverTLS(0)
			if tt.rsa {
				base.Certificates = []tls.Certificate{rsaCert}
			}
			server, err := tt.profile.ServerTLSConfig(base)
			if err != nil {
				t.Fatal(err)
			}
			state, serverErr, clientErr := pipeHandshake(t, server, tt.client)
			if tt.wantErr {
				if serverErr == nil || clientErr == nil {
					t.Fatalf("handshake succeeded (server %v, client %v), want failure",
						serverErr, clientErr)
				}
				// crypto/tls reports a received alert as a net.OpError "remote error".
				var op *net.OpError
				if !errors.As(clientErr, &op) || op.Op != "remote error" {
					t.Errorf("client error %v is not a TLS alert from the server", clientErr)
				}
				return
			}
			if serverErr != nil || clientErr != nil {
				t.Fatalf("handshake: server %v, client %v", serverErr, clientErr)
			}
			if got := LegacyFeaturesOf(&state); got != tt.want {
				t.Errorf("LegacyFeaturesOf = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLegacyFeaturesString(t *testing.T) {
	tests := []struct {
		in   LegacyFeatures
		want string
	}{
		{0, ""},
		{LegacyTLS10, "tls1.0"},
		{LegacyTLS11 | LegacyNoEMS, "tls1.1,no-ems"},
		{LegacyTLS10 | LegacyRSAKeyExchange | LegacyNoEMS, "tls1.0,rsa-kex,no-ems"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("LegacyFeatures(%d).String() = %q, want %q", uint8(tt.in), got, tt.want)
		}
	}
}

// newLegacyTLSPeer returns an EAP-TLS peer that runs cfg as given. The
// exported NewTLSPeer raises MinVersion to TLS 1.2, as every peer of this
// package does, so an old supplicant needs the internal constructor.
func newLegacyTLSPeer(t testing.TB, cfg *tls.Config) *TLSPeer {
	p := &TLSPeer{}
	p.t = peerTunnel{typ: TypeTLS, config: cfg, run: readTLSResult}
	p.t.init(context.Background())
	t.Cleanup(p.Close)
	return p
}

// TestEAPTLSLegacyProfile runs EAP-TLS with a TLS 1.0 or 1.1 peer against
// both profiles.
func TestEAPTLSLegacyProfile(t *testing.T) {
	p := newPKI(t)
	tests := []struct {
		name    string
		profile TLSProfile
		version uint16
		success bool
	}{
		{"default TLS 1.0", ProfileDefault, tls.VersionTLS10, false},
		{"default TLS 1.1", ProfileDefault, tls.VersionTLS11, false},
		{"legacy TLS 1.0", ProfileLegacy, tls.VersionTLS10, true},
		{"legacy TLS 1.1", ProfileLegacy, tls.VersionTLS11, true},
		{"legacy TLS 1.2", ProfileLegacy, tls.VersionTLS12, true},
		{"legacy TLS 1.3", ProfileLegacy, tls.VersionTLS13, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conv, peer := newProfileConversation(t, p, tt.profile,
				legacyClient(p, tt.version, tt.version))
			log, _ := runConversation(t, conv, peer)
			res := conv.Result()
			if !tt.success {
				if res.Status != eap.StatusFailure {
					t.Fatalf("server status = %v, want Failure", res.Status)
				}
				if !hasTLSAlert(log.requests) {
					t.Error("no TLS alert reached the peer before the Failure")
				}
				return
			}
			if res.Status != eap.StatusSuccess {
				t.Fatalf("server status = %v, err %v", res.Status, res.Err)
			}
			pres := peer.Result()
			if pres.Status != eap.StatusSuccess {
				t.Fatalf("peer status = %v, err %v", pres.Status, pres.Err)
			}
			state := res.Detail.(tls.ConnectionState)
			if state.Version != tt.version {
				t.Errorf("version %s, want %s", tls.VersionName(state.Version),
					tls.VersionName(tt.version))
			}
			if diff := cmp.Diff(pres.MSK, res.MSK); diff != "" || len(res.MSK) != 64 {
				t.Errorf("MSK of peer (want) and server (got) differ:\n%s", diff)
			}
			if !bytes.Equal(res.SessionID, pres.SessionID) {
				t.Errorf("Session-Id: server %x, peer %x", res.SessionID, pres.SessionID)
			}
		})
	}
}

// newProfileConversation returns an EAP-TLS server conversation under
// profile and a peer conversation that runs client as given.
func newProfileConversation(t testing.TB, p *pki, profile TLSProfile,
	client *tls.Config) (*eap.Conversation, *eap.PeerConversation) {
	t.Helper()
	srv, err := NewTLSServer(TLSServerConfig{TLS: p.serverTLS(0), Profile: profile})
	if err != nil {
		t.Fatal(err)
	}
	conv, err := eap.NewConversation(eap.Config{
		Methods: func(context.Context, string) ([]eap.Method, error) {
			return []eap.Method{srv.NewMethod()}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conv.Close() })
	peer := eap.NewPeerConversation(eap.PeerConfig{
		Identity: "device-1", Methods: []eap.PeerMethod{newLegacyTLSPeer(t, client)},
	})
	return conv, peer
}

// BenchmarkEAPTLS12Profile runs whole TLS 1.2 EAP-TLS conversations in
// process under each profile. The legacy profile adds a Config copy and a
// key log per conversation.
func BenchmarkEAPTLS12Profile(b *testing.B) {
	p := newPKI(b)
	for _, profile := range []TLSProfile{ProfileDefault, ProfileLegacy} {
		b.Run(profile.String(), func(b *testing.B) {
			for b.Loop() {
				conv, peer := newProfileConversation(b, p, profile,
					legacyClient(p, tls.VersionTLS12, tls.VersionTLS12))
				if _, err := runConversation(b, conv, peer); err != nil {
					b.Fatal(err)
				}
				if res := conv.Result(); res.Status != eap.StatusSuccess {
					b.Fatalf("status %v, err %v", res.Status, res.Err)
				}
			}
		})
	}
}

// hasTLSAlert reports whether one of the EAP Requests carries a TLS alert
// record (content type 21) at the start of its TLS data.
func hasTLSAlert(requests [][]byte) bool {
	for _, req := range requests {
		p, err := eap.Parse(req)
		if err != nil || p.Code != eap.CodeRequest {
			continue
		}
		f, err := ParseFragment(p.Data)
		if err == nil && len(f.Data) > 0 && f.Data[0] == 21 {
			return true
		}
	}
	return false
}

func TestLegacyKeysWrite(t *testing.T) {
	random := bytes.Repeat([]byte{0xab}, 32)
	secret := bytes.Repeat([]byte{0xcd}, masterSecretLen)
	line := []byte("CLIENT_RANDOM " + hex.EncodeToString(random) + " " +
		hex.EncodeToString(secret) + "\n")
	tests := []struct {
		name    string
		line    []byte
		kept    bool
		wantErr bool
	}{
		{"master secret", line, true, false},
		{"TLS 1.3 secret", []byte("CLIENT_TRAFFIC_SECRET_0 " + hex.EncodeToString(random) +
			" " + hex.EncodeToString(random) + "\n"), false, false},
		{"short secret", []byte("CLIENT_RANDOM " + hex.EncodeToString(random) + " abcd\n"),
			false, true},
		{"not hex", []byte("CLIENT_RANDOM zz " + hex.EncodeToString(secret) + "\n"),
			false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var k legacyKeys
			_, err := k.Write(tt.line)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Write error = %v, want error %v", err, tt.wantErr)
			}
			if got := k.masterSecret != nil; got != tt.kept {
				t.Fatalf("master secret kept = %v, want %v", got, tt.kept)
			}
			if tt.kept && (!bytes.Equal(k.masterSecret, secret) ||
				!bytes.Equal(k.clientRandom, random)) {
				t.Errorf("kept random %x, secret %x", k.clientRandom, k.masterSecret)
			}
		})
	}
}

func FuzzLegacyKeysWrite(f *testing.F) {
	f.Add([]byte("CLIENT_RANDOM " + strings.Repeat("ab", 32) + " " +
		strings.Repeat("cd", masterSecretLen) + "\n"))
	f.Add([]byte("SERVER_HANDSHAKE_TRAFFIC_SECRET 00 11\n"))
	f.Add([]byte("CLIENT_RANDOM\n"))
	f.Fuzz(func(t *testing.T, line []byte) {
		var k legacyKeys
		n, err := k.Write(line)
		if err == nil && n != len(line) {
			t.Errorf("Write returned %d for %d bytes without an error", n, len(line))
		}
		if k.masterSecret != nil && (len(k.masterSecret) != masterSecretLen ||
			len(k.clientRandom) != 32) {
			t.Errorf("kept a %d-byte secret and a %d-byte random", len(k.masterSecret),
				len(k.clientRandom))
		}
	})
}
