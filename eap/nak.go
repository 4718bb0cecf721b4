package eap

import (
	"encoding/binary"
	"fmt"
	"slices"
	"unicode/utf8"
)

// MaxIdentityLen caps the identity accepted from a peer. RFC 3748 sets no
// limit, but RADIUS carries the identity in User-Name, which RFC 2865,
// Section 5.1 limits to 253 bytes.
const MaxIdentityLen = 253

// NewIdentityRequest returns a Request/Identity with an empty prompt,
// RFC 3748, Section 5.1.
func NewIdentityRequest(identifier uint8) *Packet {
	return &Packet{Code: CodeRequest, Identifier: identifier, Type: TypeIdentity}
}

// NewIdentityResponse returns a Response/Identity that carries identity.
func NewIdentityResponse(identifier uint8, identity string) *Packet {
	return &Packet{
		Code: CodeResponse, Identifier: identifier, Type: TypeIdentity, Data: []byte(identity),
	}
}

// Identity returns the identity of a Response/Identity. RFC 3748,
// Section 5.1 allows a NUL-terminated display string in a Request only, so
// a Response with a NUL byte, invalid UTF-8 or more than MaxIdentityLen
// bytes is rejected.
func Identity(p *Packet) (string, error) {
	if p.Code != CodeResponse || p.Type != TypeIdentity {
		return "", fmt.Errorf("%w: %v is not a Response/Identity", ErrInvalid, p)
	}
	if len(p.Data) > MaxIdentityLen {
		return "", fmt.Errorf("%w: identity of %d bytes exceeds %d", ErrInvalid, len(p.Data),
			MaxIdentityLen)
	}
	for _, c := range p.Data {
		if c == 0 {
			return "", fmt.Errorf("%w: identity contains a NUL byte", ErrInvalid)
		}
	}
	if !utf8.Valid(p.Data) {
		return "", fmt.Errorf("%w: identity is not valid UTF-8", ErrInvalid)
	}
	return string(p.Data), nil
}

// nakExpanded is the method type of an Expanded Nak, RFC 3748, Section 5.3.2.
var nakExpanded = MethodType{Type: TypeExpanded, VendorID: 0, VendorType: uint32(TypeNak)}

// NewNak returns a Nak Response that lists the desired methods, most
// preferred first. With expanded false it is a legacy Nak (RFC 3748,
// Section 5.3.1), where every expanded method becomes the single octet 254.
// With expanded true it is an Expanded Nak (Section 5.3.2), which the peer
// sends in reply to an expanded Request. An empty list means "no acceptable
// alternative".
func NewNak(identifier uint8, desired []MethodType, expanded bool) *Packet {
	p := &Packet{Code: CodeResponse, Identifier: identifier, Type: TypeNak}
	if !expanded {
		data := make([]byte, 0, len(desired)+1)
		for _, m := range desired {
			if m.Type == TypeExpanded && slices.Contains(data, byte(TypeExpanded)) {
				continue
			}
			data = append(data, byte(m.Type))
		}
		if len(data) == 0 {
			data = append(data, 0)
		}
		p.Data = data
		return p
	}
	p.SetMethodType(nakExpanded)
	if len(desired) == 0 {
		desired = []MethodType{{}}
	}
	data := make([]byte, 0, 8*len(desired))
	for _, m := range desired {
		if m.Type != TypeExpanded {
			// Section 5.3.2: legacy types appear with Vendor-Id 0.
			m = MethodType{VendorType: uint32(m.Type)}
		}
		data = append(data, byte(TypeExpanded), byte(m.VendorID>>16), byte(m.VendorID>>8),
			byte(m.VendorID))
		data = binary.BigEndian.AppendUint32(data, m.VendorType)
	}
	p.Data = data
	return p
}

// IsNak reports whether p is a legacy or an Expanded Nak.
func IsNak(p *Packet) bool {
	return p.Code == CodeResponse && (p.Type == TypeNak || p.MethodType() == nakExpanded)
}

// ParseNak returns the methods that a Nak Response lists. An empty result
// means that the peer has no acceptable alternative. Legacy types inside an
// Expanded Nak come back as plain types, so callers compare MethodType
// values directly.
func ParseNak(p *Packet) ([]MethodType, error) {
	if !IsNak(p) {
		return nil, fmt.Errorf("%w: %v is not a Nak", ErrInvalid, p)
	}
	if len(p.Data) == 0 {
		return nil, fmt.Errorf("%w: Nak without a type list", ErrTruncated)
	}
	var out []MethodType
	if p.Type == TypeNak {
		for _, c := range p.Data {
			if c != 0 {
				out = append(out, MethodType{Type: Type(c)})
			}
		}
		return out, nil
	}
	if len(p.Data)%8 != 0 {
		return nil, fmt.Errorf("%w: Expanded Nak of %d bytes is not a multiple of 8",
			ErrInvalid, len(p.Data))
	}
	for b := p.Data; len(b) > 0; b = b[8:] {
		if Type(b[0]) != TypeExpanded {
			return nil, fmt.Errorf("%w: Expanded Nak entry with type %d", ErrInvalid, b[0])
		}
		m := MethodType{
			Type:       TypeExpanded,
			VendorID:   uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]),
			VendorType: binary.BigEndian.Uint32(b[4:8]),
		}
		switch {
		case m.VendorID == 0 && m.VendorType == 0:
			continue
		case m.VendorID == 0 && m.VendorType <= 0xff && m.VendorType != uint32(TypeExpanded):
			m = MethodType{Type: Type(m.VendorType)}
		}
		out = append(out, m)
	}
	return out, nil
}
