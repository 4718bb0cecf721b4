package eapest

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/brski-eap/brski/eap"
)

// Transport carries EAP packets between the peer and the authenticator:
// EAPOL on a switch port, or RADIUS through a simulated NAS in tests. A
// Transport that also implements Receiver lets the peer survive a dropped
// Request.
type Transport interface {
	// Exchange sends eapResponse and returns the next EAP packet from the
	// authenticator. The first call has a nil eapResponse and starts the
	// conversation (EAPOL-Start, or a RADIUS EAP-Start).
	Exchange(ctx context.Context, eapResponse []byte) (eapRequest []byte, err error)
}

// PeerConfig configures an EAP-EST peer.
type PeerConfig struct {
	// Identity is the EAP identity sent in the Identity Response.
	Identity string
	// Type is the method type. Default TypeEST.
	Type eap.MethodType
	// TLS contains the IDevID; see ProvisionalTLSConfig. Required.
	TLS *tls.Config
	// FragmentSize is the maximum TLS data per Response. Default
	// DefaultFragmentSize.
	FragmentSize int
	// Hold is how long a Response waits for local data. Default
	// DefaultPeerHold.
	Hold time.Duration
	// MaxBodyBytes caps each response body. Default DefaultMaxBodyBytes.
	MaxBodyBytes int64
}

// ProvisionalTLSConfig returns the pledge's TLS configuration: it presents
// the IDevID and accepts any registrar certificate provisionally, RFC 8995,
// Section 5.1. The pledge validates Tunnel.ServerCertificates against the
// voucher's pinned domain certificate later.
func ProvisionalTLSConfig(idevid tls.Certificate) *tls.Config {
	return &tls.Config{
		Certificates:       []tls.Certificate{idevid},
		InsecureSkipVerify: true, // provisional trust, RFC 8995, Section 5.1
		MinVersion:         tls.VersionTLS12,
	}
}

// ErrEAPFailure means the authenticator ended the conversation with
// EAP-Failure.
var ErrEAPFailure = errors.New("eapest: authenticator sent EAP-Failure")

// Tunnel is an established EAP-EST tunnel on the peer side. It is an
// http.RoundTripper that sends HTTP/1.1 requests through the tunnel one at
// a time. A background goroutine runs the EAP conversation over the
// Transport until Close or a failure.
type Tunnel struct {
	method  *estPeerMethod
	conv    *eap.PeerConversation
	tr      Transport
	cancel  context.CancelFunc
	maxBody int64

	pumpDone chan struct{}
	pumpErr  error // written before pumpDone is closed

	mu     sync.Mutex // serializes RoundTrip and Close
	br     *bufio.Reader
	closed bool
}

// Dial runs EAP over tr until the TLS tunnel is established, and returns
// it. Under TLS 1.3 it also waits for the server's protected success
// indication, so an IDevID that the registrar rejects fails Dial and not
// the first request. ctx bounds the setup only.
func Dial(ctx context.Context, tr Transport, cfg PeerConfig) (*Tunnel, error) {
	t, err := newTunnel(ctx, tr, cfg)
	if err != nil {
		return nil, err
	}
	m := t.method
	var runCtx context.Context
	runCtx, t.cancel = context.WithCancel(context.WithoutCancel(ctx))
	go t.pump(runCtx)
	select {
	case <-m.t.done:
		if _, _, err := m.t.status(); err != nil {
			// Let the conversation deliver the ACK of the server's alert and
			// receive the Failure, so both sides end cleanly.
			select {
			case <-t.pumpDone:
			case <-ctx.Done():
			}
			t.abort()
			return nil, fmt.Errorf("eapest: TLS handshake in EAP-EST: %w", err)
		}
	case <-t.pumpDone:
		t.abort()
		return nil, t.pumpErr
	case <-ctx.Done():
		t.abort()
		return nil, fmt.Errorf("eapest: establish tunnel: %w", ctx.Err())
	}
	t.br = bufio.NewReaderSize(m.t.tc, 4096)
	return t, nil
}

func newTunnel(ctx context.Context, tr Transport, cfg PeerConfig) (*Tunnel, error) {
	c, err := PeerTLSConfig(cfg.TLS)
	if err != nil {
		return nil, err
	}
	typ := cfg.Type
	if typ == (eap.MethodType{}) {
		typ = TypeEST
	}
	m := &estPeerMethod{typ: typ}
	m.t = peerTunnel{typ: typ, config: c, version: Version, checkVersion: true,
		size: cfg.FragmentSize, hold: cfg.Hold, run: readTLSResult, hasUser: true}
	m.t.init(ctx)
	t := &Tunnel{
		method: m,
		conv: eap.NewPeerConversation(eap.PeerConfig{
			Identity: cfg.Identity, Methods: []eap.PeerMethod{m},
		}),
		tr:       tr,
		maxBody:  cfg.MaxBodyBytes,
		pumpDone: make(chan struct{}),
	}
	if t.maxBody <= 0 {
		t.maxBody = DefaultMaxBodyBytes
	}
	return t, nil
}

// pump runs the EAP conversation until it ends, then closes the TLS
// connection so that a RoundTrip blocked on it returns.
func (t *Tunnel) pump(ctx context.Context) {
	defer close(t.pumpDone)
	t.pumpErr = runPeer(ctx, t.tr, t.conv, &t.method.t)
	t.method.t.close()
}

// ConnectionState returns the tunnel's TLS state.
func (t *Tunnel) ConnectionState() tls.ConnectionState {
	state, _, _ := t.method.t.status()
	return state
}

// ServerCertificates returns the registrar's certificate chain as sent,
// which the pledge accepted provisionally.
func (t *Tunnel) ServerCertificates() []*x509.Certificate {
	return t.ConnectionState().PeerCertificates
}

// Client returns an HTTP client that sends its requests through the tunnel.
func (t *Tunnel) Client() *http.Client { return &http.Client{Transport: t} }

// RoundTrip sends req through the tunnel and reads the whole response. A
// canceled request context aborts the tunnel, as closing the connection
// would in net/http.
func (t *Tunnel) RoundTrip(req *http.Request) (*http.Response, error) {
	resps, err := t.roundTrips([]*http.Request{req})
	if err != nil {
		return nil, err
	}
	return resps[0], nil
}

// Close sends close_notify, which ends EAP-EST, and waits for the
// authenticator's EAP-Success or Failure. It returns the peer's result
// with the MSK and EMSK.
func (t *Tunnel) Close(ctx context.Context) (eap.PeerResult, error) {
	t.mu.Lock()
	if !t.closed {
		t.closed = true
		if err := t.method.t.tc.CloseWrite(); err != nil {
			t.mu.Unlock()
			t.abort()
			select {
			case <-t.pumpDone:
				// A conversation that ended by itself, not by abort's
				// cancel, closed the connection, so its error is the cause.
				if t.pumpErr != nil && !errors.Is(t.pumpErr, context.Canceled) {
					err = t.pumpErr
				}
			case <-ctx.Done():
			}
			return t.conv.Result(), fmt.Errorf("eapest: send close_notify: %w", err)
		}
		t.method.t.conn.kick()
	}
	t.mu.Unlock()
	select {
	case <-t.pumpDone:
	case <-ctx.Done():
		t.abort()
		return t.conv.Result(), fmt.Errorf("eapest: wait for EAP-Success: %w", ctx.Err())
	}
	t.method.t.close()
	t.cancel()
	return t.conv.Result(), t.pumpErr
}

// abort stops the pump and the TLS connection without a close_notify.
func (t *Tunnel) abort() {
	t.cancel()
	t.method.t.close()
}

var _ http.RoundTripper = (*Tunnel)(nil)

// estPeerMethod is the EAP-EST method inside the peer conversation.
type estPeerMethod struct {
	typ eap.MethodType
	t   peerTunnel
}

func (m *estPeerMethod) Type() eap.MethodType { return m.typ }

func (m *estPeerMethod) Process(ctx context.Context, data []byte) ([]byte, error) {
	return m.t.process(ctx, data)
}

// Success accepts EAP-Success once the handshake has completed.
func (m *estPeerMethod) Success() (eap.Outcome, error) {
	return m.t.keys()
}
