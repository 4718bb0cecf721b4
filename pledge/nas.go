package pledge

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	layeh "layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2869"

	"github.com/brski-eap/brski/eap"
	"github.com/brski-eap/brski/eapest"
	"github.com/brski-eap/brski/radius"
)

// NASPortTypeEthernet is the NAS-Port-Type of a wired 802.1X port
// (RFC 2865, Section 5.41; RFC 3580, Section 3.4).
const NASPortTypeEthernet = 15

// DefaultFramedMTU is the Framed-MTU a NAS sends for an Ethernet port
// (RFC 3580, Section 3.12).
const DefaultFramedMTU = 1400

// NAS is a simulated network access server: an eapest.Transport that
// relays the peer's EAP packets to a RADIUS server in Access-Requests, as a
// switch does for an 802.1X port (RFC 3579, RFC 3580). It solicits the
// identity itself with an EAP-Request/Identity, as authenticators do, so
// the first Access-Request carries the Response/Identity.
//
// A NAS serves one conversation at a time. After Access-Accept or
// Access-Reject, Final returns the reply and the next Exchange with a nil
// response starts a new conversation.
type NAS struct {
	// Client sends the Access-Requests. Required.
	Client *radius.Client
	// Identifier is the NAS-Identifier. Default "brski-nas".
	Identifier string
	// CallingStationID is the MAC address of the simulated port's
	// supplicant, such as "02-00-00-00-00-01". Required, because the
	// server binds State to it.
	CallingStationID string
	// PortID is the NAS-Port-Id, sent when not empty.
	PortID string
	// FramedMTU is the Framed-MTU. Default DefaultFramedMTU.
	FramedMTU int

	mu       sync.Mutex
	userName string
	state    []byte
	final    *layeh.Packet
	last     *layeh.Packet
	auth     [16]byte
	trips    int
}

var _ eapest.Transport = (*NAS)(nil)

// ErrNASFinal reports an Exchange after the conversation ended, without a
// nil response that starts a new one.
var ErrNASFinal = errors.New("pledge: RADIUS conversation already ended")

// Exchange implements eapest.Transport. A nil eapResponse starts a new
// conversation and returns the NAS's own Identity Request.
func (n *NAS) Exchange(ctx context.Context, eapResponse []byte) ([]byte, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if eapResponse == nil {
		n.userName, n.state, n.final, n.last, n.trips = "", nil, nil, nil, 0
		return eap.NewIdentityRequest(0).Marshal()
	}
	if n.final != nil {
		return nil, ErrNASFinal
	}
	if p, err := eap.Parse(eapResponse); err == nil && p.Code == eap.CodeResponse &&
		p.Type == eap.TypeIdentity {
		// RFC 3579, Section 2.1: the NAS copies the identity to User-Name.
		n.userName = string(p.Data)
	}
	req, err := n.request(eapResponse)
	if err != nil {
		return nil, err
	}
	reply, err := n.Client.Exchange(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("pledge: RADIUS exchange: %w", err)
	}
	n.trips++
	n.last = req
	return n.handleReply(req, reply)
}

// request builds the Access-Request that carries one EAP packet.
func (n *NAS) request(msg []byte) (*layeh.Packet, error) {
	p := layeh.New(layeh.CodeAccessRequest, nil)
	id := n.Identifier
	if id == "" {
		id = "brski-nas"
	}
	mtu := n.FramedMTU
	if mtu <= 0 {
		mtu = DefaultFramedMTU
	}
	var errs []error
	if n.userName != "" {
		errs = append(errs, rfc2865.UserName_SetString(p, n.userName))
	}
	errs = append(errs,
		rfc2865.NASIdentifier_SetString(p, id),
		rfc2865.NASPortType_Set(p, NASPortTypeEthernet),
		rfc2865.CallingStationID_SetString(p, n.CallingStationID),
		rfc2865.FramedMTU_Set(p, rfc2865.FramedMTU(mtu)))
	if n.PortID != "" {
		errs = append(errs, rfc2869.NASPortID_SetString(p, n.PortID))
	}
	if n.state != nil {
		errs = append(errs, rfc2865.State_Set(p, n.state))
	}
	errs = append(errs, radius.SetEAPMessage(p, msg))
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("pledge: build Access-Request: %w", err)
	}
	return p, nil
}

// handleReply keeps the State of a Challenge and the final reply, and
// returns the EAP packet for the peer.
func (n *NAS) handleReply(req, reply *layeh.Packet) ([]byte, error) {
	msg, err := radius.EAPMessage(reply)
	if err != nil {
		return nil, fmt.Errorf("pledge: RADIUS reply: %w", err)
	}
	switch reply.Code {
	case layeh.CodeAccessChallenge:
		n.state = rfc2865.State_Get(reply)
	case layeh.CodeAccessAccept, layeh.CodeAccessReject:
		n.final, n.auth, n.state = reply, req.Authenticator, nil
	default:
		return nil, fmt.Errorf("pledge: unexpected RADIUS reply %v", reply.Code)
	}
	if len(msg) == 0 {
		return nil, fmt.Errorf("pledge: %v without EAP-Message", reply.Code)
	}
	return msg, nil
}

// Final returns the Access-Accept or Access-Reject of the last
// conversation and the Request Authenticator of the request before it.
// That authenticator decrypts the MS-MPPE keys (radius.MPPEKeys). Final
// returns nil before the conversation ends.
func (n *NAS) Final() (*layeh.Packet, [16]byte) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.final, n.auth
}

// RoundTrips returns the number of RADIUS round trips of the current or
// last conversation.
func (n *NAS) RoundTrips() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.trips
}

// String names the RADIUS servers of n for messages, such as "RADIUS
// server 127.0.0.1:1812". It never includes a secret.
func (n *NAS) String() string {
	if n.Client == nil || len(n.Client.Servers) == 0 {
		return "RADIUS"
	}
	addrs := make([]string, len(n.Client.Servers))
	for i, s := range n.Client.Servers {
		addrs[i] = s.Addr
	}
	if len(addrs) == 1 {
		return "RADIUS server " + addrs[0]
	}
	return "RADIUS servers " + strings.Join(addrs, ", ")
}

// LastRequest returns the last Access-Request sent, or nil. The caller
// must not modify it.
func (n *NAS) LastRequest() *layeh.Packet {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.last
}
