package radius

import (
	"errors"
	"fmt"

	"layeh.com/radius"
	"layeh.com/radius/rfc2869"
)

// maxAttributeValue is the largest value an attribute can carry: 255 octets
// less the Type and Length octets (RFC 2865, Section 5).
const maxAttributeValue = 253

// EAPMessage returns the EAP packet carried in p, the concatenation of its
// EAP-Message attributes in order (RFC 3579, Section 3.1). It returns nil
// and no error when p has no EAP-Message, and an error wrapping
// ErrEAPMessageNotConsecutive when another attribute sits between two
// EAP-Message attributes. It does not parse the EAP packet.
func EAPMessage(p *radius.Packet) ([]byte, error) {
	var eap []byte
	first, last := -1, -1
	for i, avp := range p.Attributes {
		if avp.Type != rfc2869.EAPMessage_Type {
			continue
		}
		if first < 0 {
			first = i
		} else if last != i-1 {
			return nil, fmt.Errorf("%w: attribute %d is %v",
				ErrEAPMessageNotConsecutive, i-1, p.Attributes[i-1].Type)
		}
		last = i
		eap = append(eap, avp.Attribute...)
	}
	if first >= 0 && eap == nil {
		// EAP-Message attributes that are all empty still signal EAP.
		eap = []byte{}
	}
	return eap, nil
}

// SetEAPMessage replaces the EAP-Message attributes of p with eap, split
// into consecutive attributes of at most 253 octets (RFC 3579, Section 3.1).
// The new attributes are appended after the others.
func SetEAPMessage(p *radius.Packet, eap []byte) error {
	if len(eap) == 0 {
		return errors.New("radius: EAP-Message is empty, need an EAP packet of 4 or more octets")
	}
	p.Attributes.Del(rfc2869.EAPMessage_Type)
	for len(eap) > 0 {
		n := min(len(eap), maxAttributeValue)
		p.Attributes.Add(rfc2869.EAPMessage_Type, append(radius.Attribute(nil), eap[:n]...))
		eap = eap[n:]
	}
	return nil
}
