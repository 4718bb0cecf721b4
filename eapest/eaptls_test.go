package eapest

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"testing"

	"github.com/brski-eap/brski/eap"
)

// newTLSConversation returns a server conversation offering EAP-TLS and an
// EAP-TLS peer conversation.
func newTLSConversation(t testing.TB, serverTLS, clientTLS *tls.Config, serverSize,
	peerSize, framedMTU int) (*eap.Conversation, *eap.PeerConversation, *TLSPeer) {
	t.Helper()
	srv, err := NewTLSServer(TLSServerConfig{TLS: serverTLS, FragmentSize: serverSize})
	if err != nil {
		t.Fatal(err)
	}
	conv, err := eap.NewConversation(eap.Config{
		Methods: func(context.Context, string) ([]eap.Method, error) {
			return []eap.Method{srv.NewMethod()}, nil
		},
		FramedMTU: framedMTU,
	})
	if err != nil {
		t.Fatal(err)
	}
	peerMethod, err := NewTLSPeer(context.Background(),
		TLSPeerConfig{TLS: clientTLS, FragmentSize: peerSize})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(peerMethod.Close)
	t.Cleanup(func() { conv.Close() })
	peer := eap.NewPeerConversation(eap.PeerConfig{
		Identity: "device-1", Methods: []eap.PeerMethod{peerMethod},
	})
	return conv, peer, peerMethod
}

func TestEAPTLSHandshake(t *testing.T) {
	p := newPKI(t)
	tests := []struct {
		name       string
		version    uint16
		serverSize int
		peerSize   int
		framedMTU  int
	}{
		{"TLS 1.3 default sizes", tls.VersionTLS13, 0, 0, 0},
		{"TLS 1.2 default sizes", tls.VersionTLS12, 0, 0, 0},
		{"TLS 1.3 Framed-MTU 1400", tls.VersionTLS13, 0, 0, 1400},
		{"TLS 1.2 Framed-MTU 1400", tls.VersionTLS12, 0, 0, 1400},
		{"TLS 1.3 64-byte fragments", tls.VersionTLS13, 64, 64, 0},
		{"TLS 1.2 100-byte fragments", tls.VersionTLS12, 100, 100, 0},
		{"TLS 1.3 Framed-MTU 300", tls.VersionTLS13, 0, 200, 300},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conv, peer, _ := newTLSConversation(t, p.serverTLS(0), p.clientTLS(tt.version),
				tt.serverSize, tt.peerSize, tt.framedMTU)
			log, err := runConversation(t, conv, peer)
			if err != nil {
				t.Fatalf("conversation: %v", err)
			}
			for i, req := range log.requests {
				// The EAPOL header takes 4 bytes of the supplicant's MTU.
				if tt.framedMTU > 0 && len(req) > tt.framedMTU-4 {
					t.Errorf("request %d: %d bytes exceed Framed-MTU %d minus EAPOL", i,
						len(req), tt.framedMTU)
				}
			}
			res := conv.Result()
			if res.Status != eap.StatusSuccess {
				t.Fatalf("server status = %v, err %v", res.Status, res.Err)
			}
			pres := peer.Result()
			if pres.Status != eap.StatusSuccess {
				t.Fatalf("peer status = %v, err %v", pres.Status, pres.Err)
			}
			state := res.Detail.(tls.ConnectionState)
			if state.Version != tt.version {
				t.Errorf("TLS version = %x, want %x", state.Version, tt.version)
			}
			if len(res.MSK) != 64 || len(res.EMSK) != 64 {
				t.Fatalf("MSK %d bytes, EMSK %d bytes, want 64 each", len(res.MSK), len(res.EMSK))
			}
			if !bytes.Equal(res.MSK, pres.MSK) {
				t.Error("server and peer MSK differ")
			}
			recv, send := res.MPPEKeys()
			if !bytes.Equal(recv, res.MSK[:32]) || !bytes.Equal(send, res.MSK[32:]) {
				t.Error("MS-MPPE keys are not the MSK halves")
			}
			if !bytes.Equal(res.EMSK, pres.EMSK) {
				t.Error("server and peer EMSK differ")
			}
			if len(res.SessionID) != 65 || !bytes.Equal(res.SessionID, pres.SessionID) {
				t.Errorf("Session-Id: server %x, peer %x, want equal 65 bytes",
					res.SessionID, pres.SessionID)
			}
			if res.SessionID[0] != byte(eap.TypeTLS) {
				t.Errorf("Session-Id type code = %d, want 13", res.SessionID[0])
			}
			if len(res.PeerCertificates) == 0 ||
				res.PeerCertificates[0].Subject.CommonName != "device-1" {
				t.Errorf("peer certificates = %v, want the device-1 leaf", res.PeerCertificates)
			}
			if res.Identity != "device-1" {
				t.Errorf("identity = %q, want device-1", res.Identity)
			}
		})
	}
}

// TestEAPTLSRoundTrips counts Requests after the Identity Request at
// Framed-MTU 1400 with P-256 certificates and the CA in each chain.
func TestEAPTLSRoundTrips(t *testing.T) {
	p := newPKI(t)
	for _, version := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
		conv, peer, _ := newTLSConversation(t, p.serverTLS(0), p.clientTLS(version), 0, 0, 1400)
		if _, err := runConversation(t, conv, peer); err != nil {
			t.Fatal(err)
		}
		res := conv.Result()
		if res.Status != eap.StatusSuccess {
			t.Fatalf("TLS %x: status %v, err %v", version, res.Status, res.Err)
		}
		rounds := res.Rounds - 1
		t.Logf("TLS %x: %d round trips after Identity", version, rounds)
		if rounds > 4 {
			t.Errorf("TLS %x: %d round trips after Identity, want at most 4", version, rounds)
		}
	}
}

// lastRequestRecord returns the TLS record type of the last Request before
// the final packet, or 0 when that Request carried no TLS data.
func lastRequestRecord(t *testing.T, log *exchangeLog) byte {
	t.Helper()
	if len(log.requests) < 2 {
		t.Fatalf("only %d packets from the server", len(log.requests))
	}
	pkt, err := eap.Parse(log.requests[len(log.requests)-2])
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseFragment(pkt.Data)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Data) == 0 {
		return 0
	}
	return f.Data[0]
}

func TestEAPTLSRejectsRSAKeyExchange(t *testing.T) {
	p := newPKI(t)
	client := p.clientTLS(tls.VersionTLS12)
	client.CipherSuites = []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}
	conv, peer, _ := newTLSConversation(t, p.serverTLS(0), client, 0, 0, 0)
	log, err := runConversation(t, conv, peer)
	if err != nil {
		t.Fatal(err)
	}
	res := conv.Result()
	if res.Status != eap.StatusFailure {
		t.Fatalf("server status = %v, want failure", res.Status)
	}
	final, err := eap.Parse(log.requests[len(log.requests)-1])
	if err != nil || final.Code != eap.CodeFailure {
		t.Fatalf("final packet = %v (%v), want Failure", final, err)
	}
	pkt, _ := eap.Parse(log.requests[len(log.requests)-2])
	f, _ := ParseFragment(pkt.Data)
	// A plaintext alert record: type 21, version, length 2, fatal (2),
	// handshake_failure (40).
	if len(f.Data) != 7 || f.Data[0] != 21 || f.Data[5] != 2 || f.Data[6] != 40 {
		t.Errorf("Request before Failure = %x, want a handshake_failure alert", f.Data)
	}
	if peer.Result().Status != eap.StatusFailure {
		t.Errorf("peer status = %v, want failure", peer.Result().Status)
	}
}

func TestEAPTLSRejectsUnknownClientCA(t *testing.T) {
	p := newPKI(t)
	other := newTestCA(t, "other CA")
	for _, version := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
		client := p.clientTLS(version)
		client.Certificates = []tls.Certificate{other.issue(t, "rogue", false)}
		conv, peer, _ := newTLSConversation(t, p.serverTLS(0), client, 0, 0, 0)
		log, err := runConversation(t, conv, peer)
		if err != nil {
			t.Fatal(err)
		}
		res := conv.Result()
		if res.Status != eap.StatusFailure {
			t.Fatalf("TLS %x: server status = %v, want failure", version, res.Status)
		}
		if !errors.Is(res.Err, errUntrustedClient) {
			t.Errorf("TLS %x: server error = %v, want errUntrustedClient", version, res.Err)
		}
		if rec := lastRequestRecord(t, log); rec == 0 {
			t.Errorf("TLS %x: no alert before the Failure", version)
		}
		if peer.Result().Status != eap.StatusFailure {
			t.Errorf("TLS %x: peer status = %v, want failure", version, peer.Result().Status)
		}
		if len(res.MSK) != 0 {
			t.Errorf("TLS %x: failure carries an MSK", version)
		}
	}
}

func TestEAPTLSPeerRejectsEarlySuccess(t *testing.T) {
	p := newPKI(t)
	_, peer, _ := newTLSConversation(t, p.serverTLS(0), p.clientTLS(0), 0, 0, 0)
	ctx := context.Background()
	start := &eap.Packet{Code: eap.CodeRequest, Identifier: 1, Type: eap.TypeTLS,
		Data: []byte{byte(FlagStart)}}
	b, _ := start.Marshal()
	if _, _, err := peer.Handle(ctx, b); err != nil {
		t.Fatal(err)
	}
	_, status, err := peer.Handle(ctx, []byte{3, 1, 0, 4})
	if !errors.Is(err, eap.ErrDiscard) || status != eap.StatusContinue {
		t.Errorf("early Success: status %v, err %v; want discarded", status, err)
	}
}

func TestServerTLSConfigRequiresTrust(t *testing.T) {
	p := newPKI(t)
	_, err := ServerTLSConfig(&tls.Config{Certificates: []tls.Certificate{p.server}})
	if err == nil {
		t.Fatal("config without client verification accepted")
	}
	c, err := ServerTLSConfig(p.serverTLS(0))
	if err != nil {
		t.Fatal(err)
	}
	if !c.SessionTicketsDisabled || c.ClientAuth != tls.RequireAnyClientCert ||
		c.MinVersion != tls.VersionTLS12 {
		t.Errorf("tunnel rules not applied: tickets disabled %v, client auth %v, min %x",
			c.SessionTicketsDisabled, c.ClientAuth, c.MinVersion)
	}
	for _, id := range c.CipherSuites {
		if tls.CipherSuiteName(id)[:10] != "TLS_ECDHE_" {
			t.Errorf("cipher suite %s without ECDHE", tls.CipherSuiteName(id))
		}
	}
}

func TestEAPTLSPeerRejectsServer(t *testing.T) {
	p := newPKI(t)
	other := newTestCA(t, "other CA")
	for _, version := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
		client := p.clientTLS(version)
		client.RootCAs = other.pool
		conv, peer, _ := newTLSConversation(t, p.serverTLS(0), client, 0, 0, 0)
		if _, err := runConversation(t, conv, peer); err != nil {
			t.Fatal(err)
		}
		res := conv.Result()
		if res.Status != eap.StatusFailure || res.Err == nil {
			t.Errorf("TLS %x: server status %v, err %v; want failure", version, res.Status,
				res.Err)
		}
		if got := peer.Result().Status; got != eap.StatusFailure {
			t.Errorf("TLS %x: peer status = %v, want failure", version, got)
		}
	}
}

func TestAuthenticateOverTransport(t *testing.T) {
	p := newPKI(t)
	srv, err := NewTLSServer(TLSServerConfig{TLS: p.serverTLS(0)})
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
	defer conv.Close()
	pres, err := Authenticate(context.Background(), &convTransport{conv: conv}, "device-1",
		TLSPeerConfig{TLS: p.clientTLS(0)})
	if err != nil {
		t.Fatal(err)
	}
	res := conv.Result()
	if res.Status != eap.StatusSuccess || pres.Status != eap.StatusSuccess {
		t.Fatalf("status server %v (%v), peer %v", res.Status, res.Err, pres.Status)
	}
	if !bytes.Equal(res.MSK, pres.MSK) {
		t.Error("server and peer MSK differ")
	}
}

func TestEAPTLSDataInPlaceOfACK(t *testing.T) {
	p := newPKI(t)
	srv, err := NewTLSServer(TLSServerConfig{TLS: p.serverTLS(0), FragmentSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	_, hello := clientHelloFor(t, p.clientTLS(0))
	pkt, err := eap.Parse(hello)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	m := srv.NewMethod()
	defer m.Close()
	if _, err := m.Start(ctx, eap.Session{}); err != nil {
		t.Fatal(err)
	}
	step, err := m.Process(ctx, pkt.Data)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseFragment(step.Data)
	if err != nil {
		t.Fatal(err)
	}
	if f.Flags&(FlagLength|FlagMore) != FlagLength|FlagMore || len(f.Data) != 100 {
		t.Fatalf("first server fragment: flags %#x, %d bytes; want L, M and 100 bytes",
			f.Flags, len(f.Data))
	}
	if _, err := m.Process(ctx, []byte{0x00, 22}); !errors.Is(err, ErrProtocol) {
		t.Errorf("data in place of an ACK: error %v, want ErrProtocol", err)
	}
}

// garbleOnce corrupts the second Request it relays, as a broken relay
// would. As a Receiver it then delivers the intact Request, as an
// authenticator's retransmission would.
type garbleOnce struct {
	inner *convTransport
	calls int
	last  []byte
}

func (g *garbleOnce) Exchange(ctx context.Context, resp []byte) ([]byte, error) {
	req, err := g.inner.Exchange(ctx, resp)
	g.calls++
	if g.calls == 2 && err == nil {
		g.last = req
		return append(bytes.Clone(req), 0), nil // breaks the Length field
	}
	return req, err
}

// sendOnly hides the Receiver method of garbleOnce.
type sendOnly struct{ g *garbleOnce }

func (s sendOnly) Exchange(ctx context.Context, resp []byte) ([]byte, error) {
	return s.g.Exchange(ctx, resp)
}

func (g *garbleOnce) Receive(context.Context) ([]byte, error) {
	if g.last == nil {
		return nil, errors.New("nothing to retransmit")
	}
	return g.last, nil
}

func TestAuthenticateAfterDrop(t *testing.T) {
	p := newPKI(t)
	srv, err := NewTLSServer(TLSServerConfig{TLS: p.serverTLS(0)})
	if err != nil {
		t.Fatal(err)
	}
	for _, receiver := range []bool{true, false} {
		conv, err := eap.NewConversation(eap.Config{
			Methods: func(context.Context, string) ([]eap.Method, error) {
				return []eap.Method{srv.NewMethod()}, nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer conv.Close()
		g := &garbleOnce{inner: &convTransport{conv: conv}}
		var tr Transport = sendOnly{g}
		if receiver {
			tr = g
		}
		pres, err := Authenticate(context.Background(), tr, "device-1",
			TLSPeerConfig{TLS: p.clientTLS(0)})
		if !receiver {
			if !errors.Is(err, eap.ErrDiscard) {
				t.Errorf("without Receiver: error %v, want ErrDiscard", err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if pres.Status != eap.StatusSuccess {
			t.Fatalf("peer status = %v, want success", pres.Status)
		}
	}
}
