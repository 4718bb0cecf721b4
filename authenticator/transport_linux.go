//go:build linux

package authenticator

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mdlayher/packet"
	"golang.org/x/sys/unix"

	"github.com/brski-eap/brski/authenticator/eapol"
)

// Conn is an AF_PACKET socket that sends and receives EAPOL frames on one
// interface, a bridge port in the usual setup. It is a member of the PAE
// group address and ignores the frames it sends itself. Conn is safe for
// concurrent use by one reader and several writers.
type Conn struct {
	ifi  *net.Interface
	conn *packet.Conn

	closed atomic.Bool

	readMu sync.Mutex
	buf    []byte
}

// Listen opens an AF_PACKET socket for EtherType 0x888E on the interface
// named ifName, in the network namespace of the calling thread. It needs
// CAP_NET_RAW.
func Listen(ifName string) (*Conn, error) {
	ifi, err := net.InterfaceByName(ifName)
	if err != nil {
		return nil, fmt.Errorf("authenticator: interface %q: %w", ifName, err)
	}
	if len(ifi.HardwareAddr) != 6 {
		return nil, fmt.Errorf("authenticator: interface %q has no Ethernet address", ifName)
	}
	pc, err := packet.Listen(ifi, packet.Raw, eapol.EtherType, nil)
	if err != nil {
		return nil, fmt.Errorf("authenticator: open AF_PACKET socket on %q: %w", ifName, err)
	}
	if err := configureSocket(pc, ifi.Index); err != nil {
		pc.Close()
		return nil, fmt.Errorf("authenticator: configure AF_PACKET socket on %q: %w",
			ifName, err)
	}
	return &Conn{ifi: ifi, conn: pc, buf: make([]byte, maxFrameLen)}, nil
}

// configureSocket joins the PAE group address, so that a NIC with a
// multicast filter passes EAPOL frames, and sets PACKET_IGNORE_OUTGOING
// (Linux 4.20), so the reader does not see its own frames.
func configureSocket(pc *packet.Conn, ifIndex int) error {
	rc, err := pc.SyscallConn()
	if err != nil {
		return err
	}
	mreq := unix.PacketMreq{Ifindex: int32(ifIndex), Type: unix.PACKET_MR_MULTICAST, Alen: 6}
	copy(mreq.Address[:], eapol.PAEGroupAddress())
	var opErr error
	err = rc.Control(func(fd uintptr) {
		opErr = unix.SetsockoptPacketMreq(int(fd), unix.SOL_PACKET,
			unix.PACKET_ADD_MEMBERSHIP, &mreq)
		if opErr != nil {
			opErr = fmt.Errorf("join PAE group address: %w", opErr)
			return
		}
		opErr = unix.SetsockoptInt(int(fd), unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1)
		if opErr != nil {
			opErr = fmt.Errorf("set PACKET_IGNORE_OUTGOING: %w", opErr)
		}
	})
	if err != nil {
		return err
	}
	return opErr
}

// Interface returns the interface that c is bound to.
func (c *Conn) Interface() *net.Interface { return c.ifi }

// ReadFrame blocks until a frame arrives or the read deadline passes. A
// frame that does not parse returns a *MalformedFrameError, and the caller
// can keep reading. Other errors come from the socket, which is closed or
// past its deadline.
func (c *Conn) ReadFrame() (Frame, error) {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	n, _, err := c.conn.ReadFrom(c.buf)
	if err != nil && c.closed.Load() {
		// The socket reports "use of closed file" from internal/poll, which
		// matches no exported error, so Close's callers get net.ErrClosed.
		return Frame{}, fmt.Errorf("authenticator: read on %q: %w: %w",
			c.ifi.Name, net.ErrClosed, err)
	}
	if err != nil {
		return Frame{}, fmt.Errorf("authenticator: read on %q: %w", c.ifi.Name, err)
	}
	return parseReceived(c.buf[:n])
}

// WriteFrame sends p to dst from the interface's own address.
func (c *Conn) WriteFrame(dst net.HardwareAddr, p *eapol.PDU) error {
	b, err := eapol.MarshalFrame(dst, c.ifi.HardwareAddr, p)
	if err != nil {
		return err
	}
	if _, err := c.conn.WriteTo(b, &packet.Addr{HardwareAddr: dst}); err != nil {
		return fmt.Errorf("authenticator: write on %q to %v: %w", c.ifi.Name, dst, err)
	}
	return nil
}

// SetReadDeadline sets the time after which ReadFrame fails with an error
// that matches os.ErrDeadlineExceeded. A zero time means no deadline.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.conn.SetReadDeadline(t) }

// SetWriteDeadline sets the time after which WriteFrame fails.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.conn.SetWriteDeadline(t) }

// Close closes the socket and unblocks a pending ReadFrame, which then
// returns an error that matches net.ErrClosed.
func (c *Conn) Close() error {
	c.closed.Store(true)
	return c.conn.Close()
}

// isLinkDown reports whether err is the ENETDOWN that an AF_PACKET socket
// returns once after its interface went down.
func isLinkDown(err error) bool { return errors.Is(err, unix.ENETDOWN) }
