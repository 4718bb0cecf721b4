// Package authenticator is the IEEE 802.1X authenticator of a Linux host. It
// receives EAPOL frames on bridge ports over AF_PACKET and keeps each port
// locked until a supplicant authenticates. Then it opens the port for that
// supplicant's MAC address, in the VLAN that the RADIUS server assigned.
package authenticator

import (
	"bytes"
	"fmt"
	"net"

	"github.com/brski-eap/brski/authenticator/eapol"
)

// maxFrameLen is the read buffer size. EAPOL PDUs carry EAP packets that
// supplicants keep below the link MTU, and a jumbo frame of 9018 octets is
// the largest that an Ethernet port delivers.
const maxFrameLen = 9018

// Frame is one EAPOL frame received on a port.
type Frame struct {
	Header eapol.EthernetHeader
	PDU    *eapol.PDU
}

// MalformedFrameError reports a frame that arrived but did not parse. The
// caller drops it and keeps reading.
type MalformedFrameError struct {
	Source net.HardwareAddr // nil when the frame was too short to hold one
	Err    error
}

func (e *MalformedFrameError) Error() string {
	return fmt.Sprintf("authenticator: malformed EAPOL frame from %v: %v", e.Source, e.Err)
}

func (e *MalformedFrameError) Unwrap() error { return e.Err }

// parseReceived decodes a frame read from the socket.
func parseReceived(b []byte) (Frame, error) {
	h, p, err := eapol.ParseFrame(b)
	if err != nil {
		return Frame{}, &MalformedFrameError{Source: cloneAddr(h.Source), Err: err}
	}
	// The socket buffer is reused, so the frame gets its own copy.
	body := bytes.Clone(p.Body)
	return Frame{
		Header: eapol.EthernetHeader{
			Destination: cloneAddr(h.Destination),
			Source:      cloneAddr(h.Source),
			VLAN:        h.VLAN,
		},
		PDU: &eapol.PDU{Version: p.Version, Type: p.Type, Body: body},
	}, nil
}

func cloneAddr(a net.HardwareAddr) net.HardwareAddr {
	if a == nil {
		return nil
	}
	return append(net.HardwareAddr(nil), a...)
}
