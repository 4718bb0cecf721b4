package authenticator

import "errors"

// ErrUnsupportedOS reports that AF_PACKET sockets or netlink port control
// are not available because the program does not run on Linux.
var ErrUnsupportedOS = errors.New("authenticator: AF_PACKET and bridge port control need Linux")

// Errors of PortControl that callers branch on.
var (
	ErrNotBridgePort = errors.New("authenticator: interface is not a bridge port")
	ErrPortNotLocked = errors.New("authenticator: port is not locked")
	ErrVLANConflict  = errors.New("authenticator: port already carries another VLAN")
	ErrUnknownVLAN   = errors.New("authenticator: VLAN not configured")
	// ErrMissingBridge reports a bridge of the VLAN backend that does not
	// exist in the network namespace, or a link of that name that is no
	// bridge. NewPortControl checks them, so that a missing bridge fails
	// at start and not at the first session that needs it.
	ErrMissingBridge = errors.New("authenticator: bridge not found")
	// ErrPortInUse reports a port that another authenticator in the same
	// network namespace serves already.
	ErrPortInUse = errors.New("authenticator: another authenticator serves the port")
)
