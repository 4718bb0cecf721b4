// Package macaddr parses 48-bit MAC addresses in the forms that switches,
// RADIUS servers and operators write them, and formats them in one canonical
// form each for internal use and for RADIUS.
//
// Internally an address is a net.HardwareAddr. On the wire to RADIUS it is
// the Calling-Station-Id form of RFC 3580, Section 3.21: upper-case hex
// octets separated by dashes, "00-10-A4-23-19-C0". The text an address was
// parsed from is kept for logs, so an operator can find the original value.
package macaddr

import (
	"errors"
	"fmt"
	"net"
	"strings"
)

// ErrInvalid reports text that is not a 48-bit MAC address in any accepted
// form.
var ErrInvalid = errors.New("macaddr: invalid MAC address")

// maxRawLen bounds the raw text kept for logs and the input Parse reads, so
// a hostile Calling-Station-Id cannot make log lines long.
const maxRawLen = 64

// Address is a 48-bit MAC address and the text it was parsed from.
type Address struct {
	// HardwareAddr is the address, always 6 octets after Parse.
	HardwareAddr net.HardwareAddr

	// Raw is the input text, cut to 64 octets. It may contain any octet, so
	// callers strip control characters before they log it.
	Raw string
}

// FromHardwareAddr returns the Address of hw, which must be 6 octets long.
// Raw is the canonical form.
func FromHardwareAddr(hw net.HardwareAddr) (Address, error) {
	if len(hw) != 6 {
		return Address{}, fmt.Errorf("%w: %d octets, expected 6", ErrInvalid, len(hw))
	}
	a := Address{HardwareAddr: append(net.HardwareAddr(nil), hw...)}
	a.Raw = a.String()
	return a, nil
}

// Parse reads a MAC address in one of these forms, with hex digits in either
// case:
//
//	00:10:a4:23:19:c0  00-10-A4-23-19-C0  (octets)
//	0010.a423.19c0     0010-a423-19c0     (groups of four)
//	0010a4-2319c0      0010a4:2319c0      (groups of six)
//	0010a42319c0                          (no separator)
//
// One kind of separator is used throughout, and all groups have the same
// length. Surrounding spaces are ignored.
func Parse(s string) (Address, error) {
	raw := s
	if len(raw) > maxRawLen {
		raw = raw[:maxRawLen]
		return Address{Raw: raw}, fmt.Errorf("%w: %d characters, %q...", ErrInvalid, len(s), raw)
	}
	digits, err := stripSeparators(strings.TrimSpace(s))
	if err != nil {
		return Address{Raw: raw}, fmt.Errorf("%w: %q: %w", ErrInvalid, s, err)
	}
	hw := make(net.HardwareAddr, 6)
	for i := range hw {
		hi, ok1 := hexValue(digits[2*i])
		lo, ok2 := hexValue(digits[2*i+1])
		if !ok1 || !ok2 {
			return Address{Raw: raw}, fmt.Errorf("%w: %q has a non-hex digit", ErrInvalid, s)
		}
		hw[i] = hi<<4 | lo
	}
	return Address{HardwareAddr: hw, Raw: raw}, nil
}

// stripSeparators returns the 12 digits of s after checking that its
// separators are uniform and its groups have length 2, 4 or 6.
func stripSeparators(s string) (string, error) {
	sep := strings.IndexAny(s, ":-.")
	if sep < 0 {
		if len(s) != 12 {
			return "", fmt.Errorf("%d digits, expected 12", len(s))
		}
		return s, nil
	}
	groups := strings.Split(s, s[sep:sep+1])
	size := len(groups[0])
	if size != 2 && size != 4 && size != 6 {
		return "", fmt.Errorf("group of %d digits, expected 2, 4 or 6", size)
	}
	if len(groups)*size != 12 {
		return "", fmt.Errorf("%d groups of %d digits, expected 12 digits", len(groups), size)
	}
	for _, g := range groups {
		if len(g) != size {
			return "", errors.New("groups of different lengths")
		}
	}
	return strings.Join(groups, ""), nil
}

func hexValue(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// String returns the internal canonical form, lower-case octets separated by
// colons as net.HardwareAddr prints them.
func (a Address) String() string { return a.HardwareAddr.String() }

// CallingStationID returns a in the form of RFC 3580, Section 3.21,
// "00-10-A4-23-19-C0".
func (a Address) CallingStationID() string { return CallingStationID(a.HardwareAddr) }

// Equal reports whether a and b are the same address, whatever their raw
// forms.
func (a Address) Equal(b Address) bool {
	return string(a.HardwareAddr) == string(b.HardwareAddr)
}

// CallingStationID formats hw in the form of RFC 3580, Section 3.21:
// upper-case hex octets separated by dashes.
func CallingStationID(hw net.HardwareAddr) string {
	const digits = "0123456789ABCDEF"
	b := make([]byte, 0, 3*len(hw))
	for i, octet := range hw {
		if i > 0 {
			b = append(b, '-')
		}
		b = append(b, digits[octet>>4], digits[octet&0x0F])
	}
	return string(b)
}
