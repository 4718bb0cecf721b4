package registrar

import (
	"context"
	"crypto/x509"
	"net"
	"sync"

	"github.com/brski-eap/brski/policies"
)

// NASFacts describes the network access server that relays an EAP-EST
// conversation, as the RADIUS Access-Request names it (RFC 2865,
// Section 5). The EAP layer passes them with WithNASFacts, and policies may
// match on them.
type NASFacts struct {
	// ClientName is the name of the RADIUS client in the server
	// configuration.
	ClientName string
	// NASIdentifier is the NAS-Identifier attribute.
	NASIdentifier string
	// NASPortID is the NAS-Port-Id attribute (RFC 2869, Section 5.17).
	NASPortID string
	// CalledStationID is the Called-Station-Id attribute.
	CalledStationID string
	// CallingStationID is the Calling-Station-Id attribute, usually the
	// MAC address of the pledge.
	CallingStationID string
}

type nasKey struct{}

// WithNASFacts returns a context that carries the facts about the NAS of an
// EAP-EST conversation to the handler.
func WithNASFacts(ctx context.Context, nas NASFacts) context.Context {
	return context.WithValue(ctx, nasKey{}, nas)
}

// NASFactsFrom returns the NAS facts that WithNASFacts stored in ctx, and
// false for a request that came over HTTPS without a NAS.
func NASFactsFrom(ctx context.Context) (NASFacts, bool) {
	nas, ok := ctx.Value(nasKey{}).(NASFacts)
	return nas, ok
}

type sessionKey struct{}

// session is the state of one TLS connection or one EAP-EST tunnel. EST
// enrollment is allowed only in the session whose voucher exchange
// succeeded.
type session struct {
	mu sync.Mutex
	// peer is the verified identity of the TLS client certificate,
	// computed on the first request.
	peer *peerIdentity
	// enroll is set when a voucher exchange succeeded in this session.
	enroll *enrollGrant
	// decision is the policy decision of the last voucher exchange.
	decision *policies.Decision
	// issued is set when a grant that a later voucher exchange replaced
	// had enrolled an LDevID, which stays valid.
	issued bool
}

// enrollGrant records a successful voucher exchange, which allows one
// device to enroll in the same session.
type enrollGrant struct {
	// Serial is the device serial number from the IDevID.
	Serial string
	// Fingerprint is the SHA-256 fingerprint of the IDevID, or "" when a
	// reduced-security policy accepted a pledge without one.
	Fingerprint string
	// DecisionID is the store row of the decision.
	DecisionID int64
	// Outcome is the policy outcome, such as "accept" or "quarantine".
	Outcome string
	// enrolling is set while, and enrolled after, simpleenroll used the
	// grant; one voucher exchange allows one enrollment.
	enrolling, enrolled bool
}

// NewSessionContext returns a context for a new session. The EAP-EST layer
// calls it once per tunnel and passes the context with every request of
// that tunnel. A request whose context has no session cannot enroll.
func NewSessionContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, sessionKey{}, &session{})
}

// ConnContext starts a session for each HTTPS connection. Set it as
// http.Server.ConnContext.
func (r *Registrar) ConnContext(ctx context.Context, _ net.Conn) context.Context {
	return NewSessionContext(ctx)
}

func sessionFrom(ctx context.Context) *session {
	s, _ := ctx.Value(sessionKey{}).(*session)
	return s
}

func (s *session) grant() *enrollGrant {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.enroll
}

func (s *session) setGrant(g *enrollGrant) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.enroll != nil && s.enroll.enrolled {
		s.issued = true
	}
	s.enroll = g
}

// cachedPeer returns the identity verified earlier for the same leaf
// certificate, so each session verifies its client certificate once.
func (s *session) cachedPeer(leaf *x509.Certificate) *peerIdentity {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.peer != nil && s.peer.Cert != nil && leaf != nil && s.peer.Cert.Equal(leaf) {
		return s.peer
	}
	return nil
}

func (s *session) storePeer(p *peerIdentity) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.peer = p
}

func (s *session) setDecision(d *policies.Decision) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.decision = d
}

// SessionEnrolled reports whether simpleenroll issued an LDevID in the
// session of ctx, also when a later voucher exchange of the session did
// not enroll. The EAP-EST layer accepts a tunnel only then. A pledge that
// rejected the voucher, or stopped before enrolling, has no domain
// certificate and gets Access-Reject whatever the policy decided.
func SessionEnrolled(ctx context.Context) bool {
	s := sessionFrom(ctx)
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued || s.enroll != nil && s.enroll.enrolled
}

// SessionDecision returns the policy decision of the last voucher exchange
// in the session of ctx. The EAP-EST layer reads it at the end of a tunnel
// to choose Access-Accept with the decision's reply attributes or
// Access-Reject.
func SessionDecision(ctx context.Context) (policies.Decision, bool) {
	s := sessionFrom(ctx)
	if s == nil {
		return policies.Decision{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.decision == nil {
		return policies.Decision{}, false
	}
	return *s.decision, true
}
