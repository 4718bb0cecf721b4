package radius

import (
	"context"
	"net"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
)

// Handler serves authenticated requests. The server has already checked
// the client, the packet format, the Message-Authenticator and the
// EAP-Message order, and it filters retransmissions, so a handler sees each
// request once.
//
// A nil reply and a nil error drop the request silently; a retransmission
// of it reaches the handler again. An error also drops it and is counted
// as DropHandlerError. The server sets the reply's Identifier, puts the
// Message-Authenticator first, copies Proxy-State and computes the
// Response Authenticator, so the handler builds the reply with
// Request.Reply and adds its own attributes.
//
// ctx is cancelled when a Shutdown runs out of time.
type Handler interface {
	ServeRADIUS(ctx context.Context, req *Request) (*radius.Packet, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, req *Request) (*radius.Packet, error)

// ServeRADIUS calls f.
func (f HandlerFunc) ServeRADIUS(ctx context.Context, req *Request) (*radius.Packet, error) {
	return f(ctx, req)
}

// Request is an authenticated request passed to a Handler.
type Request struct {
	// Packet is the parsed request. Its Secret is the client's secret.
	Packet *radius.Packet
	// Raw is the request as received, up to its Length field.
	Raw []byte
	// NAS is the client that sent the request.
	NAS *NAS
	// RemoteAddr is the source address and port of the datagram.
	RemoteAddr net.Addr

	eap []byte
}

// EAPMessage returns the EAP packet reassembled from the EAP-Message
// attributes, or nil when the request carries none.
func (r *Request) EAPMessage() []byte { return r.eap }

// Reply returns an empty reply with the given code for the request.
func (r *Request) Reply(code radius.Code) *radius.Packet {
	return r.Packet.Response(code)
}

// State returns the State attribute (RFC 2865, Section 5.24), or nil.
func (r *Request) State() []byte {
	return rfc2865.State_Get(r.Packet)
}

// CallingStationID returns the Calling-Station-Id attribute (RFC 2865,
// Section 5.31). In 802.1X it is the supplicant's MAC address as the NAS
// wrote it (RFC 3580).
func (r *Request) CallingStationID() string {
	return rfc2865.CallingStationID_GetString(r.Packet)
}

// UserName returns the User-Name attribute (RFC 2865, Section 5.1).
func (r *Request) UserName() string {
	return rfc2865.UserName_GetString(r.Packet)
}
