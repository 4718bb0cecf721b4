package eapserver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	layeh "layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"github.com/brski-eap/brski/devid"
	"github.com/brski-eap/brski/eap"
	"github.com/brski-eap/brski/eapest"
	"github.com/brski-eap/brski/policies"
	"github.com/brski-eap/brski/radius"
	"github.com/brski-eap/brski/registrar"
)

// OutcomeReject is the Result.Outcome of every Access-Reject. Accepts
// carry the policy outcome, "accept" or "quarantine".
const OutcomeReject = "reject"

// Result summarises one finished conversation for the log.
type Result struct {
	// NAS is the name of the RADIUS client.
	NAS string
	// CallingStationID is the supplicant's MAC address as the NAS sent
	// it. It is peer-controlled text.
	CallingStationID string
	// Identity is the EAP Response/Identity, peer-controlled text.
	Identity string
	// Method is the EAP method that ran last, the zero value when none
	// started.
	Method eap.MethodType
	// Serial is the device serial number, when the method found one.
	Serial string
	// Outcome is "accept", "quarantine" or "reject".
	Outcome string
	// Rule and Reason are the policy decision, when there was one.
	Rule   string
	Reason string
	// VLAN is the Tunnel-Private-Group-ID sent, or "".
	VLAN string
	// Rounds is the number of EAP Requests sent, the Identity Request
	// included when the server sent it rather than the NAS. Each is one
	// RADIUS round trip, and the final reply is one more.
	Rounds int
	// Err is the cause of a reject.
	Err error
	// Duration is the time from the first Access-Request to the reply.
	Duration time.Duration
	// LegacyTLS lists the features of eapest.ProfileLegacy that the
	// handshake used, such as TLS 1.0. It is zero under the default
	// profile and for conversations without a finished handshake.
	LegacyTLS eapest.LegacyFeatures
}

// MethodName returns "EAP-TLS", "EAP-EST" or the type name of r.Method.
func (r Result) MethodName() string {
	switch {
	case r.Method == eapest.TypeTLS:
		return "EAP-TLS"
	case r.Method == eap.MethodType{}:
		return "none"
	}
	return "EAP-EST"
}

// ErrNoDecision reports an EAP-EST tunnel that ended without a voucher
// exchange, so the policy never decided on the device. A device that only
// re-enrolls with its LDevID inside EAP-EST gets it too. Such a device
// should authenticate with EAP-TLS instead.
var ErrNoDecision = errors.New("eapserver: EAP-EST tunnel ended without a voucher decision")

// ErrNoEnrollment reports an EAP-EST tunnel whose voucher exchange the
// policy admitted but that ended without an LDevID. The pledge rejected
// the voucher (RFC 8995, Section 5.7) or stopped before simpleenroll. The
// device has no domain certificate, so it gets Access-Reject, and it may
// try the bootstrap again.
var ErrNoEnrollment = errors.New("eapserver: EAP-EST tunnel ended without an enrolled " +
	"LDevID; the registrar log shows the pledge's voucher_status and requests")

// decide returns the policy decision for a successful method and the
// device serial number.
func (s *Server) decide(ctx context.Context, c *conversation,
	res eap.Result) (policies.Decision, string, error) {
	if res.Method == eapest.TypeTLS {
		if len(res.PeerCertificates) == 0 {
			return policies.Decision{}, "", errors.New("eapserver: EAP-TLS without a client " +
				"certificate")
		}
		leaf := res.PeerCertificates[0]
		f, err := s.enrolledFacts(ctx, leaf, c.nas)
		if err != nil {
			return policies.Decision{}, f.Device.Serial, err
		}
		return s.cfg.Policy.Evaluate(f), f.Device.Serial, nil
	}
	var serial string
	if len(res.PeerCertificates) > 0 {
		serial, _ = devid.SerialNumber(res.PeerCertificates[0])
	}
	d, ok := registrar.SessionDecision(c.values)
	if !ok {
		return d, serial, ErrNoDecision
	}
	if d.Outcome != policies.OutcomeReject && !registrar.SessionEnrolled(c.values) {
		// The result carries no rule for a reject cause, so the cause names it.
		return d, serial, fmt.Errorf("%w; policy rule %q decided %s", ErrNoEnrollment,
			d.Rule, d.Outcome)
	}
	return d, serial, nil
}

// accept builds the Access-Accept: the EAP-Success, the MPPE keys from the
// MSK (RFC 5216, Section 2.3 with RFC 2548, Section 2.4) and the reply
// attributes of the policy.
func (s *Server) accept(req *radius.Request, success, msk []byte,
	r policies.Reply) (*layeh.Packet, error) {
	if len(msk) < 64 {
		return nil, fmt.Errorf("eapserver: method produced a %d-byte MSK, need 64", len(msk))
	}
	p := req.Reply(layeh.CodeAccessAccept)
	if err := radius.SetEAPMessage(p, success); err != nil {
		return nil, err
	}
	// RFC 5216, Section 2.3: the first 32 octets of the MSK are the
	// MS-MPPE-Recv-Key, the next 32 the MS-MPPE-Send-Key.
	if err := radius.AddMPPEKeys(p, req.Packet, msk[32:64], msk[:32]); err != nil {
		return nil, fmt.Errorf("eapserver: %w", err)
	}
	if err := s.addReply(p, r, req.NAS.TunnelTag); err != nil {
		return nil, err
	}
	return p, nil
}

// addReply adds the policy's reply attributes: the RFC 3580 VLAN triplet
// with the client's tag, Session-Timeout and Termination-Action, Filter-Id
// and vendor attributes by dictionary name.
func (s *Server) addReply(p *layeh.Packet, r policies.Reply, tag byte) error {
	if !r.VLAN.IsZero() {
		if err := radius.AddVLAN(p, r.VLAN.String(), tag); err != nil {
			return fmt.Errorf("eapserver: policy VLAN %q: %w", r.VLAN.String(), err)
		}
	}
	if r.SessionTimeout > 0 {
		err := radius.SetSessionTimeout(p, r.SessionTimeout,
			radius.TerminationAction(r.TerminationAction))
		if err != nil {
			return fmt.Errorf("eapserver: policy session_timeout: %w", err)
		}
	}
	if r.FilterID != "" {
		if err := radius.AddFilterID(p, r.FilterID); err != nil {
			return fmt.Errorf("eapserver: policy filter_id: %w", err)
		}
	}
	for _, a := range r.Attributes {
		if ok, err := addStandard(p, a.Name, a.Value); ok || err != nil {
			if err != nil {
				return fmt.Errorf("eapserver: policy attribute %q: %w", a.Name, err)
			}
			continue
		}
		if err := s.dict.Add(p, a.Name, a.Value); err != nil {
			return fmt.Errorf("eapserver: policy attribute %q: %w; add it to the "+
				"dictionary or fix the policy", a.Name, err)
		}
	}
	return nil
}

// addStandard adds the RFC 2865 text attributes that a policy may set by
// name, Reply-Message (Section 5.18) and Class (Section 5.25). It reports
// false for other names, which are vendor attributes.
func addStandard(p *layeh.Packet, name, value string) (bool, error) {
	switch strings.ToLower(name) {
	case "reply-message":
		return true, rfc2865.ReplyMessage_AddString(p, value)
	case "class":
		return true, rfc2865.Class_AddString(p, value)
	}
	return false, nil
}
