package authenticator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	layeh "layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc2869"
	"layeh.com/radius/rfc3162"

	"github.com/brski-eap/brski/authenticator/macaddr"
	"github.com/brski-eap/brski/authenticator/pae"
	"github.com/brski-eap/brski/radius"
)

// DefaultFramedMTU is the Framed-MTU that RADIUSBackend sends when its
// FramedMTU is zero. It leaves room below an Ethernet MTU of 1500 for the
// EAPOL header and a VLAN tag, as common authenticators do.
const DefaultFramedMTU = 1400

// ErrUnexpectedReply reports a RADIUS reply whose code is not
// Access-Accept, Access-Reject or Access-Challenge, or a challenge without
// an EAP-Message.
var ErrUnexpectedReply = errors.New("authenticator: unexpected RADIUS reply")

var _ pae.Backend = (*RADIUSBackend)(nil)

// RADIUSBackend is the pae.Backend that relays EAP to RADIUS servers as
// RFC 3579 and RFC 3580 describe. Client does the retransmission, the
// failover to a backup server and the failback to the primary, and it
// ignores and counts replies with a bad Response Authenticator or
// Message-Authenticator.
type RADIUSBackend struct {
	// Client sends the Access-Requests. Required.
	Client *radius.Client

	// NASIdentifier is sent as NAS-Identifier (RFC 2865, Section 5.32).
	NASIdentifier string

	// NASIP is sent as NAS-IP-Address or NAS-IPv6-Address. A request
	// carries NASIdentifier, NASIP or both, RFC 2865, Section 4.1.
	NASIP netip.Addr

	// Ports describes the ports by name, the NAS-Port-Id. A port that is
	// missing gets no NAS-Port and no Called-Station-Id.
	Ports map[string]PortInfo

	// FramedMTU is the Framed-MTU, the largest EAP packet the
	// supplicant's link carries (RFC 3580, Section 3.10). Zero means
	// DefaultFramedMTU.
	FramedMTU int

	// VLANNames maps VLAN names that a server sends in
	// Tunnel-Private-Group-ID to VLAN IDs. Names without an entry are
	// passed on as they are.
	VLANNames map[string]uint16

	// RejectVLAN, when not empty, is the VLAN of supplicants that the
	// server rejects: the port opens in that VLAN instead of staying
	// closed, as the auth-fail VLAN of many switches does. The supplicant
	// then receives EAP-Success.
	RejectVLAN string
}

// PortInfo contains the RADIUS facts of one port.
type PortInfo struct {
	// Number is the NAS-Port (RFC 2865, Section 5.5). Zero sends none.
	Number uint32
	// MAC is the port's own address, the Called-Station-Id (RFC 3580,
	// Section 3.20).
	MAC net.HardwareAddr
}

// Exchange sends req as an Access-Request and converts the reply.
func (b *RADIUSBackend) Exchange(ctx context.Context, req pae.BackendRequest) (pae.BackendReply,
	error) {
	p, err := b.request(req)
	if err != nil {
		return pae.BackendReply{}, err
	}
	reply, err := b.Client.Exchange(ctx, p)
	if err != nil {
		return pae.BackendReply{}, fmt.Errorf("authenticator: RADIUS exchange for %s on %s: %w",
			macaddr.CallingStationID(req.MAC), req.Port, err)
	}
	return b.convert(reply)
}

// request builds the Access-Request of RFC 3579, Section 3.1 and RFC 3580,
// Section 3.
func (b *RADIUSBackend) request(req pae.BackendRequest) (*layeh.Packet, error) {
	p := layeh.New(layeh.CodeAccessRequest, nil)
	mtu := b.FramedMTU
	if mtu == 0 {
		mtu = DefaultFramedMTU
	}
	var errs []error
	add := func(err error) { errs = append(errs, err) }
	if req.Identity != "" {
		add(rfc2865.UserName_SetString(p, req.Identity))
	}
	add(b.addNAS(p))
	add(rfc2869.NASPortID_SetString(p, req.Port))
	if info, ok := b.Ports[req.Port]; ok {
		if info.Number != 0 {
			add(rfc2865.NASPort_Set(p, rfc2865.NASPort(info.Number)))
		}
		if len(info.MAC) != 0 {
			add(rfc2865.CalledStationID_SetString(p, macaddr.CallingStationID(info.MAC)))
		}
	}
	add(rfc2865.NASPortType_Set(p, rfc2865.NASPortType_Value_Ethernet))
	add(rfc2865.ServiceType_Set(p, rfc2865.ServiceType_Value_FramedUser))
	add(rfc2865.FramedMTU_Set(p, rfc2865.FramedMTU(mtu)))
	add(rfc2865.CallingStationID_SetString(p, macaddr.CallingStationID(req.MAC)))
	if req.SessionID != "" {
		add(rfc2866.AcctSessionID_SetString(p, req.SessionID))
	}
	if req.State != nil {
		add(rfc2865.State_Set(p, req.State))
	}
	add(radius.SetEAPMessage(p, req.EAP))
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("authenticator: build Access-Request for %s: %w", req.Port, err)
	}
	return p, nil
}

func (b *RADIUSBackend) addNAS(p *layeh.Packet) error {
	var errs []error
	if b.NASIdentifier != "" {
		errs = append(errs, rfc2865.NASIdentifier_SetString(p, b.NASIdentifier))
	}
	switch {
	case b.NASIP.Is4() || b.NASIP.Is4In6():
		ip := b.NASIP.Unmap().As4()
		errs = append(errs, rfc2865.NASIPAddress_Set(p, net.IP(ip[:])))
	case b.NASIP.Is6():
		ip := b.NASIP.As16()
		errs = append(errs, rfc3162.NASIPv6Address_Set(p, net.IP(ip[:])))
	}
	return errors.Join(errs...)
}

// convert turns a verified reply into the PAE's terms.
func (b *RADIUSBackend) convert(reply *layeh.Packet) (pae.BackendReply, error) {
	eap, err := radius.EAPMessage(reply)
	if err != nil {
		return pae.BackendReply{}, fmt.Errorf("authenticator: %v reply: %w", reply.Code, err)
	}
	switch reply.Code {
	case layeh.CodeAccessChallenge:
		if eap == nil {
			return pae.BackendReply{}, fmt.Errorf("%w: Access-Challenge without EAP-Message",
				ErrUnexpectedReply)
		}
		return pae.BackendReply{Code: pae.ReplyChallenge, EAP: eap,
			State: rfc2865.State_Get(reply)}, nil
	case layeh.CodeAccessAccept:
		out := pae.BackendReply{Code: pae.ReplyAccept, EAP: eap}
		if v, ok := radius.ParseVLAN(reply); ok {
			out.VLAN = b.resolveVLAN(v.Group)
		}
		out.SessionTimeout = time.Duration(rfc2865.SessionTimeout_Get(reply)) * time.Second
		if rfc2865.TerminationAction_Get(reply) == rfc2865.TerminationAction_Value_RADIUSRequest {
			out.TerminationAction = pae.TerminationRADIUSRequest
		}
		return out, nil
	case layeh.CodeAccessReject:
		if b.RejectVLAN != "" {
			return pae.BackendReply{Code: pae.ReplyAccept, VLAN: b.resolveVLAN(b.RejectVLAN)}, nil
		}
		return pae.BackendReply{Code: pae.ReplyReject, EAP: eap}, nil
	}
	return pae.BackendReply{}, fmt.Errorf("%w: code %v", ErrUnexpectedReply, reply.Code)
}

// resolveVLAN maps a VLAN name to its ID in decimal. IDs and unknown names
// are returned as they are.
func (b *RADIUSBackend) resolveVLAN(group string) string {
	if id, ok := b.VLANNames[group]; ok {
		return strconv.Itoa(int(id))
	}
	return group
}
