//go:build linux

package authenticator

import (
	"fmt"

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
