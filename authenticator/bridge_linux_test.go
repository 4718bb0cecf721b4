//go:build linux

package authenticator

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/brski-eap/brski/authenticator/eapol"
)

var (
	pledgeMAC = net.HardwareAddr{0x02, 0x00, 0x5E, 0x00, 0x00, 0x01}
	hostMAC   = net.HardwareAddr{0x02, 0x00, 0x5E, 0x00, 0x00, 0x02}
	otherMAC  = net.HardwareAddr{0x02, 0x00, 0x5E, 0x00, 0x00, 0x03}
)

const (
	pledgeIP = "10.77.0.1"
	hostIP   = "10.77.0.2"
)

// topology is a switch namespace with bridges, a pledge namespace behind
// port p1 and a host namespace behind port p2. Each namespace reaches the
// switch over a veth pair whose far end is eth0.
type topology struct {
	sw, pledge, host       string
	swNS, pledgeNS, hostNS netns.NsHandle
	bridgeOfP1, bridgeOfP2 string
	echo                   net.Addr
	pledgeToHost           *prober
}

// newTopology builds the namespaces, puts p1 into bridgeOfP1 and p2 into
// bridgeOfP2 and creates each of the bridges named in bridges.
func newTopology(t *testing.T, bridgeOfP1, bridgeOfP2 string, bridges ...string) *topology {
	t.Helper()
	requireNetAdmin(t)
	tp := &topology{bridgeOfP1: bridgeOfP1, bridgeOfP2: bridgeOfP2}
	tp.sw, tp.swNS = newNamespace(t, "sw")
	tp.pledge, tp.pledgeNS = newNamespace(t, "pledge")
	tp.host, tp.hostNS = newNamespace(t, "host")
	for _, br := range bridges {
		runIP(t, "-n", tp.sw, "link", "add", br, "type", "bridge")
		runIP(t, "-n", tp.sw, "link", "set", br, "up")
	}
	tp.attach(t, "p1", tp.pledge, bridgeOfP1, pledgeMAC, pledgeIP)
	tp.attach(t, "p2", tp.host, bridgeOfP2, hostMAC, hostIP)
	tp.echo = startEcho(t, tp.hostNS, hostIP+":0")
	tp.pledgeToHost = newProber(t, tp.pledgeNS, pledgeIP+":0", tp.echo)
	return tp
}

func (tp *topology) attach(t *testing.T, port, peerNS, bridge string, mac net.HardwareAddr,
	ip string) {
	t.Helper()
	runIP(t, "-n", tp.sw, "link", "add", port, "type", "veth", "peer", "name", "eth0",
		"netns", peerNS)
	runIP(t, "-n", tp.sw, "link", "set", port, "master", bridge)
	runIP(t, "-n", tp.sw, "link", "set", port, "up")
	runIP(t, "-n", peerNS, "link", "set", "eth0", "address", mac.String())
	runIP(t, "-n", peerNS, "addr", "add", ip+"/24", "dev", "eth0")
	runIP(t, "-n", peerNS, "link", "set", "eth0", "up")
}

func (tp *topology) portControl(t *testing.T, vlans VLANBackend) *PortControl {
	t.Helper()
	pc, err := NewPortControl(tp.swNS, vlans)
	if err != nil {
		t.Fatalf("NewPortControl: %v", err)
	}
	t.Cleanup(pc.Close)
	return pc
}

func portState(t *testing.T, pc *PortControl, port string) PortState {
	t.Helper()
	st, err := pc.PortState(port)
	if err != nil {
		t.Fatalf("PortState(%q): %v", port, err)
	}
	return st
}

func requirePortState(t *testing.T, pc *PortControl, port string, want PortState) {
	t.Helper()
	if diff := cmp.Diff(want, portState(t, pc, port)); diff != "" {
		t.Fatalf("PortState(%q) mismatch (-want +got):\n%s", port, diff)
	}
}

func TestBrportLockedConstant(t *testing.T) {
	// The value of include/uapi/linux/if_link.h since Linux 5.18.
	const want = 39
	if brportLocked != want {
		t.Errorf("brportLocked = %d, want %d", brportLocked, want)
	}
	if nl.IFLA_BRPORT_LOCKED != want {
		t.Errorf("netlink IFLA_BRPORT_LOCKED = %d, want %d", nl.IFLA_BRPORT_LOCKED, want)
	}
}

func TestPortControlLockAndAuthorize(t *testing.T) {
	tp := newTopology(t, "br0", "br0", "br0")
	pc := tp.portControl(t, nil)

	tp.pledgeToHost.requireReachable(t, "before Lock")
	if st := portState(t, pc, "p1"); len(st.Learned) == 0 {
		t.Fatalf("bridge learned no MAC on p1 before Lock: %+v", st)
	}
	if err := pc.Lock("p1"); err != nil {
		t.Fatalf("Lock: %v", err)
	}
	requirePortState(t, pc, "p1", PortState{Bridge: "br0", Locked: true})
	tp.pledgeToHost.requireUnreachable(t, "after Lock")

	if err := pc.Authorize("p1", pledgeMAC, ""); err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	requirePortState(t, pc, "p1",
		PortState{Bridge: "br0", Locked: true, Static: []net.HardwareAddr{pledgeMAC}})
	tp.pledgeToHost.requireReachable(t, "after Authorize")

	if err := pc.Deauthorize("p1", pledgeMAC); err != nil {
		t.Fatalf("Deauthorize: %v", err)
	}
	requirePortState(t, pc, "p1", PortState{Bridge: "br0", Locked: true})
	tp.pledgeToHost.requireUnreachable(t, "after Deauthorize")

	if err := pc.Unlock("p1"); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
	tp.pledgeToHost.requireReachable(t, "after Unlock")
}

func TestPortControlErrors(t *testing.T) {
	tp := newTopology(t, "br0", "br0", "br0")
	runIP(t, "-n", tp.sw, "link", "add", "lone0", "type", "veth", "peer", "name", "lone1")
	pc := tp.portControl(t, nil)

	if err := pc.Lock("lone0"); !errors.Is(err, ErrNotBridgePort) {
		t.Errorf("Lock(lone0) error = %v, want ErrNotBridgePort", err)
	}
	if err := pc.Authorize("p1", pledgeMAC, ""); !errors.Is(err, ErrPortNotLocked) {
		t.Errorf("Authorize before Lock error = %v, want ErrPortNotLocked", err)
	}
	if err := pc.Lock("p1"); err != nil {
		t.Fatalf("Lock: %v", err)
	}
	if err := pc.Authorize("p1", pledgeMAC, "10"); !errors.Is(err, ErrUnknownVLAN) {
		t.Errorf("Authorize VLAN 10 without backend error = %v, want ErrUnknownVLAN", err)
	}
	if err := pc.Authorize("p1", pledgeMAC, ""); err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	if err := pc.Authorize("p1", otherMAC, "20"); !errors.Is(err, ErrVLANConflict) {
		t.Errorf("Authorize second MAC in VLAN 20 error = %v, want ErrVLANConflict", err)
	}
	if err := pc.Deauthorize("p1", otherMAC); err != nil {
		t.Errorf("Deauthorize of a MAC never authorized: %v", err)
	}
}

func TestPortControlMultiAuth(t *testing.T) {
	tp := newTopology(t, "br0", "br0", "br0")
	pc := tp.portControl(t, nil)
	if err := pc.Lock("p1"); err != nil {
		t.Fatalf("Lock: %v", err)
	}
	for _, mac := range []net.HardwareAddr{otherMAC, pledgeMAC} {
		if err := pc.Authorize("p1", mac, ""); err != nil {
			t.Fatalf("Authorize(%v): %v", mac, err)
		}
	}
	tp.pledgeToHost.requireReachable(t, "two MACs authorized")
	if err := pc.Deauthorize("p1", otherMAC); err != nil {
		t.Fatalf("Deauthorize(%v): %v", otherMAC, err)
	}
	requirePortState(t, pc, "p1",
		PortState{Bridge: "br0", Locked: true, Static: []net.HardwareAddr{pledgeMAC}})
	tp.pledgeToHost.requireReachable(t, "other MAC deauthorized")

	// Lock again ends every session on the port.
	if err := pc.Lock("p1"); err != nil {
		t.Fatalf("second Lock: %v", err)
	}
	requirePortState(t, pc, "p1", PortState{Bridge: "br0", Locked: true})
}

func TestBridgePerVLAN(t *testing.T) {
	tp := newTopology(t, "brunauth", "brv10", "brunauth", "brv10")
	pc := tp.portControl(t, BridgePerVLAN{
		Unauthenticated: "brunauth",
		Bridges:         map[string]string{"10": "brv10"},
	})
	if err := pc.Lock("p1"); err != nil {
		t.Fatalf("Lock: %v", err)
	}
	tp.pledgeToHost.requireUnreachable(t, "in the unauthenticated bridge")

	if err := pc.Authorize("p1", pledgeMAC, "010"); err != nil {
		t.Fatalf("Authorize VLAN 010: %v", err)
	}
	requirePortState(t, pc, "p1",
		PortState{Bridge: "brv10", Locked: true, Static: []net.HardwareAddr{pledgeMAC}})
	tp.pledgeToHost.requireReachable(t, "in VLAN 10")

	if err := pc.Authorize("p1", otherMAC, "11"); !errors.Is(err, ErrVLANConflict) {
		t.Errorf("Authorize second MAC in VLAN 11 error = %v, want ErrVLANConflict", err)
	}
	if err := pc.Deauthorize("p1", pledgeMAC); err != nil {
		t.Fatalf("Deauthorize: %v", err)
	}
	requirePortState(t, pc, "p1", PortState{Bridge: "brunauth", Locked: true})
	tp.pledgeToHost.requireUnreachable(t, "back in the unauthenticated bridge")
}

func TestBridgePerVLANReassign(t *testing.T) {
	tp := newTopology(t, "brunauth", "brv20", "brunauth", "brv10", "brv20")
	pc := tp.portControl(t, BridgePerVLAN{
		Unauthenticated: "brunauth",
		Bridges:         map[string]string{"10": "brv10", "20": "brv20"},
	})
	if err := pc.Lock("p1"); err != nil {
		t.Fatalf("Lock: %v", err)
	}
	if err := pc.Authorize("p1", pledgeMAC, "10"); err != nil {
		t.Fatalf("Authorize VLAN 10: %v", err)
	}
	tp.pledgeToHost.requireUnreachable(t, "in VLAN 10, host in VLAN 20")

	// A reauthentication may move the only MAC of a port to another VLAN.
	if err := pc.Authorize("p1", pledgeMAC, "20"); err != nil {
		t.Fatalf("Authorize VLAN 20: %v", err)
	}
	requirePortState(t, pc, "p1",
		PortState{Bridge: "brv20", Locked: true, Static: []net.HardwareAddr{pledgeMAC}})
	tp.pledgeToHost.requireReachable(t, "in VLAN 20")
}

func TestBridgePerVLANUnknown(t *testing.T) {
	tp := newTopology(t, "brunauth", "brunauth", "brunauth")
	pc := tp.portControl(t, BridgePerVLAN{Unauthenticated: "brunauth"})
	if err := pc.Lock("p1"); err != nil {
		t.Fatalf("Lock: %v", err)
	}
	if err := pc.Authorize("p1", pledgeMAC, "guests"); !errors.Is(err, ErrUnknownVLAN) {
		t.Errorf("Authorize VLAN guests error = %v, want ErrUnknownVLAN", err)
	}
	requirePortState(t, pc, "p1", PortState{Bridge: "brunauth", Locked: true})
}

// requireVLANFiltering skips the test when the kernel cannot enable
// vlan_filtering on a bridge. It skips under CI=true as well, because the CI
// kernel is built without CONFIG_BRIDGE_VLAN_FILTERING.
func requireVLANFiltering(t *testing.T, ns netns.NsHandle, bridge string) {
	t.Helper()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatalf("netlink handle: %v", err)
	}
	defer h.Close()
	link, err := h.LinkByName(bridge)
	if err != nil {
		t.Fatalf("bridge %q: %v", bridge, err)
	}
	err = h.BridgeSetVlanFiltering(link, true)
	if errors.Is(err, unix.EOPNOTSUPP) {
		t.Skipf("kernel built without CONFIG_BRIDGE_VLAN_FILTERING: "+
			"enabling vlan_filtering on %s failed: %v", bridge, err)
	}
	if err != nil {
		t.Fatalf("enable vlan_filtering on %s: %v", bridge, err)
	}
}

// NOTE: TestVLANFiltering has only been skipped so far, because the kernels
// at hand lack CONFIG_BRIDGE_VLAN_FILTERING.
func TestVLANFiltering(t *testing.T) {
	tp := newTopology(t, "br0", "br0", "br0")
	requireVLANFiltering(t, tp.swNS, "br0")
	pc := tp.portControl(t, VLANFiltering{Unauthenticated: 99})
	// The host port carries VLAN 10 untagged.
	runBridgeVLAN(t, tp, "p2", "10")
	if err := pc.Lock("p1"); err != nil {
		t.Fatalf("Lock: %v", err)
	}
	tp.pledgeToHost.requireUnreachable(t, "in the unauthenticated VLAN")
	if err := pc.Authorize("p1", pledgeMAC, "10"); err != nil {
		t.Fatalf("Authorize VLAN 10: %v", err)
	}
	tp.pledgeToHost.requireReachable(t, "in VLAN 10")
	if err := pc.Deauthorize("p1", pledgeMAC); err != nil {
		t.Fatalf("Deauthorize: %v", err)
	}
	tp.pledgeToHost.requireUnreachable(t, "back in the unauthenticated VLAN")
}

// runBridgeVLAN makes vid the only, untagged VLAN of port.
func runBridgeVLAN(t *testing.T, tp *topology, port, vid string) {
	t.Helper()
	pc := tp.portControl(t, VLANFiltering{})
	link, err := pc.bridgePort(port)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (VLANFiltering{}).place(pc.handle, link, vid); err != nil {
		t.Fatalf("set VLAN %s on %s: %v", vid, port, err)
	}
}

func TestEAPOLReachesLockedPort(t *testing.T) {
	tp := newTopology(t, "br0", "br0", "br0")
	pc := tp.portControl(t, nil)
	if err := pc.Lock("p1"); err != nil {
		t.Fatalf("Lock: %v", err)
	}
	auth := listenIn(t, tp.swNS, "p1")
	supp := listenIn(t, tp.pledgeNS, "eth0")

	start := &eapol.PDU{Version: eapol.Version2001, Type: eapol.TypeStart}
	if err := supp.WriteFrame(eapol.PAEGroupAddress(), start); err != nil {
		t.Fatalf("supplicant WriteFrame: %v", err)
	}
	got := readFrame(t, auth)
	want := Frame{
		Header: eapol.EthernetHeader{Destination: eapol.PAEGroupAddress(), Source: pledgeMAC},
		PDU:    &eapol.PDU{Version: eapol.Version2001, Type: eapol.TypeStart, Body: []byte{}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("authenticator read mismatch (-want +got):\n%s", diff)
	}

	identity := &eapol.PDU{Type: eapol.TypeEAPPacket, Body: []byte{1, 7, 0, 5, 1}}
	if err := auth.WriteFrame(pledgeMAC, identity); err != nil {
		t.Fatalf("authenticator WriteFrame: %v", err)
	}
	got = readFrame(t, supp)
	if diff := cmp.Diff(identity.Body, got.PDU.Body); diff != "" {
		t.Errorf("supplicant read mismatch (-want +got):\n%s", diff)
	}
	if got.PDU.Version != eapol.DefaultVersion {
		t.Errorf("version = %d, want %d", got.PDU.Version, eapol.DefaultVersion)
	}
	tp.pledgeToHost.requireUnreachable(t, "after EAPOL")
}

func listenIn(t *testing.T, ns netns.NsHandle, ifName string) *Conn {
	t.Helper()
	var c *Conn
	err := inNamespace(ns, func() (err error) {
		c, err = Listen(ifName)
		return err
	})
	if err != nil {
		t.Fatalf("Listen(%q): %v", ifName, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readFrame reads one frame and fails the test when none arrives within
// five seconds.
func readFrame(t *testing.T, c *Conn) Frame {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatalf("SetReadDeadline: %v", err)
	}
	f, err := c.ReadFrame()
	if isLinkDown(err) {
		f, err = c.ReadFrame() // the interface went down before
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("no EAPOL frame on %s within 5s", c.Interface().Name)
	}
	if err != nil {
		t.Fatalf("ReadFrame on %s: %v", c.Interface().Name, err)
	}
	return f
}
