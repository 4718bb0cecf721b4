package pae

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// sessionState is the state of one supplicant's session.
type sessionState int

const (
	// connecting: EAP-Request/Identity sent, its response awaited.
	stateConnecting sessionState = iota
	// authenticating: EAP relayed between supplicant and server.
	stateAuthenticating
	// authenticated: the server accepted the supplicant.
	stateAuthenticated
	// held: the server rejected the supplicant, which is ignored for
	// QuietPeriod.
	stateHeld
)

var stateNames = [...]string{"connecting", "authenticating", "authenticated", "held"}

func (st sessionState) String() string { return stateNames[st] }

// session is the state of one supplicant MAC on a port.
type session struct {
	mac net.HardwareAddr
	id  string // Acct-Session-Id

	state      sessionState
	authorized bool   // the port is open for mac, also during reauthentication
	vlan       string // VLAN of the authorization
	reauth     bool   // the authenticated timer starts a reauthentication
	identity   string
	radius     []byte // RADIUS State of the last Access-Challenge

	lastRequest []byte // last EAP-Request sent, for retransmission
	resends     int    // retransmissions of lastRequest
	responseID  uint8  // Identifier of the last EAP-Response relayed
	waiting     bool   // a Backend exchange is in flight
	exchange    uint64 // generation of the latest exchange
	lastStart   time.Time

	timer    Timer
	timerGen uint64
}

// SessionInfo describes one session for status output.
type SessionInfo struct {
	MAC        net.HardwareAddr
	SessionID  string
	State      string // connecting, authenticating, authenticated or held
	Authorized bool
	VLAN       string
	Identity   string
}

// Sessions returns the sessions of the port, in no particular order.
func (p *Port) Sessions() []SessionInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]SessionInfo, 0, len(p.sessions))
	for _, s := range p.sessions {
		out = append(out, SessionInfo{
			MAC: s.mac, SessionID: s.id, State: s.state.String(),
			Authorized: s.authorized, VLAN: s.vlan, Identity: s.identity,
		})
	}
	return out
}

// onStart handles EAPOL-Start. A new supplicant gets an EAP-Request/Identity.
// In the middle of an exchange the last request is sent again, and an
// authenticated supplicant is reauthenticated. Starts closer together than
// StartInterval and Starts in the quiet period are dropped.
func (p *Port) onStart(s *session, src net.HardwareAddr) {
	now := p.cfg.Clock.Now()
	if s == nil {
		if s = p.newSession(src); s != nil {
			s.lastStart = now
			p.connect(s)
		}
		return
	}
	if now.Sub(s.lastStart) < p.cfg.StartInterval {
		p.dropped(src, "EAPOL-Start within StartInterval of the previous one")
		return
	}
	s.lastStart = now
	switch {
	case s.state == stateHeld:
		p.dropped(src, "EAPOL-Start in the quiet period")
	case s.state == stateAuthenticated:
		p.observeSession(s, Event{Kind: EventReauthenticating})
		p.connect(s)
	case s.waiting:
		p.dropped(src, "EAPOL-Start while the server decides")
	default:
		p.send(s.mac, s.lastRequest)
	}
}

// onLogoff ends the session of src.
func (p *Port) onLogoff(s *session, src net.HardwareAddr) {
	if s == nil {
		p.dropped(src, "EAPOL-Logoff without a session")
		return
	}
	if s.state == stateHeld {
		p.dropped(src, "EAPOL-Logoff in the quiet period")
		return
	}
	p.end(s, ReasonLogoff, nil)
}

// onEAP relays an EAP-Response to the last request of the session. A
// Response/Identity to the port's announcement starts a session.
func (p *Port) onEAP(s *session, src net.HardwareAddr, eap []byte) {
	h, err := parseEAP(eap)
	if err != nil {
		p.dropped(src, err.Error())
		return
	}
	if h.code != eapResponse {
		p.dropped(src, fmt.Sprintf("EAP code %d from a supplicant", h.code))
		return
	}
	if s == nil {
		if h.typ != eapTypeIdentity || h.id != p.announce.id {
			p.dropped(src, "EAP-Response without a session")
			return
		}
		if s = p.newSession(src); s == nil {
			return
		}
		s.lastRequest = identityRequest(h.id)
	}
	switch {
	case s.state == stateAuthenticated || s.state == stateHeld:
		p.dropped(src, "EAP-Response in state "+s.state.String())
	case s.waiting:
		p.dropped(src, "EAP-Response while the server decides")
	case len(s.lastRequest) < 2 || h.id != s.lastRequest[1]:
		p.dropped(src, fmt.Sprintf("EAP-Response Identifier %d does not match the request", h.id))
	case s.state == stateConnecting && h.typ != eapTypeIdentity:
		p.dropped(src, fmt.Sprintf("EAP-Response type %d to a Request/Identity", h.typ))
	default:
		if h.typ == eapTypeIdentity {
			s.identity = string(h.data)
		}
		p.relay(s, h.id, eap)
	}
}

// connect sends an EAP-Request/Identity and waits TxPeriod for the
// response. An authorized session keeps its authorization while it
// reauthenticates.
func (p *Port) connect(s *session) {
	s.state = stateConnecting
	s.radius = nil
	s.exchange++ // a late reply of an earlier exchange no longer applies
	s.waiting = false
	p.sendRequest(s, identityRequest(p.newID()), p.cfg.TxPeriod)
}

func (p *Port) sendRequest(s *session, eap []byte, wait time.Duration) {
	s.lastRequest = eap
	s.resends = 0
	p.send(s.mac, eap)
	p.schedule(s, wait)
}

// relay passes an EAP-Response to the Backend in its own goroutine.
func (p *Port) relay(s *session, responseID uint8, eap []byte) {
	s.state = stateAuthenticating
	s.stopTimer()
	s.waiting = true
	s.responseID = responseID
	s.exchange++
	gen := s.exchange
	req := BackendRequest{
		EAP: append([]byte(nil), eap...), State: s.radius, Identity: s.identity,
		MAC: s.mac, Port: p.name, SessionID: s.id,
	}
	p.inflight.Add(1)
	go func() {
		defer p.inflight.Done()
		ctx, cancel := context.WithTimeout(p.ctx, p.cfg.ServerTimeout)
		defer cancel()
		reply, err := p.backend.Exchange(ctx, req)
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.sessions[string(s.mac)] != s || s.exchange != gen {
			return // the session ended or restarted meanwhile
		}
		s.waiting = false
		p.onReply(s, reply, err)
	}()
}

// errBackendReply reports a reply that the PAE cannot act on.
var errBackendReply = errors.New("pae: invalid backend reply")

func (p *Port) onReply(s *session, reply BackendReply, err error) {
	if err != nil {
		p.end(s, ReasonBackendError, err)
		return
	}
	switch reply.Code {
	case ReplyChallenge:
		h, err := parseEAP(reply.EAP)
		if err != nil || h.code != eapRequest {
			p.end(s, ReasonBackendError,
				fmt.Errorf("%w: Access-Challenge without an EAP-Request", errBackendReply))
			return
		}
		s.radius = reply.State
		p.sendRequest(s, reply.EAP, p.cfg.SupplicantTimeout)
	case ReplyAccept:
		p.accept(s, reply)
	case ReplyReject:
		p.reject(s, reply)
	default:
		p.end(s, ReasonBackendError, fmt.Errorf("%w: code %d", errBackendReply, reply.Code))
	}
}
