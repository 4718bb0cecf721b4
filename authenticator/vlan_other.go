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

func (BridgePerVLAN) check(*netlink.Handle) error { return ErrUnsupportedOS }

func (VLANFiltering) check(*netlink.Handle) error { return ErrUnsupportedOS }

func (noVLANs) check(*netlink.Handle) error { return ErrUnsupportedOS }
