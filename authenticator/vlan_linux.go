//go:build linux

package authenticator

import (
	"fmt"
	"net"
	"slices"

	"github.com/vishvananda/netlink"
)

func (b BridgePerVLAN) place(h *netlink.Handle, link netlink.Link, vlan string) (bool, error) {
	name := b.Unauthenticated
	if vlan != "" {
		var ok bool
		if name, ok = lookupVLAN(b.Bridges, vlan); !ok {
			return false, fmt.Errorf("%w: no bridge for VLAN %q", ErrUnknownVLAN, vlan)
		}
	}
	if name == "" {
		return false, nil
	}
	bridge, err := h.LinkByName(name)
	if err != nil {
		return false, fmt.Errorf("bridge %q: %w", name, err)
	}
	if link.Attrs().MasterIndex == bridge.Attrs().Index {
		return false, nil
	}
	if err := h.LinkSetMaster(link, bridge); err != nil {
		return false, fmt.Errorf("move %q into bridge %q: %w", link.Attrs().Name, name, err)
	}
	return true, nil
}

func (v VLANFiltering) place(h *netlink.Handle, link netlink.Link, vlan string) (bool, error) {
	vid, err := v.resolve(vlan)
	if err != nil {
		return false, err
	}
	all, err := h.BridgeVlanList()
	if err != nil {
		return false, fmt.Errorf("list bridge VLANs: %w", err)
	}
	if err := h.BridgeVlanAdd(link, vid, true, true, false, true); err != nil {
		return false, fmt.Errorf("set PVID %d on %q: %w", vid, link.Attrs().Name, err)
	}
	for _, info := range all[int32(link.Attrs().Index)] {
		if info.Vid == vid {
			continue
		}
		if err := h.BridgeVlanDel(link, info.Vid, false, false, false, true); err != nil {
			return false, fmt.Errorf("remove VLAN %d from %q: %w", info.Vid, link.Attrs().Name, err)
		}
	}
	return false, nil
}

func (noVLANs) place(_ *netlink.Handle, _ netlink.Link, vlan string) (bool, error) {
	if vlan != "" {
		return false, fmt.Errorf("%w: VLAN %q assigned, but no VLAN backend is configured",
			ErrUnknownVLAN, vlan)
	}
	return false, nil
}

// check verifies that the unauthenticated bridge and the bridge of every
// VLAN exist and are bridges.
func (b BridgePerVLAN) check(h *netlink.Handle) error {
	if b.Unauthenticated != "" {
		if err := checkBridge(h, b.Unauthenticated, "the unauthenticated bridge"); err != nil {
			return err
		}
	}
	vlans := make([]string, 0, len(b.Bridges))
	for vlan := range b.Bridges {
		vlans = append(vlans, vlan)
	}
	slices.Sort(vlans)
	for _, vlan := range vlans {
		if err := checkBridge(h, b.Bridges[vlan], fmt.Sprintf("the bridge of VLAN %q",
			vlan)); err != nil {
			return err
		}
	}
	return nil
}

// checkBridge returns an error wrapping ErrMissingBridge unless name is a
// bridge in the namespace of h. role names what the bridge is for.
func checkBridge(h *netlink.Handle, name, role string) error {
	link, err := h.LinkByName(name)
	if err != nil {
		return fmt.Errorf("%w: %s, %q: %v; create it with \"ip link add %s type bridge\" "+
			"or correct the configuration", ErrMissingBridge, role, name, err, name)
	}
	if link.Type() != "bridge" {
		return fmt.Errorf("%w: %s, %q, is a %s link, not a bridge; correct the configuration",
			ErrMissingBridge, role, name, link.Type())
	}
	if link.Attrs().Flags&net.FlagUp == 0 {
		return fmt.Errorf("%w: %s, %q, is down, so its ports forward nothing; bring it up "+
			"with \"ip link set %s up\"", ErrMissingBridge, role, name, name)
	}
	return nil
}

// check has nothing to verify: the ports' bridge filters the VLANs.
func (VLANFiltering) check(*netlink.Handle) error { return nil }

func (noVLANs) check(*netlink.Handle) error { return nil }
