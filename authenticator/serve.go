package authenticator

import (
	"errors"
	"net"

	"github.com/brski-eap/brski/authenticator/eapol"
	"github.com/brski-eap/brski/authenticator/pae"
)

var _ pae.Sender = (*Conn)(nil)

// Serve reads EAPOL frames from conn and passes those for this port to the
// PAE until reading fails. A frame that does not parse goes to onMalformed,
// when it is set, and reading goes on. Frames to a unicast address other
// than the interface's own are dropped. The ENETDOWN error that the socket
// reports once when the interface goes down does not end Serve. Serve
// returns other read errors, which match net.ErrClosed after conn.Close.
//
// TODO: Serve does not watch the link state. The caller reports it with
// Port.LinkUp and Port.LinkDown, for example from netlink link updates.
func Serve(conn *Conn, port *pae.Port, onMalformed func(*MalformedFrameError)) error {
	own := conn.Interface().HardwareAddr
	group := eapol.PAEGroupAddress()
	for {
		f, err := conn.ReadFrame()
		var malformed *MalformedFrameError
		switch {
		case errors.As(err, &malformed):
			if onMalformed != nil {
				onMalformed(malformed)
			}
			continue
		case isLinkDown(err):
			continue // reported once when the interface goes down
		case err != nil:
			return err
		}
		if !sameAddr(f.Header.Destination, group) && !sameAddr(f.Header.Destination, own) {
			continue
		}
		port.HandleFrame(f.Header.Source, f.PDU)
	}
}

func sameAddr(a, b net.HardwareAddr) bool { return string(a) == string(b) }
