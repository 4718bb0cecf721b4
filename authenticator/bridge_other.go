//go:build !linux

package authenticator

import (
	"net"

	"github.com/vishvananda/netns"
)

// PortControl opens and closes bridge ports over netlink. It exists only on
// Linux; elsewhere NewPortControl returns ErrUnsupportedOS.
type PortControl struct{}

// NewPortControl returns ErrUnsupportedOS because bridge ports need Linux.
func NewPortControl(ns netns.NsHandle, vlans VLANBackend) (*PortControl, error) {
	return nil, ErrUnsupportedOS
}

// Close does nothing.
func (pc *PortControl) Close() {}

// Lock returns ErrUnsupportedOS.
func (pc *PortControl) Lock(port string) error { return ErrUnsupportedOS }

// Unlock returns ErrUnsupportedOS.
func (pc *PortControl) Unlock(port string) error { return ErrUnsupportedOS }

// Authorize returns ErrUnsupportedOS.
func (pc *PortControl) Authorize(port string, mac net.HardwareAddr, vlan string) error {
	return ErrUnsupportedOS
}

// Deauthorize returns ErrUnsupportedOS.
func (pc *PortControl) Deauthorize(port string, mac net.HardwareAddr) error {
	return ErrUnsupportedOS
}
