//go:build !linux

package authenticator

import "github.com/vishvananda/netlink"

func (BridgePerVLAN) place(*netlink.Handle, netlink.Link, string) (bool, error) {
	return false, ErrUnsupportedOS
}

func (VLANFiltering) place(*netlink.Handle, netlink.Link, string) (bool, error) {
	return false, ErrUnsupportedOS
}

func (noVLANs) place(*netlink.Handle, netlink.Link, string) (bool, error) {
	return false, ErrUnsupportedOS
}
