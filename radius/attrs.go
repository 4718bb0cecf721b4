package radius

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2868"
)

// Values of the RFC 3580 VLAN attributes.
const (
	// TunnelTypeVLAN is the Tunnel-Type for VLAN assignment (RFC 3580,
	// Section 3.31).
	TunnelTypeVLAN = 13
	// TunnelMediumIEEE802 is the Tunnel-Medium-Type IEEE-802 (RFC 3580,
	// Section 3.31).
	TunnelMediumIEEE802 = 6
)

// TerminationAction is the value of Termination-Action (RFC 2865, Section
// 5.29).
type TerminationAction uint32

// Termination-Action values.
const (
	// TerminationDefault ends the session when Session-Timeout expires.
	TerminationDefault TerminationAction = 0
	// TerminationRADIUSRequest reauthenticates when Session-Timeout
	// expires (RFC 3580).
	TerminationRADIUSRequest TerminationAction = 1
)

// ErrInvalidVLAN reports a VLAN that is neither a number from 1 to 4094 nor a
// printable name.
var ErrInvalidVLAN = errors.New("radius: invalid VLAN")

// AddVLAN adds the RFC 3580, Section 3.31 VLAN assignment to a reply:
// Tunnel-Type VLAN, Tunnel-Medium-Type IEEE-802 and Tunnel-Private-Group-ID
// vlan, all with tag (0 to 31; 0 sends the attributes untagged). vlan is a
// VLAN ID from 1 to 4094 in decimal or a VLAN name of printable ASCII.
func AddVLAN(p *radius.Packet, vlan string, tag byte) error {
	if tag > 31 {
		return fmt.Errorf("radius: tunnel tag %d out of range 0-31", tag)
	}
	group, err := canonicalVLAN(vlan)
	if err != nil {
		return err
	}
	p.Add(rfc2868.TunnelType_Type, taggedInteger(tag, TunnelTypeVLAN))
	p.Add(rfc2868.TunnelMediumType_Type, taggedInteger(tag, TunnelMediumIEEE802))
	value := radius.Attribute(group)
	if tag != 0 {
		value = append(radius.Attribute{tag}, group...)
	}
	p.Add(rfc2868.TunnelPrivateGroupID_Type, value)
	return nil
}

// canonicalVLAN returns a VLAN ID without leading zeros, or the name as it
// is.
func canonicalVLAN(vlan string) (string, error) {
	if vlan == "" {
		return "", fmt.Errorf("%w: empty, use an ID from 1 to 4094 or a name", ErrInvalidVLAN)
	}
	if isDigits(vlan) {
		id, err := strconv.Atoi(vlan)
		if err != nil || id < 1 || id > 4094 {
			return "", fmt.Errorf("%w: ID %q out of range 1-4094", ErrInvalidVLAN, vlan)
		}
		return strconv.Itoa(id), nil
	}
	// One octet stays free for a tag.
	if len(vlan) > maxAttributeValue-1 {
		return "", fmt.Errorf("%w: name of %d octets, longer than 252", ErrInvalidVLAN, len(vlan))
	}
	for i := 0; i < len(vlan); i++ {
		if vlan[i] < 0x20 || vlan[i] > 0x7e {
			return "", fmt.Errorf("%w: name %q has a non-printable octet", ErrInvalidVLAN, vlan)
		}
	}
	return vlan, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// taggedInteger encodes a tagged integer attribute: the tag in the first
// octet and the value in the other three (RFC 2868, Section 3.1).
func taggedInteger(tag byte, v uint32) radius.Attribute {
	a := radius.NewInteger(v)
	a[0] = tag
	return a
}

// VLAN is a VLAN assignment read from a reply.
type VLAN struct {
	Group string // Tunnel-Private-Group-ID: an ID in decimal or a name
	Tag   byte   // the tag shared by the three attributes, 0 if untagged
}

// ParseVLAN returns the VLAN assignment of a reply: the first tag whose
// Tunnel-Type is VLAN, Tunnel-Medium-Type is IEEE-802 and that has a
// Tunnel-Private-Group-ID (RFC 3580, Section 3.31). ok is false when there
// is none.
func ParseVLAN(p *radius.Packet) (v VLAN, ok bool) {
	types := taggedIntegers(p, rfc2868.TunnelType_Type)
	media := taggedIntegers(p, rfc2868.TunnelMediumType_Type)
	for _, avp := range p.Attributes {
		if avp.Type != rfc2868.TunnelPrivateGroupID_Type || len(avp.Attribute) == 0 {
			continue
		}
		tag, group := byte(0), avp.Attribute
		if group[0] <= 0x1f {
			tag, group = group[0], group[1:]
		}
		if types[tag] == TunnelTypeVLAN && media[tag] == TunnelMediumIEEE802 && len(group) > 0 {
			return VLAN{Group: string(group), Tag: tag}, true
		}
	}
	return VLAN{}, false
}

// taggedIntegers returns the first value of typ for each tag.
func taggedIntegers(p *radius.Packet, typ radius.Type) map[byte]uint32 {
	m := make(map[byte]uint32)
	for _, avp := range p.Attributes {
		if avp.Type != typ || len(avp.Attribute) != 4 {
			continue
		}
		tag := avp.Attribute[0]
		if tag > 0x1f {
			tag = 0
		}
		if _, seen := m[tag]; !seen {
			m[tag] = uint32(avp.Attribute[1])<<16 | uint32(avp.Attribute[2])<<8 |
				uint32(avp.Attribute[3])
		}
	}
	return m
}

// SetSessionTimeout sets Session-Timeout to d in whole seconds, rounded up,
// and Termination-Action to action (RFC 2865, Sections 5.27 and 5.29).
func SetSessionTimeout(p *radius.Packet, d time.Duration, action TerminationAction) error {
	secs := (d + time.Second - 1) / time.Second
	if secs < 1 || secs > math.MaxUint32 {
		return fmt.Errorf("radius: Session-Timeout %v out of range 1s-%ds",
			d, uint32(math.MaxUint32))
	}
	if action > TerminationRADIUSRequest {
		return fmt.Errorf("radius: Termination-Action %d unknown, use 0 or 1", action)
	}
	p.Set(rfc2865.SessionTimeout_Type, radius.NewInteger(uint32(secs)))
	p.Set(rfc2865.TerminationAction_Type, radius.NewInteger(uint32(action)))
	return nil
}

// AddFilterID adds a Filter-Id (RFC 2865, Section 5.11), the name of a
// filter list configured on the NAS.
func AddFilterID(p *radius.Packet, id string) error {
	if id == "" || len(id) > maxAttributeValue {
		return fmt.Errorf("radius: Filter-Id of %d octets, need 1 to 253", len(id))
	}
	p.Add(rfc2865.FilterID_Type, radius.Attribute(id))
	return nil
}
