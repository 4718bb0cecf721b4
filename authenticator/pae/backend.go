package pae

import (
	"context"
	"net"
	"time"
)

// Backend relays EAP between the authenticator and its authentication
// server, in practice a RADIUS client (RFC 3579). One Exchange carries one
// EAP-Response and returns the server's decision or next request. The PAE
// calls Exchange in a goroutine of its own and waits for the reply before it
// relays the supplicant's next response. A reply that arrives after its
// session ended or restarted is discarded, so an old exchange may still run
// while a new one starts.
type Backend interface {
	Exchange(ctx context.Context, req BackendRequest) (BackendReply, error)
}

// BackendRequest is one EAP-Response of a supplicant with the facts that a
// RADIUS Access-Request carries about it.
type BackendRequest struct {
	// EAP is the EAP-Response, RFC 3579, Section 3.1.
	EAP []byte

	// State is the State of the previous Access-Challenge, nil on the first
	// request of a conversation, RFC 2865, Section 5.24.
	State []byte

	// Identity is the identity of the EAP-Response/Identity, the User-Name.
	Identity string

	// MAC is the supplicant's address, the Calling-Station-Id.
	MAC net.HardwareAddr

	// Port is the name of the port, the NAS-Port-Id.
	Port string

	// SessionID identifies the authentication session, the Acct-Session-Id.
	// It is unique within the process and stays the same across
	// reauthentications of one session.
	SessionID string
}

// ReplyCode is the decision in a BackendReply.
type ReplyCode int

// Reply codes, after the RADIUS codes of RFC 2865, Section 4.
const (
	ReplyChallenge ReplyCode = iota + 1 // Access-Challenge with an EAP-Request
	ReplyAccept                         // Access-Accept
	ReplyReject                         // Access-Reject
)

// String returns the RADIUS name of c.
func (c ReplyCode) String() string {
	switch c {
	case ReplyChallenge:
		return "Access-Challenge"
	case ReplyAccept:
		return "Access-Accept"
	case ReplyReject:
		return "Access-Reject"
	}
	return "unknown reply code"
}

// TerminationAction is the RADIUS Termination-Action, RFC 2865,
// Section 5.29.
type TerminationAction int

// Termination actions. The zero value ends the session when the
// Session-Timeout passes.
const (
	TerminationDefault       TerminationAction = 0
	TerminationRADIUSRequest TerminationAction = 1
)

// BackendReply is the server's reply to one BackendRequest.
type BackendReply struct {
	Code ReplyCode

	// EAP is the EAP packet for the supplicant: an EAP-Request with
	// ReplyChallenge, and usually EAP-Success or EAP-Failure with the
	// others. When an Accept or Reject carries none, the PAE sends its own
	// EAP-Success or EAP-Failure.
	EAP []byte

	// State is returned in the next BackendRequest of the conversation.
	State []byte

	// VLAN is the Tunnel-Private-Group-ID of an Accept, RFC 3580,
	// Section 3.31, or "" for the port's unauthenticated VLAN.
	VLAN string

	// SessionTimeout is the Session-Timeout of an Accept, RFC 3580,
	// Section 3.17, or zero for none. With TerminationRADIUSRequest the
	// PAE reauthenticates when it passes, and otherwise it ends the
	// session.
	SessionTimeout    time.Duration
	TerminationAction TerminationAction
}
