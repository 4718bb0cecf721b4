package eap

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// PeerConfig configures a PeerConversation.
type PeerConfig struct {
	// Identity is sent in the Identity Response.
	Identity string
	// Methods are the methods the peer runs, most preferred first. A Request
	// for another type gets a Nak that lists them.
	Methods []PeerMethod
}

// PeerResult is the end of a conversation on the peer side.
type PeerResult struct {
	Status Status
	Method MethodType
	Outcome
}

// PeerConversation is the peer side of one EAP conversation. It responds
// to Identity and Notification Requests, Naks unknown types, runs the
// requested method and checks that the method allows a Success. It is safe
// for concurrent use.
type PeerConversation struct {
	mu       sync.Mutex
	cfg      PeerConfig
	current  PeerMethod
	lastID   int // Identifier of the last Request responded to, or -1
	lastResp []byte
	result   PeerResult
}

// NewPeerConversation returns a peer conversation in its initial state.
func NewPeerConversation(cfg PeerConfig) *PeerConversation {
	return &PeerConversation{cfg: cfg, lastID: -1}
}

// Handle processes one packet from the authenticator and returns the encoded
// Response, or nil with StatusSuccess or StatusFailure when the conversation
// ends. A Request that repeats the last Identifier gets the last Response
// again, RFC 3748, Section 4.1. An error wrapping ErrDiscard means the
// packet was dropped and the peer keeps waiting.
func (c *PeerConversation) Handle(ctx context.Context, msg []byte) ([]byte, Status, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.result.Status != StatusContinue {
		return nil, c.result.Status, ErrFinished
	}
	p, err := Parse(msg)
	if err != nil {
		return nil, StatusContinue, fmt.Errorf("%w: %w", ErrDiscard, err)
	}
	switch p.Code {
	case CodeSuccess:
		s, err := c.succeed()
		return nil, s, err
	case CodeFailure:
		c.result.Status = StatusFailure
		if c.result.Err == nil {
			c.result.Err = errors.New("eap: the authenticator sent Failure")
		}
		return nil, StatusFailure, nil
	case CodeResponse:
		return nil, StatusContinue, fmt.Errorf("%w: Response from the authenticator", ErrDiscard)
	}
	if int(p.Identifier) == c.lastID {
		return c.lastResp, StatusContinue, nil
	}
	resp, err := c.respond(ctx, p)
	if err != nil {
		return nil, StatusContinue, err
	}
	b, err := resp.Marshal()
	if err != nil {
		return nil, StatusContinue, fmt.Errorf("eap: encode %v: %w", resp, err)
	}
	c.lastID, c.lastResp = int(p.Identifier), b
	return b, StatusContinue, nil
}

func (c *PeerConversation) respond(ctx context.Context, p *Packet) (*Packet, error) {
	switch p.Type {
	case TypeIdentity:
		return NewIdentityResponse(p.Identifier, c.cfg.Identity), nil
	case TypeNotification:
		// RFC 3748, Section 5.2: the Response carries no data.
		return &Packet{Code: CodeResponse, Identifier: p.Identifier, Type: TypeNotification}, nil
	case TypeNak:
		return nil, fmt.Errorf("%w: Nak in a Request", ErrDiscard)
	}
	t := p.MethodType()
	m := c.method(t)
	if m == nil {
		desired := make([]MethodType, 0, len(c.cfg.Methods))
		for _, pm := range c.cfg.Methods {
			desired = append(desired, pm.Type())
		}
		return NewNak(p.Identifier, desired, t.Type == TypeExpanded), nil
	}
	c.current = m
	c.result.Method = t
	data, err := m.Process(ctx, p.Data)
	if err != nil {
		c.result.Err = err
		return nil, fmt.Errorf("eap: %v: %w", t, err)
	}
	resp := &Packet{Code: CodeResponse, Identifier: p.Identifier, Data: data}
	resp.SetMethodType(t)
	return resp, nil
}

func (c *PeerConversation) method(t MethodType) PeerMethod {
	for _, m := range c.cfg.Methods {
		if m.Type() == t {
			return m
		}
	}
	return nil
}

// succeed accepts a Success only when the method allows it, RFC 3748,
// Section 4.2, so a forged early Success cannot skip authentication.
func (c *PeerConversation) succeed() (Status, error) {
	if c.current == nil {
		return StatusContinue, fmt.Errorf("%w: Success before any method ran", ErrDiscard)
	}
	out, err := c.current.Success()
	if err != nil {
		return StatusContinue, fmt.Errorf("%w: Success rejected by %v: %w", ErrDiscard,
			c.current.Type(), err)
	}
	c.result.Outcome = out
	c.result.Status = StatusSuccess
	return StatusSuccess, nil
}

// Result returns the outcome. Its Status is StatusContinue until Success or
// Failure arrived.
func (c *PeerConversation) Result() PeerResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.result
}
