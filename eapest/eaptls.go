package eapest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"github.com/brski-eap/brski/eap"
)

// TypeTLS is the EAP-TLS method type, RFC 5216.
var TypeTLS = eap.MethodType{Type: eap.TypeTLS}

// TLSServerConfig configures the EAP-TLS server method.
type TLSServerConfig struct {
	// TLS is the base configuration, see ServerTLSConfig. Required.
	TLS *tls.Config
	// FragmentSize is the maximum TLS data per Request. Default
	// DefaultFragmentSize. The conversation's Framed-MTU lowers it.
	FragmentSize int
	// Profile selects the TLS rules. Default ProfileDefault.
	Profile TLSProfile
}

// TLSServer creates EAP-TLS server methods, RFC 5216 and RFC 9190, for
// devices that authenticate with their LDevID. It is safe for concurrent
// use.
type TLSServer struct {
	tls     *tls.Config
	profile TLSProfile
	size    int
}

// NewTLSServer checks cfg and returns a method factory.
func NewTLSServer(cfg TLSServerConfig) (*TLSServer, error) {
	c, err := cfg.Profile.ServerTLSConfig(cfg.TLS)
	if err != nil {
		return nil, err
	}
	return &TLSServer{tls: c, profile: cfg.Profile, size: cfg.FragmentSize}, nil
}

// NewMethod returns the method for one conversation.
func (s *TLSServer) NewMethod() eap.Method {
	m := &tlsServerMethod{}
	m.t = serverTunnel{
		typ: TypeTLS, config: s.tls, profile: s.profile, configSize: s.size,
		serve: serveTLSResult,
	}
	return m
}

// serveTLSResult sends the protected success indication of RFC 9190,
// Section 2.1.1 for TLS 1.3: one application data byte 0x00 after the
// handshake. TLS 1.2 ends with the server Finished.
func serveTLSResult(ctx context.Context, c *tls.Conn) error {
	if c.ConnectionState().Version != tls.VersionTLS13 {
		return nil
	}
	if _, err := c.Write([]byte{0}); err != nil {
		return fmt.Errorf("eapest: send protected success indication: %w", err)
	}
	return nil
}

type tlsServerMethod struct{ t serverTunnel }

func (m *tlsServerMethod) Type() eap.MethodType { return TypeTLS }

func (m *tlsServerMethod) Start(ctx context.Context, s eap.Session) ([]byte, error) {
	return m.t.start(ctx, s), nil
}

func (m *tlsServerMethod) Process(ctx context.Context, data []byte) (eap.Step, error) {
	return m.t.process(ctx, data)
}

func (m *tlsServerMethod) Close() error { return m.t.close() }

// TLSPeerConfig configures the EAP-TLS peer method.
type TLSPeerConfig struct {
	// TLS is the base configuration, see PeerTLSConfig. Required. It
	// verifies the server as any TLS client does, with RootCAs and
	// ServerName.
	TLS *tls.Config
	// FragmentSize is the maximum TLS data per Response. Default
	// DefaultFragmentSize.
	FragmentSize int
	// Hold caps the wait for TLS output once the handshake goroutine has
	// ended. Default DefaultPeerHold.
	Hold time.Duration
}

// TLSPeer is the peer side of EAP-TLS for one conversation.
type TLSPeer struct{ t peerTunnel }

// NewTLSPeer returns an EAP-TLS peer method. ctx carries values for the TLS
// goroutine; its cancellation does not stop the method, Close does.
func NewTLSPeer(ctx context.Context, cfg TLSPeerConfig) (*TLSPeer, error) {
	c, err := PeerTLSConfig(cfg.TLS)
	if err != nil {
		return nil, err
	}
	p := &TLSPeer{}
	p.t = peerTunnel{typ: TypeTLS, config: c, size: cfg.FragmentSize, hold: cfg.Hold,
		run: readTLSResult}
	p.t.init(ctx)
	return p, nil
}

// errNoSuccessIndication means TLS 1.3 ended without the 0x00 byte.
var errNoSuccessIndication = errors.New(
	"eapest: TLS 1.3 server sent no protected success indication")

// readTLSResult waits for the protected success indication of RFC 9190,
// Section 2.1.1. Under TLS 1.3 the client's handshake ends before the
// server has accepted the client certificate. This byte, or an alert,
// reports whether it did.
func readTLSResult(ctx context.Context, c *tls.Conn) error {
	if c.ConnectionState().Version != tls.VersionTLS13 {
		return nil
	}
	var b [1]byte
	n, err := c.Read(b[:])
	if err != nil {
		return fmt.Errorf("eapest: read protected success indication: %w", err)
	}
	if n != 1 || b[0] != 0 {
		return errNoSuccessIndication
	}
	return nil
}

// Type returns TypeTLS.
func (p *TLSPeer) Type() eap.MethodType { return TypeTLS }

// Process returns the Response to one EAP-TLS Request.
func (p *TLSPeer) Process(ctx context.Context, data []byte) ([]byte, error) {
	return p.t.process(ctx, data)
}

// Success accepts EAP-Success only after the TLS exchange, including the
// TLS 1.3 success indication, has finished without error, and returns the
// keys.
func (p *TLSPeer) Success() (eap.Outcome, error) {
	if !p.t.finished() {
		return eap.Outcome{}, errors.New("eapest: EAP-TLS exchange not finished")
	}
	return p.t.keys()
}

// Close stops the TLS goroutine.
func (p *TLSPeer) Close() { p.t.close() }
