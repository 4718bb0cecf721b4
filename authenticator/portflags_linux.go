//go:build linux

package authenticator

import (
	"errors"
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// brportLocked is IFLA_BRPORT_LOCKED (39), the bridge port attribute that
// Linux 5.18 added. netlink v1.3.1 defines the constant but has no setter
// for it, so setPortFlags sends the RTM_SETLINK request itself.
const brportLocked = unix.IFLA_BRPORT_LOCKED

// portFlag is one attribute of IFLA_PROTINFO in an RTM_SETLINK request.
type portFlag struct {
	attr int
	on   bool
}

// setPortFlags sends one RTM_SETLINK request for an AF_BRIDGE port, which
// the kernel applies in full or not at all. IFLA_BRPORT_FLUSH is a flag
// attribute without a value that deletes the port's learned FDB entries
// after the other attributes took effect.
func (pc *PortControl) setPortFlags(link netlink.Link, flags ...portFlag) error {
	req := pc.newRequest(unix.RTM_SETLINK, unix.NLM_F_ACK)
	msg := nl.NewIfInfomsg(unix.AF_BRIDGE)
	msg.Index = int32(link.Attrs().Index)
	req.AddData(msg)
	protinfo := nl.NewRtAttr(unix.IFLA_PROTINFO|unix.NLA_F_NESTED, nil)
	for _, f := range flags {
		switch {
		case f.attr == nl.IFLA_BRPORT_FLUSH:
			protinfo.AddRtAttr(f.attr, nil)
		case f.on:
			protinfo.AddRtAttr(f.attr, []byte{1})
		default:
			protinfo.AddRtAttr(f.attr, []byte{0})
		}
	}
	req.AddData(protinfo)
	_, err := req.Execute(unix.NETLINK_ROUTE, 0)
	return err
}

func (pc *PortControl) newRequest(msgType, flags int) *nl.NetlinkRequest {
	return &nl.NetlinkRequest{
		NlMsghdr: unix.NlMsghdr{
			Len:   uint32(unix.SizeofNlMsghdr),
			Type:  uint16(msgType),
			Flags: unix.NLM_F_REQUEST | uint16(flags),
		},
		Sockets: map[int]*nl.SocketHandle{unix.NETLINK_ROUTE: pc.sock},
	}
}

// PortState is the state of a bridge port as the kernel reports it.
type PortState struct {
	Bridge   string // name of the master bridge
	Locked   bool
	Learning bool

	// Static lists the MACs with a static FDB entry on the port, and Learned
	// those the bridge learned from traffic.
	Static  []net.HardwareAddr
	Learned []net.HardwareAddr
}

// PortState reads the bridge, flags and FDB entries of port.
func (pc *PortControl) PortState(port string) (PortState, error) {
	var st PortState
	link, err := pc.bridgePort(port)
	if err != nil {
		return st, err
	}
	master, err := pc.handle.LinkByIndex(link.Attrs().MasterIndex)
	if err != nil {
		return st, fmt.Errorf("authenticator: bridge of %q: %w", port, err)
	}
	st.Bridge = master.Attrs().Name
	if st.Locked, st.Learning, err = pc.portFlags(link); err != nil {
		return st, fmt.Errorf("authenticator: flags of port %q: %w", port, err)
	}
	neighs, err := pc.handle.NeighList(link.Attrs().Index, unix.AF_BRIDGE)
	if err != nil {
		return st, fmt.Errorf("authenticator: FDB of port %q: %w", port, err)
	}
	for _, n := range neighs {
		if n.LinkIndex != link.Attrs().Index || n.Flags&netlink.NTF_SELF != 0 {
			continue
		}
		switch {
		case n.State&netlink.NUD_PERMANENT != 0:
			// The port's own address, not a station behind it.
		case n.State&netlink.NUD_NOARP != 0:
			st.Static = append(st.Static, n.HardwareAddr)
		default:
			st.Learned = append(st.Learned, n.HardwareAddr)
		}
	}
	return st, nil
}

// portFlags dumps the AF_BRIDGE links and reads IFLA_BRPORT_LOCKED and
// IFLA_BRPORT_LEARNING of link.
func (pc *PortControl) portFlags(link netlink.Link) (locked, learning bool, err error) {
	req := pc.newRequest(unix.RTM_GETLINK, unix.NLM_F_DUMP)
	req.AddData(nl.NewIfInfomsg(unix.AF_BRIDGE))
	msgs, err := req.Execute(unix.NETLINK_ROUTE, unix.RTM_NEWLINK)
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return false, false, err
	}
	for _, m := range msgs {
		info := nl.DeserializeIfInfomsg(m)
		if int(info.Index) != link.Attrs().Index {
			continue
		}
		attrs, err := nl.ParseRouteAttr(m[info.Len():])
		if err != nil {
			return false, false, err
		}
		for _, a := range attrs {
			if a.Attr.Type&^unix.NLA_F_NESTED != unix.IFLA_PROTINFO {
				continue
			}
			inner, err := nl.ParseRouteAttr(a.Value)
			if err != nil {
				return false, false, err
			}
			for _, f := range inner {
				on := len(f.Value) > 0 && f.Value[0] != 0
				switch f.Attr.Type {
				case brportLocked:
					locked = on
				case nl.IFLA_BRPORT_LEARNING:
					learning = on
				}
			}
			return locked, learning, nil
		}
	}
	return false, false, fmt.Errorf("no bridge port flags for index %d", link.Attrs().Index)
}
