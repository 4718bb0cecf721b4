// Package pae is the authenticator Port Access Entity of IEEE 802.1X: the
// state machines that relay EAP between supplicants and a Backend, and that
// open a port for a supplicant once the server accepts it.
//
// A Port serves one interface. The caller reads EAPOL frames and passes them
// to HandleFrame, reports the link state with LinkUp and LinkDown, and
// supplies the transmitter, the port control and the Backend. The package
// has no goroutines of its own apart from one per Backend.Exchange in
// flight, and it reads time only through Config.Clock, so tests run it on a
// clock that they advance by hand.
//
// The states follow the authenticator PAE and backend authentication state
// machines of IEEE 802.1X-2004, folded into one machine per
// supplicant: connecting (EAP-Request/Identity sent), authenticating (EAP
// relayed to the server), authenticated, and held (quiet after a failure).
package pae

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"sync"
	"sync/atomic"

	"github.com/brski-eap/brski/authenticator/eapol"
)

// Sender transmits EAPOL PDUs on the port. authenticator.Conn implements it.
type Sender interface {
	WriteFrame(dst net.HardwareAddr, p *eapol.PDU) error
}

// PortController opens and closes the port for MAC addresses.
// authenticator.PortControl implements it.
type PortController interface {
	// Lock blocks every MAC on port and returns it to its unauthenticated
	// VLAN.
	Lock(port string) error

	// Unlock opens port for every MAC.
	Unlock(port string) error

	// Authorize opens port for mac in vlan, where "" is the unauthenticated
	// VLAN.
	Authorize(port string, mac net.HardwareAddr, vlan string) error

	// Deauthorize closes port for mac again.
	Deauthorize(port string, mac net.HardwareAddr) error
}

// Port is the authenticator PAE of one port. It is safe for concurrent use.
type Port struct {
	name    string
	cfg     Config
	tx      Sender
	ctl     PortController
	backend Backend

	ctx      context.Context // canceled by Close, ends Backend exchanges
	cancel   context.CancelFunc
	inflight sync.WaitGroup // Backend exchanges

	mu       sync.Mutex
	up       bool
	closed   bool
	nextID   uint8
	sessions map[string]*session
	announce announcement
}

// announcement is the EAP-Request/Identity that the port sends to the PAE
// group address after the link comes up, for supplicants that do not send
// EAPOL-Start.
type announcement struct {
	id    uint8
	sends int
	timer Timer
	gen   uint64
}

// NewPort returns the PAE of the port named name. The port stays down, and
// drops every frame, until LinkUp.
func NewPort(name string, tx Sender, ctl PortController, backend Backend,
	cfg Config) (*Port, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if tx == nil || ctl == nil || backend == nil {
		return nil, fmt.Errorf("pae: port %q needs a Sender, a PortController and a Backend",
			name)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var seed [1]byte
	rand.Read(seed[:])
	return &Port{
		name: name, cfg: cfg.withDefaults(), tx: tx, ctl: ctl, backend: backend,
		ctx: ctx, cancel: cancel,
		nextID:   seed[0],
		sessions: make(map[string]*session),
	}, nil
}

// Name returns the name of the port.
func (p *Port) Name() string { return p.name }

// LinkUp locks the port and sends an EAP-Request/Identity to the PAE group
// address, again every TxPeriod up to MaxRequests times. It returns the
// error of PortController.Lock, and the port stays down then.
func (p *Port) LinkUp() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return fmt.Errorf("pae: port %q is closed", p.name)
	}
	if err := p.ctl.Lock(p.name); err != nil {
		return fmt.Errorf("pae: lock port %q: %w", p.name, err)
	}
	p.up = true
	p.announce.stop()
	p.announce.id = p.newID()
	p.announce.sends = 0
	p.send(eapol.PAEGroupAddress(), identityRequest(p.announce.id))
	p.scheduleAnnouncement()
	return nil
}

// LinkDown ends every session of the port and locks it, because a port
// whose link is down is unauthorized in IEEE 802.1X.
func (p *Port) LinkDown() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.linkDown(ReasonLinkDown)
}

// linkDown ends every session with reason and locks the port.
func (p *Port) linkDown(reason string) {
	p.up = false
	p.announce.stop()
	for _, s := range p.sessions {
		p.drop(s)
		p.observeSession(s, Event{Kind: EventSessionEnded, Reason: reason})
	}
	if err := p.ctl.Lock(p.name); err != nil {
		p.observe(Event{Kind: EventPortError, Err: err})
	}
}

// Close ends every session like LinkDown, with ReasonShutdown, cancels the
// Backend exchanges in flight and waits for them to return. The port drops
// frames afterwards, and LinkUp fails.
func (p *Port) Close() {
	p.cancel()
	p.mu.Lock()
	p.closed = true
	p.linkDown(ReasonShutdown)
	p.mu.Unlock()
	p.inflight.Wait()
}

func (p *Port) scheduleAnnouncement() {
	p.announce.gen++
	gen := p.announce.gen
	p.announce.timer = p.cfg.Clock.AfterFunc(p.cfg.TxPeriod, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if gen != p.announce.gen || !p.up || p.announce.sends >= p.cfg.MaxRequests {
			return
		}
		if p.cfg.Mode != MultiAuth && len(p.sessions) > 0 {
			return
		}
		p.announce.sends++
		p.send(eapol.PAEGroupAddress(), identityRequest(p.announce.id))
		p.scheduleAnnouncement()
	})
}

func (a *announcement) stop() {
	a.gen++
	if a.timer != nil {
		a.timer.Stop()
		a.timer = nil
	}
}

// HandleFrame processes one EAPOL PDU that src sent. PDUs of other types
// than EAP-Packet, EAPOL-Start and EAPOL-Logoff are dropped, as are PDUs
// from group addresses and all PDUs while the port is down.
func (p *Port) HandleFrame(src net.HardwareAddr, pdu *eapol.PDU) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.up {
		p.dropped(src, "port is down")
		return
	}
	if len(src) != 6 || src[0]&1 != 0 {
		p.dropped(src, "source is not a unicast MAC address")
		return
	}
	s := p.sessions[string(src)]
	switch pdu.Type {
	case eapol.TypeStart:
		p.onStart(s, src)
	case eapol.TypeLogoff:
		p.onLogoff(s, src)
	case eapol.TypeEAPPacket:
		p.onEAP(s, src, pdu.Body)
	default:
		p.dropped(src, pdu.Type.String()+" not handled")
	}
}

// newSession creates the session of mac unless the host mode forbids
// another one.
func (p *Port) newSession(mac net.HardwareAddr) *session {
	limit := 1
	if p.cfg.Mode == MultiAuth {
		limit = p.cfg.MaxSessions
	}
	if len(p.sessions) >= limit {
		p.dropped(mac, fmt.Sprintf("%s port has %d sessions", p.cfg.Mode, len(p.sessions)))
		return nil
	}
	s := &session{
		mac: append(net.HardwareAddr(nil), mac...),
		id:  newSessionID(),
	}
	p.sessions[string(mac)] = s
	p.observeSession(s, Event{Kind: EventSessionStarted})
	return s
}

// newID returns the next EAP Identifier for a request of the PAE itself.
func (p *Port) newID() uint8 {
	p.nextID++
	return p.nextID
}

// send transmits an EAP packet in an EAP-Packet PDU.
func (p *Port) send(dst net.HardwareAddr, eap []byte) {
	pdu := &eapol.PDU{Version: p.cfg.Version, Type: eapol.TypeEAPPacket, Body: eap}
	if err := p.tx.WriteFrame(dst, pdu); err != nil {
		p.observe(Event{Kind: EventSendError, MAC: dst, Err: err})
	}
}

func (p *Port) dropped(mac net.HardwareAddr, reason string) {
	p.observe(Event{Kind: EventFrameDropped, MAC: mac, Reason: reason})
}

func (p *Port) observeSession(s *session, e Event) {
	e.MAC = s.mac
	e.SessionID = s.id
	p.observe(e)
}

func (p *Port) observe(e Event) {
	if p.cfg.Observe == nil {
		return
	}
	e.Port = p.name
	p.cfg.Observe(e)
}

var (
	sessionPrefix  = randomPrefix()
	sessionCounter atomic.Uint64
)

func randomPrefix() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newSessionID returns an Acct-Session-Id that is unique within the
// process and, through its random prefix, most likely across restarts.
func newSessionID() string {
	return fmt.Sprintf("%s-%08x", sessionPrefix, sessionCounter.Add(1))
}
