package eapserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	layeh "layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2869"

	"github.com/brski-eap/brski/eap"
	"github.com/brski-eap/brski/eapest"
	"github.com/brski-eap/brski/policies"
	"github.com/brski-eap/brski/radius"
	"github.com/brski-eap/brski/registrar"
)

// conversation is the state behind one RADIUS State.
type conversation struct {
	eap *eap.Conversation
	// values carries the registrar session and the NAS facts. Every
	// Handle call passes them on, so the method's Start context, which lives
	// on in the tunnel, has them too.
	values context.Context
	nas    policies.NASFacts
	start  time.Time
}

func (c *conversation) close() { c.eap.Close() }

// ServeRADIUS implements radius.Handler for Access-Requests.
func (s *Server) ServeRADIUS(ctx context.Context, req *radius.Request) (*layeh.Packet, error) {
	return s.serve(ctx, req, req.EAPMessage())
}

// serve handles a request whose reassembled EAP-Message is msg, nil when
// it has none.
func (s *Server) serve(ctx context.Context, req *radius.Request,
	msg []byte) (*layeh.Packet, error) {
	if msg == nil {
		// RFC 3579, Section 2.6.2: an EAP-only server rejects a request
		// without EAP-Message.
		return s.rejectRequest(req, nil, errors.New("eapserver: Access-Request without EAP-Message"))
	}
	if req.State() == nil {
		return s.begin(ctx, req, msg)
	}
	v, err := s.sessions.Lookup(req)
	if err != nil {
		return s.rejectRequest(req, msg, err)
	}
	c := v.(*conversation)
	reply, err := c.eap.Handle(valuesContext{ctx, c.values}, msg)
	if errors.Is(err, eap.ErrDiscard) {
		return nil, nil
	}
	if errors.Is(err, eap.ErrFinished) {
		s.sessions.Delete(req.State())
		return s.rejectRequest(req, msg, err)
	}
	return s.respond(ctx, req, c, req.State(), reply)
}

// begin starts a conversation for a request without State. The State is
// created only when a Challenge goes out, so a discarded first packet
// leaves nothing behind.
func (s *Server) begin(ctx context.Context, req *radius.Request,
	msg []byte) (*layeh.Packet, error) {
	nas := nasFacts(req)
	conv, err := eap.NewConversation(eap.Config{
		Methods: s.methods, FramedMTU: framedMTU(req.Packet), Facts: &nas,
		MaxRounds: s.cfg.MaxRounds, Now: s.cfg.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("eapserver: %w", err)
	}
	values := registrar.NewSessionContext(registrar.WithNASFacts(context.Background(),
		registrar.NASFacts{ClientName: nas.Client, NASIdentifier: nas.Identifier,
			NASPortID: nas.PortID, CalledStationID: nas.CalledStationID,
			CallingStationID: nas.CallingStationID}))
	c := &conversation{eap: conv, values: values, nas: nas, start: s.cfg.Now()}
	reply, err := conv.Handle(valuesContext{ctx, values}, msg)
	if errors.Is(err, eap.ErrDiscard) {
		c.close()
		return nil, nil
	}
	return s.respond(ctx, req, c, nil, reply)
}

// respond turns the conversation's reply into the RADIUS reply.
func (s *Server) respond(ctx context.Context, req *radius.Request, c *conversation,
	state []byte, reply eap.Reply) (*layeh.Packet, error) {
	if reply.Status == eap.StatusContinue {
		return s.challenge(req, c, state, reply.Packet)
	}
	if state != nil {
		s.sessions.Delete(state)
	}
	defer c.close()
	res := c.eap.Result()
	sum := Result{NAS: c.nas.Client, CallingStationID: c.nas.CallingStationID,
		Identity: res.Identity, Method: res.Method, Rounds: res.Rounds,
		Duration: s.cfg.Now().Sub(c.start), LegacyTLS: s.legacyTLS(res)}
	if reply.Status == eap.StatusFailure {
		sum.Outcome, sum.Err = OutcomeReject, res.Err
		if sum.Err == nil {
			sum.Err = errors.New("eapserver: EAP conversation failed")
		}
		return s.reject(req, reply.Packet, sum)
	}
	d, serial, err := s.decide(ctx, c, res)
	sum.Serial = serial
	if err != nil {
		sum.Outcome, sum.Err = OutcomeReject, err
		return s.reject(req, failureFor(reply.Packet), sum)
	}
	sum.Outcome, sum.Reason, sum.Rule = d.Outcome.String(), d.Reason, d.Rule
	if d.Outcome == policies.OutcomeReject {
		return s.reject(req, failureFor(reply.Packet), sum)
	}
	p, err := s.accept(req, reply.Packet, res.MSK, d.Reply)
	if err != nil {
		sum.Outcome, sum.Err = OutcomeReject, err
		return s.reject(req, failureFor(reply.Packet), sum)
	}
	if !d.Reply.VLAN.IsZero() {
		sum.VLAN = d.Reply.VLAN.String()
	}
	s.report(sum)
	return p, nil
}

// legacyTLS returns the legacy features of a finished method's handshake
// under eapest.ProfileLegacy, and zero otherwise.
func (s *Server) legacyTLS(res eap.Result) eapest.LegacyFeatures {
	state, ok := res.Detail.(tls.ConnectionState)
	if s.cfg.TLSProfile != eapest.ProfileLegacy || !ok {
		return 0
	}
	return eapest.LegacyFeaturesOf(&state)
}

// challenge sends the next EAP Request in an Access-Challenge with the
// conversation's State, creating the State on the first round.
func (s *Server) challenge(req *radius.Request, c *conversation, state []byte,
	msg []byte) (*layeh.Packet, error) {
	if state == nil {
		var err error
		state, err = s.sessions.New(c.nas.Client, c.nas.CallingStationID, c)
		if err != nil {
			c.close()
			// A full table drops the request; the NAS retries later.
			return nil, fmt.Errorf("eapserver: %w", err)
		}
	}
	p := req.Reply(layeh.CodeAccessChallenge)
	if err := rfc2865.State_Set(p, state); err != nil {
		return nil, fmt.Errorf("eapserver: set State: %w", err)
	}
	if err := radius.SetEAPMessage(p, msg); err != nil {
		return nil, err
	}
	return p, nil
}

// rejectRequest rejects a request that belongs to no live conversation,
// such as one with an unknown State. msg is the peer's EAP packet.
func (s *Server) rejectRequest(req *radius.Request, msg []byte,
	cause error) (*layeh.Packet, error) {
	nas := nasFacts(req)
	return s.reject(req, failureFor(msg), Result{NAS: nas.Client,
		CallingStationID: nas.CallingStationID, Identity: req.UserName(),
		Outcome: OutcomeReject, Err: cause})
}

// reject sends Access-Reject with an EAP-Failure, which RFC 3579,
// Section 2.6.3 requires of every Access-Reject in EAP.
func (s *Server) reject(req *radius.Request, failure []byte, sum Result) (*layeh.Packet,
	error) {
	p := req.Reply(layeh.CodeAccessReject)
	if err := radius.SetEAPMessage(p, failure); err != nil {
		return nil, err
	}
	s.report(sum)
	return p, nil
}

// failureFor returns an EAP-Failure with the Identifier of msg, or 0 when
// msg does not parse. msg is the peer's Response for a request that has no
// conversation, or the EAP-Success of a method after which the policy
// rejects the device (RFC 3748, Section 4.2).
func failureFor(msg []byte) []byte {
	var id uint8
	if p, err := eap.Parse(msg); err == nil {
		id = p.Identifier
	}
	b, _ := (&eap.Packet{Code: eap.CodeFailure, Identifier: id}).Marshal()
	return b
}

func (s *Server) report(r Result) {
	if s.cfg.OnResult != nil {
		s.cfg.OnResult(r)
	}
}

// nasFacts collects the policy facts about the NAS from a request.
func nasFacts(req *radius.Request) policies.NASFacts {
	return policies.NASFacts{
		Client:           req.NAS.Name,
		Identifier:       rfc2865.NASIdentifier_GetString(req.Packet),
		PortID:           rfc2869.NASPortID_GetString(req.Packet),
		CalledStationID:  rfc2865.CalledStationID_GetString(req.Packet),
		CallingStationID: req.CallingStationID(),
	}
}

// framedMTU returns the Framed-MTU of the supplicant's link (RFC 3580,
// Section 3.12), or 0 when the request has none.
func framedMTU(p *layeh.Packet) int {
	mtu, err := rfc2865.FramedMTU_Lookup(p)
	if err != nil || mtu > 65535 {
		return 0
	}
	return int(mtu)
}

// valuesContext takes its values from values first and everything else,
// cancellation included, from the embedded request context.
type valuesContext struct {
	context.Context
	values context.Context
}

func (c valuesContext) Value(key any) any {
	if v := c.values.Value(key); v != nil {
		return v
	}
	return c.Context.Value(key)
}
