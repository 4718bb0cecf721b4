package radius

import (
	"encoding/binary"
	"errors"
	"fmt"

	"layeh.com/radius"
	"layeh.com/radius/rfc2869"
)

// Errors for packets that cannot be parsed or sent.
var (
	// ErrMalformedPacket reports a header or attribute whose length does not
	// fit the packet (RFC 2865, Sections 3 and 5).
	ErrMalformedPacket = errors.New("radius: malformed packet")
	// ErrPacketTooLarge reports a packet over 4096 octets, the maximum of
	// RFC 2865, Section 3.
	ErrPacketTooLarge = errors.New("radius: packet larger than 4096 octets")
	// ErrEAPMessageNotConsecutive reports EAP-Message attributes with other
	// attributes between them (RFC 3579, Section 3.1).
	ErrEAPMessageNotConsecutive = errors.New("radius: EAP-Message attributes not consecutive")
)

// packetScan is the result of one pass over a packet's attributes, which
// copies none of them.
type packetScan struct {
	length   int // value of the Length field, at most len(packet)
	attrs    int // number of attributes
	maCount  int // number of Message-Authenticator attributes
	maOffset int // offset of the first Message-Authenticator value
	maLen    int // length of the first Message-Authenticator value

	eapCount       int  // number of EAP-Message attributes
	eapLen         int  // sum of their value lengths
	eapConsecutive bool // no other attribute between two EAP-Message ones
}

// scanPacket checks the header and the attribute lengths of a wire packet
// (RFC 2865, Sections 3 and 5). Octets after Length are padding and are
// ignored, as RFC 2865, Section 3 requires.
func scanPacket(b []byte) (packetScan, error) {
	s := packetScan{maOffset: -1, eapConsecutive: true}
	if len(b) < headerLen {
		return s, fmt.Errorf("%w: %d octets, shorter than the header", ErrMalformedPacket, len(b))
	}
	s.length = int(binary.BigEndian.Uint16(b[2:4]))
	switch {
	case s.length > radius.MaxPacketLength:
		return s, fmt.Errorf("%w: Length field %d", ErrPacketTooLarge, s.length)
	case s.length < headerLen || s.length > len(b):
		return s, fmt.Errorf("%w: Length field %d for %d octets",
			ErrMalformedPacket, s.length, len(b))
	}
	lastEAP := -1
	for off := headerLen; off < s.length; {
		if s.length-off < 2 {
			return s, fmt.Errorf("%w: truncated attribute at offset %d", ErrMalformedPacket, off)
		}
		typ, n := radius.Type(b[off]), int(b[off+1])
		if n < 2 || off+n > s.length {
			return s, fmt.Errorf("%w: attribute %d at offset %d has length %d",
				ErrMalformedPacket, typ, off, n)
		}
		switch typ {
		case rfc2869.MessageAuthenticator_Type:
			if s.maCount == 0 {
				s.maOffset, s.maLen = off+2, n-2
			}
			s.maCount++
		case rfc2869.EAPMessage_Type:
			if lastEAP >= 0 && lastEAP != s.attrs-1 {
				s.eapConsecutive = false
			}
			lastEAP = s.attrs
			s.eapCount++
			s.eapLen += n - 2
		}
		s.attrs++
		off += n
	}
	return s, nil
}
