// Package eap implements the Extensible Authentication Protocol of RFC 3748:
// the packet codec, Identity and Nak helpers, a method interface, and the
// conversation state of both the authenticator (server) and the peer.
//
// The package carries no transport. The RADIUS server passes the reassembled
// EAP-Message content to a Conversation and sends the reply back, and a
// supplicant passes EAPOL payloads to a PeerConversation.
package eap

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Code is the EAP packet code, RFC 3748, Section 4.
type Code uint8

// EAP codes, RFC 3748, Section 4.
const (
	CodeRequest  Code = 1
	CodeResponse Code = 2
	CodeSuccess  Code = 3
	CodeFailure  Code = 4
)

// String returns the RFC 3748 name of the code.
func (c Code) String() string {
	switch c {
	case CodeRequest:
		return "Request"
	case CodeResponse:
		return "Response"
	case CodeSuccess:
		return "Success"
	case CodeFailure:
		return "Failure"
	}
	return fmt.Sprintf("Code(%d)", uint8(c))
}

// Type is the EAP method type of a Request or Response, RFC 3748, Section 5.
type Type uint8

// EAP types used by this project, RFC 3748, Section 5, and RFC 5216.
const (
	TypeIdentity     Type = 1
	TypeNotification Type = 2
	TypeNak          Type = 3
	TypeMD5Challenge Type = 4
	TypeTLS          Type = 13
	TypeExpanded     Type = 254
	TypeExperimental Type = 255
)

// String returns the RFC name of the type.
func (t Type) String() string {
	switch t {
	case TypeIdentity:
		return "Identity"
	case TypeNotification:
		return "Notification"
	case TypeNak:
		return "Nak"
	case TypeMD5Challenge:
		return "MD5-Challenge"
	case TypeTLS:
		return "EAP-TLS"
	case TypeExpanded:
		return "Expanded"
	case TypeExperimental:
		return "Experimental"
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// MaxVendorID is the largest 24-bit Vendor-Id of an expanded type.
const MaxVendorID = 1<<24 - 1

// MethodType names a method: a legacy type, or the Vendor-Id and Vendor-Type
// of an expanded type (RFC 3748, Section 5.7) when Type is TypeExpanded.
// The zero value means "no method".
type MethodType struct {
	Type       Type
	VendorID   uint32
	VendorType uint32
}

// String returns the type name, with vendor and vendor type when expanded.
func (m MethodType) String() string {
	if m.Type == TypeExpanded {
		return fmt.Sprintf("Expanded(vendor %d, type %d)", m.VendorID, m.VendorType)
	}
	return m.Type.String()
}

// Errors returned by Parse and Marshal.
var (
	ErrTruncated = errors.New("eap: packet truncated")
	ErrLength    = errors.New("eap: length field disagrees with packet size")
	ErrInvalid   = errors.New("eap: invalid packet")
)

const (
	headerLen   = 4
	expandedLen = 7 // Vendor-Id (3) and Vendor-Type (4) after the type octet

	// MaxPacketLen is the largest packet the 16-bit Length field allows.
	MaxPacketLen = 1<<16 - 1
)

// Packet is one EAP packet, RFC 3748, Section 4. Type, VendorID, VendorType
// and Data are meaningful only for Requests and Responses. Data is the type
// data after the type octet, and after the 7-octet expanded header when
// Type is TypeExpanded.
type Packet struct {
	Code       Code
	Identifier uint8
	Type       Type
	VendorID   uint32
	VendorType uint32
	Data       []byte
}

// MethodType returns the packet's method type.
func (p *Packet) MethodType() MethodType {
	if p.Type != TypeExpanded {
		return MethodType{Type: p.Type}
	}
	return MethodType{Type: p.Type, VendorID: p.VendorID, VendorType: p.VendorType}
}

// SetMethodType sets the packet's type fields from m.
func (p *Packet) SetMethodType(m MethodType) {
	p.Type, p.VendorID, p.VendorType = m.Type, m.VendorID, m.VendorType
}

// Parse decodes one EAP packet. The Length field must equal len(b). A
// shorter buffer is ErrTruncated, and a longer one is ErrLength as well.
// RFC 3579, Section 3.1 requires the EAP-Message attributes to contain
// exactly one packet, so trailing bytes mean a broken relay or an attack.
// Data aliases b.
func Parse(b []byte) (*Packet, error) {
	if len(b) < headerLen {
		return nil, fmt.Errorf("%w: %d bytes, need at least %d", ErrTruncated, len(b),
			headerLen)
	}
	p := &Packet{Code: Code(b[0]), Identifier: b[1]}
	length := int(binary.BigEndian.Uint16(b[2:4]))
	switch {
	case length < headerLen:
		return nil, fmt.Errorf("%w: length %d is below the %d-byte header", ErrLength,
			length, headerLen)
	case length > len(b):
		return nil, fmt.Errorf("%w: length %d, got %d bytes", ErrTruncated, length, len(b))
	case length < len(b):
		return nil, fmt.Errorf("%w: length %d, got %d bytes", ErrLength, length, len(b))
	}
	switch p.Code {
	case CodeSuccess, CodeFailure:
		if length != headerLen {
			return nil, fmt.Errorf("%w: %v with %d data bytes", ErrInvalid, p.Code,
				length-headerLen)
		}
		return p, nil
	case CodeRequest, CodeResponse:
	default:
		return nil, fmt.Errorf("%w: unknown code %d", ErrInvalid, b[0])
	}
	if length == headerLen {
		return nil, fmt.Errorf("%w: %v without a type", ErrTruncated, p.Code)
	}
	p.Type = Type(b[4])
	rest := b[5:]
	if p.Type == TypeExpanded {
		if len(rest) < expandedLen {
			return nil, fmt.Errorf("%w: expanded type header of %d bytes", ErrTruncated, len(rest))
		}
		p.VendorID = uint32(rest[0])<<16 | uint32(rest[1])<<8 | uint32(rest[2])
		p.VendorType = binary.BigEndian.Uint32(rest[3:7])
		rest = rest[expandedLen:]
	}
	p.Data = rest
	return p, nil
}

// Len returns the encoded length of the packet.
func (p *Packet) Len() int {
	switch p.Code {
	case CodeSuccess, CodeFailure:
		return headerLen
	}
	n := headerLen + 1 + len(p.Data)
	if p.Type == TypeExpanded {
		n += expandedLen
	}
	return n
}

// Marshal encodes the packet. It rejects an unknown code, a Vendor-Id over
// 24 bits and a packet over MaxPacketLen bytes.
func (p *Packet) Marshal() ([]byte, error) {
	return p.AppendTo(nil)
}

// AppendTo appends the encoded packet to b, with the checks of Marshal.
func (p *Packet) AppendTo(b []byte) ([]byte, error) {
	n := p.Len()
	switch {
	case p.Code < CodeRequest || p.Code > CodeFailure:
		return nil, fmt.Errorf("%w: unknown code %d", ErrInvalid, uint8(p.Code))
	case n > MaxPacketLen:
		return nil, fmt.Errorf("%w: %d bytes exceed the maximum of %d", ErrInvalid, n, MaxPacketLen)
	case p.Type == TypeExpanded && p.VendorID > MaxVendorID:
		return nil, fmt.Errorf("%w: vendor ID %d exceeds 24 bits", ErrInvalid, p.VendorID)
	}
	b = append(b, byte(p.Code), p.Identifier, byte(n>>8), byte(n))
	if n == headerLen {
		return b, nil
	}
	b = append(b, byte(p.Type))
	if p.Type == TypeExpanded {
		b = append(b, byte(p.VendorID>>16), byte(p.VendorID>>8), byte(p.VendorID))
		b = binary.BigEndian.AppendUint32(b, p.VendorType)
	}
	return append(b, p.Data...), nil
}

// String summarizes the packet for logs without its data.
func (p *Packet) String() string {
	switch p.Code {
	case CodeRequest, CodeResponse:
		return fmt.Sprintf("%v/%v id=%d len=%d", p.Code, p.MethodType(), p.Identifier, p.Len())
	}
	return fmt.Sprintf("%v id=%d", p.Code, p.Identifier)
}
