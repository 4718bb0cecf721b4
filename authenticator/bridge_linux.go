//go:build linux

package authenticator

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/brski-eap/brski/authenticator/pae"
)

// PortControl opens and closes bridge ports for authenticated MAC addresses
// over netlink, in one network namespace.
//
// A locked port, the bridge port flag "locked" with learning off, forwards a
// frame only when its source MAC has an FDB entry on that port. EAPOL frames
// to the PAE group address are link-local, so they still reach an AF_PACKET
// socket on the port. Authorize adds a static FDB entry for the supplicant's
// MAC, and Deauthorize removes it.
//
// PortControl remembers the VLAN of each port it placed. One port carries
// one VLAN, so in multi-auth mode every MAC on a port shares it.
// PortControl is safe for concurrent use.
type PortControl struct {
	handle *netlink.Handle
	sock   *nl.SocketHandle
	vlans  VLANBackend

	mu    sync.Mutex
	ports map[string]*portRecord
}

// portRecord is the state that PortControl stores for one locked port.
type portRecord struct {
	vlan string // VLAN of the authorized MACs, "" before the first one
	macs map[string]net.HardwareAddr
}

// conflicts reports whether authorizing mac in vlan would change the VLAN of
// other MACs on the port.
func (rec *portRecord) conflicts(mac net.HardwareAddr, vlan string) bool {
	others := len(rec.macs)
	if _, again := rec.macs[mac.String()]; again {
		others--
	}
	return others > 0 && rec.vlan != vlan
}

// NewPortControl opens netlink sockets in the network namespace ns, or in the
// namespace of the calling thread when ns is netns.None(). The VLAN backend
// decides where authorized ports go. A nil backend keeps every port in its
// bridge and rejects VLAN assignments. A bridge that the backend names and
// that is missing gives an error wrapping ErrMissingBridge.
func NewPortControl(ns netns.NsHandle, vlans VLANBackend) (*PortControl, error) {
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("authenticator: open netlink handle: %w", err)
	}
	s, err := nl.GetNetlinkSocketAt(ns, netns.None(), unix.NETLINK_ROUTE)
	if err != nil {
		h.Close()
		return nil, fmt.Errorf("authenticator: open netlink socket: %w", err)
	}
	if vlans == nil {
		vlans = noVLANs{}
	}
	if err := vlans.check(h); err != nil {
		h.Close()
		s.Close()
		return nil, err
	}
	return &PortControl{
		handle: h,
		sock:   &nl.SocketHandle{Socket: s},
		vlans:  vlans,
		ports:  make(map[string]*portRecord),
	}, nil
}

// Close closes the netlink sockets. Ports stay as they are.
func (pc *PortControl) Close() {
	pc.handle.Close()
	pc.sock.Close()
}

// Lock moves port to the unauthenticated place of the VLAN backend, turns
// learning off, sets the locked flag and flushes the port's learned FDB
// entries, because a MAC learned before locking would still pass. It
// deletes the static FDB entries of the MACs authorized on the port.
func (pc *PortControl) Lock(port string) error {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	link, err := pc.bridgePort(port)
	if err != nil {
		return err
	}
	if rec, ok := pc.ports[port]; ok {
		for _, mac := range rec.macs {
			if err := pc.delStatic(link, mac, rec.vlan); err != nil {
				return err
			}
		}
	}
	if _, err := pc.vlans.place(pc.handle, link, ""); err != nil {
		return fmt.Errorf("authenticator: place %q in the unauthenticated VLAN: %w", port, err)
	}
	if err := pc.lockLink(port); err != nil {
		return err
	}
	pc.ports[port] = &portRecord{macs: make(map[string]net.HardwareAddr)}
	return nil
}

// Unlock clears the locked flag and turns learning back on, so the port
// forwards every MAC. It is for ports without 802.1X.
func (pc *PortControl) Unlock(port string) error {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	link, err := pc.bridgePort(port)
	if err != nil {
		return err
	}
	err = pc.setPortFlags(link, portFlag{brportLocked, false},
		portFlag{nl.IFLA_BRPORT_LEARNING, true})
	if err != nil {
		return fmt.Errorf("authenticator: unlock port %q: %w", port, err)
	}
	delete(pc.ports, port)
	return nil
}

// lockLink looks the port up again, because moving it to another bridge
// creates a new bridge port with default flags.
func (pc *PortControl) lockLink(port string) error {
	link, err := pc.bridgePort(port)
	if err != nil {
		return err
	}
	err = pc.setPortFlags(link, portFlag{nl.IFLA_BRPORT_LEARNING, false},
		portFlag{brportLocked, true}, portFlag{nl.IFLA_BRPORT_FLUSH, true})
	if err != nil {
		return fmt.Errorf("authenticator: lock port %q: %w", port, err)
	}
	return nil
}

// Authorize lets frames from mac through port, in the VLAN that vlan names.
// The VLAN is a number from 1 to 4094 or a name that the backend maps, and
// "" keeps the unauthenticated VLAN. The port must be locked with Lock
// first. A second MAC on the port must have the same VLAN as the first, or
// Authorize returns ErrVLANConflict. Authorizing a MAC again, as after a
// reauthentication, may change the VLAN when no other MAC is on the port.
func (pc *PortControl) Authorize(port string, mac net.HardwareAddr, vlan string) error {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	rec, ok := pc.ports[port]
	if !ok {
		return fmt.Errorf("%w: %q; call Lock first", ErrPortNotLocked, port)
	}
	if rec.conflicts(mac, vlan) {
		return fmt.Errorf("%w: port %q carries VLAN %q, %v needs %q",
			ErrVLANConflict, port, rec.vlan, mac, vlan)
	}

	link, err := pc.bridgePort(port)
	if err != nil {
		return err
	}
	if _, again := rec.macs[mac.String()]; again && rec.vlan != vlan {
		// The entry of the old VLAN goes before the port changes VLAN.
		if err := pc.delStatic(link, mac, rec.vlan); err != nil {
			return err
		}
	}
	moved, err := pc.vlans.place(pc.handle, link, vlan)
	if err != nil {
		return fmt.Errorf("authenticator: place %q in VLAN %q: %w", port, vlan, err)
	}
	if moved {
		if err := pc.lockLink(port); err != nil {
			return err
		}
		if link, err = pc.bridgePort(port); err != nil {
			return err
		}
	}

	rec.vlan = vlan
	rec.macs[mac.String()] = mac
	for _, m := range rec.macs {
		if err := pc.addStatic(link, m, vlan); err != nil {
			delete(rec.macs, mac.String())
			return err
		}
	}
	return nil
}

// Deauthorize removes the static FDB entry of mac on port. When no
// authorized MAC remains, the port goes back to the unauthenticated VLAN.
// Deauthorizing a MAC that is not authorized is not an error.
func (pc *PortControl) Deauthorize(port string, mac net.HardwareAddr) error {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	rec, ok := pc.ports[port]
	if !ok {
		return fmt.Errorf("%w: %q; call Lock first", ErrPortNotLocked, port)
	}
	link, err := pc.bridgePort(port)
	if err != nil {
		return err
	}
	if err := pc.delStatic(link, mac, rec.vlan); err != nil {
		return err
	}
	delete(rec.macs, mac.String())
	if len(rec.macs) > 0 {
		return nil
	}
	rec.vlan = ""
	moved, err := pc.vlans.place(pc.handle, link, "")
	if err != nil {
		return fmt.Errorf("authenticator: return %q to the unauthenticated VLAN: %w", port, err)
	}
	if moved {
		return pc.lockLink(port)
	}
	return nil
}

// bridgePort returns the link of port. A port without a master bridge,
// as after an operator deleted the bridge of its VLAN, goes back into the
// unauthenticated bridge, locked and without authorized MACs, when the
// VLAN backend has one. Otherwise it is an error wrapping
// ErrNotBridgePort.
//
// NOTE: the repair is not reported, so nothing logs it, and a session that
// the PAE counts as authorized on the port stays so until its next event.
func (pc *PortControl) bridgePort(port string) (netlink.Link, error) {
	link, err := pc.handle.LinkByName(port)
	if err != nil {
		return nil, fmt.Errorf("authenticator: port %q: %w", port, err)
	}
	if link.Attrs().MasterIndex != 0 {
		return link, nil
	}
	moved, err := pc.vlans.place(pc.handle, link, "")
	if err != nil || !moved {
		return nil, fmt.Errorf("%w: %q has no master bridge", ErrNotBridgePort, port)
	}
	if link, err = pc.handle.LinkByName(port); err != nil {
		return nil, fmt.Errorf("authenticator: port %q: %w", port, err)
	}
	err = pc.setPortFlags(link, portFlag{nl.IFLA_BRPORT_LEARNING, false},
		portFlag{brportLocked, true}, portFlag{nl.IFLA_BRPORT_FLUSH, true})
	if err != nil {
		return nil, fmt.Errorf("authenticator: lock port %q: %w", port, err)
	}
	if rec, ok := pc.ports[port]; ok {
		// The new bridge port has none of the static FDB entries.
		rec.vlan = ""
		clear(rec.macs)
	}
	return link, nil
}

// staticEntry is the FDB entry that `bridge fdb replace MAC dev PORT master
// static` creates. NUD_NOARP is "static"; NUD_PERMANENT would make the
// bridge treat the MAC as its own and deliver its frames locally.
func staticEntry(link netlink.Link, mac net.HardwareAddr, vlan int) *netlink.Neigh {
	return &netlink.Neigh{
		LinkIndex:    link.Attrs().Index,
		Family:       unix.AF_BRIDGE,
		State:        netlink.NUD_NOARP,
		Flags:        netlink.NTF_MASTER,
		HardwareAddr: mac,
		Vlan:         vlan,
	}
}

func (pc *PortControl) addStatic(link netlink.Link, mac net.HardwareAddr, vlan string) error {
	vid, err := pc.vlans.fdbVLAN(vlan)
	if err != nil {
		return err
	}
	if err := pc.handle.NeighSet(staticEntry(link, mac, vid)); err != nil {
		return fmt.Errorf("authenticator: add FDB entry %v on %q: %w",
			mac, link.Attrs().Name, err)
	}
	return nil
}

func (pc *PortControl) delStatic(link netlink.Link, mac net.HardwareAddr, vlan string) error {
	vid, err := pc.vlans.fdbVLAN(vlan)
	if err != nil {
		return err
	}
	err = pc.handle.NeighDel(staticEntry(link, mac, vid))
	if err != nil && !errors.Is(err, syscall.ENOENT) {
		return fmt.Errorf("authenticator: delete FDB entry %v on %q: %w",
			mac, link.Attrs().Name, err)
	}
	return nil
}

var _ pae.PortController = (*PortControl)(nil)
