package authenticator

import (
	"fmt"
	"strconv"

	"github.com/vishvananda/netlink"
)

// VLANBackend decides how PortControl puts a port into the VLAN of an
// authorization. BridgePerVLAN and VLANFiltering implement it.
type VLANBackend interface {
	// place puts link into vlan, where "" is the unauthenticated VLAN, and
	// reports whether the port moved to another bridge, which resets its
	// flags and FDB entries.
	place(h *netlink.Handle, link netlink.Link, vlan string) (moved bool, err error)

	// fdbVLAN returns the VLAN ID for the static FDB entries of MACs in
	// vlan, or 0 when the bridge does not filter VLANs.
	fdbVLAN(vlan string) (int, error)

	// check returns an error wrapping ErrMissingBridge when a bridge that
	// the backend names is missing.
	check(h *netlink.Handle) error
}

var (
	_ VLANBackend = BridgePerVLAN{}
	_ VLANBackend = VLANFiltering{}
	_ VLANBackend = noVLANs{}
)

// BridgePerVLAN is the VLAN backend with one bridge per VLAN. An authorized
// port moves into the bridge of its VLAN, and the uplink of that bridge
// carries the VLAN. It needs no VLAN support in the bridge itself.
type BridgePerVLAN struct {
	// Unauthenticated is the bridge of ports before authentication and after
	// it ends. Empty leaves such ports in whichever bridge they are in.
	Unauthenticated string

	// Bridges maps each VLAN, as a RADIUS Tunnel-Private-Group-ID carries
	// it (RFC 3580, Section 3.31), to the name of its bridge. A numeric
	// VLAN also matches a key with the same number, so "010" finds "10".
	Bridges map[string]string
}

func (BridgePerVLAN) fdbVLAN(string) (int, error) { return 0, nil }

// VLANFiltering is the VLAN backend for one VLAN-aware bridge
// (vlan_filtering 1, kernel option CONFIG_BRIDGE_VLAN_FILTERING). An
// authorized port gets its VLAN as the untagged PVID, and every other VLAN
// is removed from the port.
type VLANFiltering struct {
	// Unauthenticated is the PVID of ports before authentication and after
	// it ends. Zero means 1, the default PVID of a Linux bridge.
	Unauthenticated uint16

	// Names maps VLAN names to IDs. Numeric VLANs from 1 to 4094 need no
	// entry.
	Names map[string]uint16
}

func (v VLANFiltering) fdbVLAN(vlan string) (int, error) {
	vid, err := v.resolve(vlan)
	return int(vid), err
}

func (v VLANFiltering) resolve(vlan string) (uint16, error) {
	if vlan == "" {
		if v.Unauthenticated == 0 {
			return 1, nil
		}
		return v.Unauthenticated, nil
	}
	if vid, ok := lookupVLAN(v.Names, vlan); ok {
		return vid, nil
	}
	if n, err := strconv.ParseUint(vlan, 10, 16); err == nil && n >= 1 && n <= 4094 {
		return uint16(n), nil
	}
	return 0, fmt.Errorf("%w: %q is neither a VLAN ID from 1 to 4094 nor a configured name",
		ErrUnknownVLAN, vlan)
}

// noVLANs is the backend of a PortControl without VLAN assignment.
type noVLANs struct{}

func (noVLANs) fdbVLAN(string) (int, error) { return 0, nil }

// lookupVLAN finds vlan in m by its exact text, or for a number by the first
// key with the same value.
func lookupVLAN[T any](m map[string]T, vlan string) (T, bool) {
	if v, ok := m[vlan]; ok {
		return v, true
	}
	var zero T
	n, err := strconv.ParseUint(vlan, 10, 16)
	if err != nil {
		return zero, false
	}
	for key, v := range m {
		if k, err := strconv.ParseUint(key, 10, 16); err == nil && k == n {
			return v, true
		}
	}
	return zero, false
}
