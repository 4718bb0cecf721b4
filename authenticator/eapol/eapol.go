// Package eapol encodes and decodes EAPOL PDUs and the Ethernet frames that
// carry them, IEEE 802.1X-2010, Section 11.
//
// The codec is separate from any transport: Parse and MarshalBinary work on
// the EAPOL PDU that follows the Ethernet header, and ParseEthernet and
// AppendEthernet handle the header itself.
package eapol

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Version is the Protocol Version field of an EAPOL PDU, IEEE 802.1X-2010,
// Section 11.
type Version uint8

// Protocol versions defined so far.
const (
	Version2001 Version = 1 // IEEE 802.1X-2001
	Version2004 Version = 2 // IEEE 802.1X-2004
	Version2010 Version = 3 // IEEE 802.1X-2010
)

// DefaultVersion is the version we send when the caller sets none. Version 2
// is what deployed authenticators such as hostapd send by default, and some
// older supplicants reject version 3 PDUs. Version 3 adds only MKA and
// announcements, which this package carries but does not interpret.
const DefaultVersion = Version2004

// PacketType is the Packet Type field of an EAPOL PDU, IEEE 802.1X-2010,
// Section 11.
type PacketType uint8

// Packet types of IEEE 802.1X-2010. Types 5 to 8 are new in that edition.
const (
	TypeEAPPacket            PacketType = 0
	TypeStart                PacketType = 1
	TypeLogoff               PacketType = 2
	TypeKey                  PacketType = 3
	TypeEncapsulatedASFAlert PacketType = 4
	TypeMKA                  PacketType = 5
	TypeAnnouncementGeneric  PacketType = 6
	TypeAnnouncementSpecific PacketType = 7
	TypeAnnouncementReq      PacketType = 8
)

const (
	lastKnownType = TypeAnnouncementReq
	headerLen     = 4
	eapHeaderLen  = 4
	maxBodyLen    = 0xFFFF
)

var typeNames = [...]string{
	TypeEAPPacket:            "EAP-Packet",
	TypeStart:                "EAPOL-Start",
	TypeLogoff:               "EAPOL-Logoff",
	TypeKey:                  "EAPOL-Key",
	TypeEncapsulatedASFAlert: "EAPOL-Encapsulated-ASF-Alert",
	TypeMKA:                  "EAPOL-MKA",
	TypeAnnouncementGeneric:  "EAPOL-Announcement (Generic)",
	TypeAnnouncementSpecific: "EAPOL-Announcement (Specific)",
	TypeAnnouncementReq:      "EAPOL-Announcement-Req",
}

// Known reports whether t is a packet type defined by IEEE 802.1X-2010.
// Callers drop PDUs of unknown types.
func (t PacketType) Known() bool { return t <= lastKnownType }

// String returns the IEEE 802.1X-2010 name of t.
func (t PacketType) String() string {
	if t.Known() {
		return typeNames[t]
	}
	return fmt.Sprintf("unknown EAPOL packet type %d", uint8(t))
}

// Errors returned by Parse and MarshalBinary. Callers drop the PDU on any of
// them; they are sentinels so that counters can tell the reasons apart.
var (
	ErrTruncated   = errors.New("eapol: PDU truncated")
	ErrVersion     = errors.New("eapol: unsupported protocol version")
	ErrEAPLength   = errors.New("eapol: EAP length does not match the body length")
	ErrBodyTooLong = errors.New("eapol: body longer than 65535 octets")
)

// PDU is one EAPOL PDU, IEEE 802.1X-2010, Section 11.
type PDU struct {
	Version Version
	Type    PacketType

	// Body is the Packet Body: an EAP packet for TypeEAPPacket and empty for
	// TypeStart and TypeLogoff sent by version 1 and 2 supplicants. After
	// Parse it aliases the input buffer.
	Body []byte
}

// Parse decodes the EAPOL PDU at the start of b, which is the Ethernet
// payload after the EtherType. Octets after the body are Ethernet padding and
// are ignored, so b may be longer than the PDU but not shorter. Versions 1
// to 3 are accepted. A PDU of an unknown type parses without error, and
// Type.Known reports false. The EAP length of an EAP-Packet must equal the
// body length.
func Parse(b []byte) (*PDU, error) {
	if len(b) < headerLen {
		return nil, fmt.Errorf("%w: %d octets, the header needs %d",
			ErrTruncated, len(b), headerLen)
	}
	v := Version(b[0])
	if v < Version2001 || v > Version2010 {
		return nil, fmt.Errorf("%w: %d, expected 1 to 3", ErrVersion, uint8(v))
	}
	bodyLen := int(binary.BigEndian.Uint16(b[2:4]))
	if headerLen+bodyLen > len(b) {
		return nil, fmt.Errorf("%w: body length %d, but only %d octets follow the header",
			ErrTruncated, bodyLen, len(b)-headerLen)
	}
	p := &PDU{Version: v, Type: PacketType(b[1]), Body: b[headerLen : headerLen+bodyLen]}
	if err := p.checkEAP(); err != nil {
		return nil, err
	}
	return p, nil
}

// checkEAP verifies that an EAP-Packet body holds exactly one EAP packet,
// RFC 3748, Section 4.
func (p *PDU) checkEAP() error {
	if p.Type != TypeEAPPacket {
		return nil
	}
	if len(p.Body) < eapHeaderLen {
		return fmt.Errorf("%w: body of %d octets is shorter than an EAP header",
			ErrEAPLength, len(p.Body))
	}
	eapLen := int(binary.BigEndian.Uint16(p.Body[2:4]))
	if eapLen != len(p.Body) {
		return fmt.Errorf("%w: EAP length %d, body length %d",
			ErrEAPLength, eapLen, len(p.Body))
	}
	return nil
}

// MarshalBinary encodes p. A zero Version means DefaultVersion.
func (p *PDU) MarshalBinary() ([]byte, error) {
	return p.AppendBinary(make([]byte, 0, headerLen+len(p.Body)))
}

// AppendBinary appends the encoding of p to b. A zero Version means
// DefaultVersion.
func (p *PDU) AppendBinary(b []byte) ([]byte, error) {
	v := p.Version
	if v == 0 {
		v = DefaultVersion
	}
	if v > Version2010 {
		return nil, fmt.Errorf("%w: %d, expected 1 to 3", ErrVersion, uint8(v))
	}
	if len(p.Body) > maxBodyLen {
		return nil, fmt.Errorf("%w: %d octets", ErrBodyTooLong, len(p.Body))
	}
	if err := p.checkEAP(); err != nil {
		return nil, err
	}
	b = append(b, byte(v), byte(p.Type))
	b = binary.BigEndian.AppendUint16(b, uint16(len(p.Body)))
	return append(b, p.Body...), nil
}

// String returns a short summary of p for logs, without the body.
func (p *PDU) String() string {
	return fmt.Sprintf("%s v%d, %d octets", p.Type, p.Version, len(p.Body))
}
