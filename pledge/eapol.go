package pledge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/brski-eap/brski/authenticator"
	"github.com/brski-eap/brski/authenticator/eapol"
	"github.com/brski-eap/brski/eapest"
)

// Defaults of the EAPOLTransport timers, after the supplicant PAE timers
// of IEEE 802.1X-2004, Section 8.2.11.
const (
	DefaultStartPeriod = 30 * time.Second // startPeriod
	DefaultMaxStart    = 3                // maxStart
	DefaultAuthPeriod  = 30 * time.Second // authPeriod
)

// ErrNoAuthenticator means that no authenticator sent an EAP-Request after
// MaxStart EAPOL-Start PDUs, so the link has no 802.1X authenticator, or
// only authenticators that the transport skips.
var ErrNoAuthenticator = errors.New("pledge: no 802.1X authenticator responded to EAPOL-Start")

// ErrAuthenticatorTimeout means that the authenticator sent no EAP packet
// within AuthPeriod of the last EAP-Response.
var ErrAuthenticatorTimeout = errors.New("pledge: 802.1X authenticator timed out")

var _ eapest.Transport = (*EAPOLTransport)(nil)

// frameConn is the part of authenticator.Conn that EAPOLTransport uses, so
// that tests can replace the socket.
type frameConn interface {
	Interface() *net.Interface
	ReadFrame() (authenticator.Frame, error)
	WriteFrame(dst net.HardwareAddr, p *eapol.PDU) error
	SetReadDeadline(t time.Time) error
	Close() error
}

// EAPOLConfig sets the timers of an EAPOLTransport. Zero fields select the
// defaults named on them.
type EAPOLConfig struct {
	// StartPeriod is the wait for an EAP-Request after each EAPOL-Start.
	// Default DefaultStartPeriod.
	StartPeriod time.Duration
	// MaxStart is the number of EAPOL-Start PDUs sent before the
	// transport gives up. Default DefaultMaxStart.
	MaxStart int
	// AuthPeriod is the wait for the authenticator's next EAP packet after
	// an EAP-Response. Default DefaultAuthPeriod.
	AuthPeriod time.Duration
	// Skip lists authenticators whose frames are ignored, such as those
	// that failed an earlier attempt on a shared link.
	Skip []net.HardwareAddr
}

// EAPOLTransport is the supplicant side of EAPOL on one interface, an
// eapest.Transport for the EAP-EST and EAP-TLS peers (IEEE 802.1X-2010,
// Section 11). It sends EAPOL-Start and EAP-Responses to the PAE group
// address, as a supplicant on a point-to-point LAN does, and follows the
// first authenticator that sends an EAP-Request. Frames of any other
// source, other EAPOL types and frames that do not parse are dropped.
// EAPOLTransport is for one conversation at a time.
type EAPOLTransport struct {
	conn frameConn
	cfg  EAPOLConfig

	mu      sync.Mutex
	peer    net.HardwareAddr // authenticator, nil until its first EAP packet
	dropped int
}

// DialEAPOL opens an AF_PACKET socket on the interface named ifName in the
// calling thread's network namespace. It needs CAP_NET_RAW.
func DialEAPOL(ifName string, cfg EAPOLConfig) (*EAPOLTransport, error) {
	conn, err := authenticator.Listen(ifName)
	if err != nil {
		return nil, fmt.Errorf("pledge: open EAPOL socket on %s: %w", ifName, err)
	}
	return newEAPOLTransport(conn, cfg), nil
}

func newEAPOLTransport(conn frameConn, cfg EAPOLConfig) *EAPOLTransport {
	if cfg.StartPeriod == 0 {
		cfg.StartPeriod = DefaultStartPeriod
	}
	if cfg.MaxStart == 0 {
		cfg.MaxStart = DefaultMaxStart
	}
	if cfg.AuthPeriod == 0 {
		cfg.AuthPeriod = DefaultAuthPeriod
	}
	return &EAPOLTransport{conn: conn, cfg: cfg}
}

// Exchange sends eapResponse and returns the authenticator's next EAP
// packet. A nil eapResponse starts the conversation with EAPOL-Start,
// which is sent again every StartPeriod until a Request arrives, up to
// MaxStart times. A retransmitted Request is returned again, and the EAP
// peer answers it with its last Response (RFC 3748, Section 4.1).
func (t *EAPOLTransport) Exchange(ctx context.Context, eapResponse []byte) ([]byte, error) {
	if eapResponse == nil {
		return t.start(ctx)
	}
	if err := t.send(eapol.TypeEAPPacket, eapResponse); err != nil {
		return nil, err
	}
	msg, err := t.await(ctx, t.cfg.AuthPeriod)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return nil, fmt.Errorf("%w within %v on %s", ErrAuthenticatorTimeout,
			t.cfg.AuthPeriod, t.conn.Interface().Name)
	}
	return msg, err
}

func (t *EAPOLTransport) start(ctx context.Context) ([]byte, error) {
	for range t.cfg.MaxStart {
		if err := t.send(eapol.TypeStart, nil); err != nil {
			return nil, err
		}
		msg, err := t.await(ctx, t.cfg.StartPeriod)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			continue
		}
		return msg, err
	}
	return nil, fmt.Errorf("%w on %s after %d attempts", ErrNoAuthenticator,
		t.conn.Interface().Name, t.cfg.MaxStart)
}

// Logoff sends EAPOL-Logoff, which ends the session and closes the port
// for this device.
func (t *EAPOLTransport) Logoff() error { return t.send(eapol.TypeLogoff, nil) }

// Authenticator returns the address of the authenticator that the
// transport follows, or nil before one answered.
func (t *EAPOLTransport) Authenticator() net.HardwareAddr {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.peer)
}

// Dropped returns the number of frames that the transport ignored.
func (t *EAPOLTransport) Dropped() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.dropped
}

// Close closes the socket.
func (t *EAPOLTransport) Close() error { return t.conn.Close() }

func (t *EAPOLTransport) send(typ eapol.PacketType, body []byte) error {
	err := t.conn.WriteFrame(eapol.PAEGroupAddress(), &eapol.PDU{Type: typ, Body: body})
	if err != nil {
		return fmt.Errorf("pledge: send %v on %s: %w", typ, t.conn.Interface().Name, err)
	}
	return nil
}

// await reads frames until an EAP packet for this supplicant arrives, wait
// passes, which returns an error matching os.ErrDeadlineExceeded, or ctx
// ends.
func (t *EAPOLTransport) await(ctx context.Context, wait time.Duration) ([]byte, error) {
	deadline := time.Now().Add(wait)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := t.conn.SetReadDeadline(deadline); err != nil {
		return nil, fmt.Errorf("pledge: set EAPOL read deadline: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { t.conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	for {
		f, err := t.conn.ReadFrame()
		var malformed *authenticator.MalformedFrameError
		switch {
		case errors.As(err, &malformed):
			t.drop()
			continue
		case err != nil && ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil:
			return nil, err
		}
		if msg, ok := t.accept(f); ok {
			return msg, nil
		}
		t.drop()
	}
}

// accept returns the EAP packet of f when f is an EAP-Request, Success or
// Failure from the authenticator that the transport follows, or from the
// first one that is not skipped.
func (t *EAPOLTransport) accept(f authenticator.Frame) ([]byte, bool) {
	own := t.conn.Interface().HardwareAddr
	dst := f.Header.Destination
	if !bytes.Equal(dst, own) && !bytes.Equal(dst, eapol.PAEGroupAddress()) {
		return nil, false
	}
	if f.PDU.Type != eapol.TypeEAPPacket || len(f.PDU.Body) < 4 {
		return nil, false
	}
	if code := f.PDU.Body[0]; code != 1 && code != 3 && code != 4 {
		return nil, false // a Response of another supplicant, or an unknown code
	}
	src := f.Header.Source
	if src[0]&1 != 0 || bytes.Equal(src, own) {
		return nil, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.peer != nil && !bytes.Equal(src, t.peer):
		return nil, false
	case t.peer == nil && slices.ContainsFunc(t.cfg.Skip, func(a net.HardwareAddr) bool {
		return bytes.Equal(a, src)
	}):
		return nil, false
	}
	t.peer = slices.Clone(src)
	return bytes.Clone(f.PDU.Body), true
}

func (t *EAPOLTransport) drop() {
	t.mu.Lock()
	t.dropped++
	t.mu.Unlock()
}
