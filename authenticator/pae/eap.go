package pae

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// EAP codes and the Identity type, RFC 3748, Sections 4 and 5.1. The PAE
// reads only the EAP header. The eap package owns the full codec.
const (
	eapRequest  = 1
	eapResponse = 2
	eapSuccess  = 3
	eapFailure  = 4

	eapTypeIdentity = 1
	eapHeaderLen    = 4
)

// eapHeader is the part of an EAP packet that the PAE looks at.
type eapHeader struct {
	code uint8
	id   uint8
	typ  uint8 // 0 for Success and Failure, which carry no type
	data []byte
}

var errEAP = errors.New("pae: invalid EAP packet")

// parseEAP reads the header of b, which must be one whole EAP packet.
func parseEAP(b []byte) (eapHeader, error) {
	if len(b) < eapHeaderLen {
		return eapHeader{}, fmt.Errorf("%w: %d octets", errEAP, len(b))
	}
	if n := int(binary.BigEndian.Uint16(b[2:4])); n != len(b) {
		return eapHeader{}, fmt.Errorf("%w: length field %d, packet %d octets", errEAP, n, len(b))
	}
	h := eapHeader{code: b[0], id: b[1]}
	switch h.code {
	case eapRequest, eapResponse:
		if len(b) < eapHeaderLen+1 {
			return eapHeader{}, fmt.Errorf("%w: request or response without a type", errEAP)
		}
		h.typ, h.data = b[4], b[5:]
	case eapSuccess, eapFailure:
	default:
		return eapHeader{}, fmt.Errorf("%w: code %d", errEAP, h.code)
	}
	return h, nil
}

// identityRequest returns an EAP-Request/Identity without a displayable
// message, RFC 3748, Section 5.1.
func identityRequest(id uint8) []byte {
	return []byte{eapRequest, id, 0, 5, eapTypeIdentity}
}

// resultPacket returns an EAP-Success or EAP-Failure, RFC 3748, Section 4.2.
func resultPacket(code, id uint8) []byte {
	return []byte{code, id, 0, 4}
}
