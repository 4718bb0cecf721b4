package eapol

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
)

// EtherType is the Port Access Entity EtherType, IEEE 802.1X-2010,
// Section 11.
const EtherType = 0x888E

// etherTypeVLAN is the EtherType of an IEEE 802.1Q C-VLAN tag.
const etherTypeVLAN = 0x8100

// Lengths of Ethernet frame parts, in octets.
const (
	EthernetHeaderLen = 14 // destination, source and EtherType
	MinFrameLen       = 60 // shortest frame without the FCS, padded by the sender
	vlanTagLen        = 4
)

// PAEGroupAddress returns the Port Access Entity group address
// 01-80-C2-00-00-03 that EAPOL PDUs are sent to, IEEE 802.1X-2010,
// Section 11. Each call returns a new slice.
func PAEGroupAddress() net.HardwareAddr {
	return net.HardwareAddr{0x01, 0x80, 0xC2, 0x00, 0x00, 0x03}
}

// ErrNotEAPOL reports an Ethernet frame whose EtherType is not EtherType.
var ErrNotEAPOL = errors.New("eapol: frame is not EAPOL")

// EthernetHeader is the header of an Ethernet frame that carries EAPOL.
type EthernetHeader struct {
	Destination net.HardwareAddr
	Source      net.HardwareAddr

	// VLAN is the VLAN ID of an IEEE 802.1Q tag, or 0 when the frame has no
	// tag or a priority tag only.
	VLAN uint16
}

// ParseEthernet decodes the Ethernet header at the start of frame and
// returns the payload after it. It skips one IEEE 802.1Q tag and returns
// ErrNotEAPOL when the EtherType is not EtherType. The addresses and the
// payload alias frame.
func ParseEthernet(frame []byte) (EthernetHeader, []byte, error) {
	var h EthernetHeader
	if len(frame) < EthernetHeaderLen {
		return h, nil, fmt.Errorf("%w: Ethernet frame of %d octets", ErrTruncated, len(frame))
	}
	h.Destination = net.HardwareAddr(frame[0:6])
	h.Source = net.HardwareAddr(frame[6:12])
	etherType := binary.BigEndian.Uint16(frame[12:14])
	rest := frame[EthernetHeaderLen:]
	if etherType == etherTypeVLAN {
		if len(rest) < vlanTagLen {
			return h, nil, fmt.Errorf("%w: IEEE 802.1Q tag", ErrTruncated)
		}
		h.VLAN = binary.BigEndian.Uint16(rest[0:2]) & 0x0FFF
		etherType = binary.BigEndian.Uint16(rest[2:4])
		rest = rest[vlanTagLen:]
	}
	if etherType != EtherType {
		return h, nil, fmt.Errorf("%w: EtherType %#04x", ErrNotEAPOL, etherType)
	}
	return h, rest, nil
}

// AppendEthernet appends an untagged Ethernet header for an EAPOL frame from
// src to dst. Both addresses must be 6 octets long.
func AppendEthernet(b []byte, dst, src net.HardwareAddr) ([]byte, error) {
	if len(dst) != 6 || len(src) != 6 {
		return nil, fmt.Errorf("eapol: Ethernet addresses %q and %q must be 6 octets", dst, src)
	}
	b = append(b, dst...)
	b = append(b, src...)
	return binary.BigEndian.AppendUint16(b, EtherType), nil
}

// MarshalFrame encodes p in an Ethernet frame from src to dst. The frame is
// padded with zeros to MinFrameLen, which Parse on the receiving side
// ignores.
func MarshalFrame(dst, src net.HardwareAddr, p *PDU) ([]byte, error) {
	b, err := AppendEthernet(make([]byte, 0, MinFrameLen), dst, src)
	if err != nil {
		return nil, err
	}
	b, err = p.AppendBinary(b)
	if err != nil {
		return nil, err
	}
	for len(b) < MinFrameLen {
		b = append(b, 0)
	}
	return b, nil
}

// ParseFrame decodes an Ethernet frame that carries an EAPOL PDU.
func ParseFrame(frame []byte) (EthernetHeader, *PDU, error) {
	h, payload, err := ParseEthernet(frame)
	if err != nil {
		return h, nil, err
	}
	p, err := Parse(payload)
	return h, p, err
}
