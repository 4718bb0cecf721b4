package eap

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Defaults of Config.
const (
	// DefaultMaxRounds allows an EAP-TLS handshake with long certificate
	// chains at small fragment sizes. EAP-EST conversations that wait for a
	// MASA need more and set Config.MaxRounds themselves.
	DefaultMaxRounds = 50
	// DefaultIdleTimeout is the longest wait for a Response. It is above
	// the 30-second EAPOL retransmission and RADIUS timeouts of common NAS
	// defaults, so a live peer never hits it.
	DefaultIdleTimeout = 60 * time.Second
)

// MethodSelector returns the methods acceptable for a peer identity, most
// preferred first. The conversation offers the first one. When the peer
// responds with a Nak, it switches to the first remaining method that the
// Nak lists, so a selector that returns EAP-TLS then EAP-EST lets enrolled
// devices use EAP-TLS and lets a pledge Nak its way to EAP-EST. A selector
// may also decide from the identity alone and return a single method.
type MethodSelector func(ctx context.Context, identity string) ([]Method, error)

// Config configures a server Conversation. Zero fields take the defaults.
type Config struct {
	// Methods selects the methods after the Identity Response. Required.
	Methods MethodSelector
	// FramedMTU is passed to the methods in Session; 0 means unknown.
	FramedMTU int
	// Facts is passed to the methods in Session.
	Facts any
	// MaxRounds caps the Requests sent, the Identity Request included.
	// Default DefaultMaxRounds.
	MaxRounds int
	// IdleTimeout caps the wait between a Request and its Response.
	// Default DefaultIdleTimeout.
	IdleTimeout time.Duration
	// Now returns the current time. Default time.Now.
	Now func() time.Time
}

type phase int

const (
	phaseInit phase = iota
	phaseIdentity
	phaseMethod
	phaseDone
)

// Reply is the conversation's reply to one EAP packet. Packet is the
// encoded Request, Success or Failure. Status selects the RADIUS reply:
// Access-Challenge, Access-Accept or Access-Reject.
type Reply struct {
	Packet []byte
	Status Status
}

// Conversation is the authenticator side of one EAP conversation,
// RFC 3748, Section 2. It is safe for concurrent use, but packets of one
// conversation are handled one at a time.
type Conversation struct {
	mu        sync.Mutex
	cfg       Config
	phase     phase
	id        uint8 // Identifier of the outstanding Request
	deadline  time.Time
	identity  string
	remaining []Method
	current   Method
	active    bool // the peer has responded to the current method with its type
	result    Result
}

// NewConversation returns a conversation in its initial state.
func NewConversation(cfg Config) (*Conversation, error) {
	if cfg.Methods == nil {
		return nil, errors.New("eap: Config.Methods is nil; set a method selector")
	}
	if cfg.MaxRounds <= 0 {
		cfg.MaxRounds = DefaultMaxRounds
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	var b [1]byte
	rand.Read(b[:])
	return &Conversation{cfg: cfg, id: b[0]}, nil
}

// Handle processes one EAP packet from the peer. An empty msg is an
// EAP-Start (RFC 3579, Section 2.1) and yields the Identity Request. The
// first packet may also be a Response/Identity that the NAS solicited
// itself; its Identifier is adopted. An error wrapping ErrDiscard means the
// packet was dropped and nothing is sent. Any other error comes with a
// Failure reply that the caller sends. Handle blocks while the method
// works, which for EAP-EST is up to its round budget.
func (c *Conversation) Handle(ctx context.Context, msg []byte) (Reply, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.phase == phaseDone {
		return Reply{}, ErrFinished
	}
	if len(msg) == 0 {
		if c.phase != phaseInit {
			return Reply{}, fmt.Errorf("%w: EAP-Start in the middle of a conversation", ErrDiscard)
		}
		return c.request(NewIdentityRequest(c.id + 1))
	}
	p, err := Parse(msg)
	if err != nil {
		return Reply{}, fmt.Errorf("%w: %w", ErrDiscard, err)
	}
	if p.Code != CodeResponse {
		return Reply{}, fmt.Errorf("%w: %v from the peer", ErrDiscard, p)
	}
	if c.phase == phaseInit {
		if p.Type != TypeIdentity {
			return Reply{}, fmt.Errorf("%w: %v before any Request", ErrDiscard, p)
		}
		c.id = p.Identifier
		return c.handleIdentity(ctx, p)
	}
	if p.Identifier != c.id {
		return Reply{}, fmt.Errorf("%w: Identifier %d, expected %d", ErrDiscard, p.Identifier, c.id)
	}
	if c.cfg.Now().After(c.deadline) {
		return c.fail(fmt.Errorf("%w: Response after %v", ErrIdleTimeout, c.cfg.IdleTimeout))
	}
	if c.phase == phaseIdentity {
		return c.handleIdentity(ctx, p)
	}
	return c.handleMethod(ctx, p)
}

func (c *Conversation) handleIdentity(ctx context.Context, p *Packet) (Reply, error) {
	if p.Type != TypeIdentity {
		return c.fail(fmt.Errorf("%w: %v in reply to the Identity Request", ErrProtocol, p))
	}
	identity, err := Identity(p)
	if err != nil {
		return c.fail(fmt.Errorf("%w: %w", ErrProtocol, err))
	}
	c.identity = identity
	c.result.Identity = identity
	methods, err := c.cfg.Methods(ctx, identity)
	if err != nil {
		return c.fail(fmt.Errorf("eap: select methods for %q: %w", identity, err))
	}
	if len(methods) == 0 {
		return c.fail(fmt.Errorf("%w: none configured for %q", ErrNoMethod, identity))
	}
	c.remaining = methods
	return c.startNext(ctx, nil)
}

// startNext starts the first remaining method that the peer accepts. A nil
// accept list accepts any method.
func (c *Conversation) startNext(ctx context.Context, accept []MethodType) (Reply, error) {
	for len(c.remaining) > 0 {
		m := c.remaining[0]
		c.remaining = c.remaining[1:]
		if accept != nil && !accepts(accept, m.Type()) {
			m.Close()
			continue
		}
		c.current, c.active = m, false
		c.result.Method = m.Type()
		data, err := m.Start(ctx, Session{
			Identity: c.identity, FramedMTU: c.cfg.FramedMTU, Facts: c.cfg.Facts,
		})
		if err != nil {
			return c.fail(fmt.Errorf("eap: start %v: %w", m.Type(), err))
		}
		c.phase = phaseMethod
		p := &Packet{Code: CodeRequest, Identifier: c.id + 1, Data: data}
		p.SetMethodType(m.Type())
		return c.request(p)
	}
	return c.fail(fmt.Errorf("%w: the peer accepts %v", ErrNoMethod, accept))
}

// accepts reports whether a Nak list admits t. A bare 254 in a legacy Nak
// admits every expanded type, RFC 3748, Section 5.3.1.
func accepts(list []MethodType, t MethodType) bool {
	if t.Type == TypeExpanded && slices.Contains(list, MethodType{Type: TypeExpanded}) {
		return true
	}
	return slices.Contains(list, t)
}

func (c *Conversation) handleMethod(ctx context.Context, p *Packet) (Reply, error) {
	if IsNak(p) {
		if c.active {
			return c.fail(fmt.Errorf("%w: Nak after %v started", ErrProtocol, c.current.Type()))
		}
		accept, err := ParseNak(p)
		if err != nil {
			return c.fail(fmt.Errorf("%w: %w", ErrProtocol, err))
		}
		c.current.Close()
		c.current = nil
		if accept == nil {
			accept = []MethodType{}
		}
		return c.startNext(ctx, accept)
	}
	if p.MethodType() != c.current.Type() {
		return c.fail(fmt.Errorf("%w: %v in reply to %v", ErrProtocol, p, c.current.Type()))
	}
	c.active = true
	step, err := c.current.Process(ctx, p.Data)
	if err != nil {
		return c.fail(fmt.Errorf("eap: %v: %w", c.current.Type(), err))
	}
	switch step.Status {
	case StatusContinue:
		next := &Packet{Code: CodeRequest, Identifier: c.id + 1, Data: step.Data}
		next.SetMethodType(c.current.Type())
		return c.request(next)
	case StatusSuccess:
		c.result.Outcome = step.Outcome
		return c.finish(StatusSuccess)
	}
	c.result.Outcome = step.Outcome
	if c.result.Err == nil {
		c.result.Err = fmt.Errorf("eap: %v failed", c.current.Type())
	}
	return c.finish(StatusFailure)
}

// request sends p as the next Request, enforcing the round limit.
func (c *Conversation) request(p *Packet) (Reply, error) {
	if c.result.Rounds >= c.cfg.MaxRounds {
		return c.fail(fmt.Errorf("%w: %d Requests sent", ErrRoundLimit, c.result.Rounds))
	}
	b, err := p.Marshal()
	if err != nil {
		return c.fail(fmt.Errorf("eap: encode %v: %w", p, err))
	}
	if c.phase == phaseInit {
		c.phase = phaseIdentity
	}
	c.id = p.Identifier
	c.result.Rounds++
	c.deadline = c.cfg.Now().Add(c.cfg.IdleTimeout)
	return Reply{Packet: b, Status: StatusContinue}, nil
}

// fail ends the conversation with a Failure and returns err as well.
func (c *Conversation) fail(err error) (Reply, error) {
	c.result.Err = err
	r, _ := c.finish(StatusFailure)
	return r, err
}

// finish sends Success or Failure with the Identifier of the last Response,
// RFC 3748, Section 4.2, and releases the methods.
func (c *Conversation) finish(s Status) (Reply, error) {
	code := CodeFailure
	if s == StatusSuccess {
		code = CodeSuccess
	}
	c.phase = phaseDone
	c.result.Status = s
	c.closeMethods()
	b, _ := (&Packet{Code: code, Identifier: c.id}).Marshal()
	return Reply{Packet: b, Status: s}, nil
}

func (c *Conversation) closeMethods() {
	if c.current != nil {
		c.current.Close()
		c.current = nil
	}
	for _, m := range c.remaining {
		m.Close()
	}
	c.remaining = nil
}

// Result returns the outcome. Its Status is StatusContinue until the
// conversation has ended.
func (c *Conversation) Result() Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.result
}

// Deadline returns the time after which the outstanding Request has timed
// out, so a session table can expire the conversation without a packet.
func (c *Conversation) Deadline() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.deadline
}

// Close ends the conversation without a reply and releases its methods.
func (c *Conversation) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.phase != phaseDone {
		c.phase = phaseDone
		c.result.Status = StatusFailure
		if c.result.Err == nil {
			c.result.Err = ErrFinished
		}
	}
	c.closeMethods()
	return nil
}
