package radius

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"layeh.com/radius"
)

// VendorDataType is the data type of a vendor attribute value, named as in
// FreeRADIUS dictionaries.
type VendorDataType int

// Vendor attribute data types.
const (
	VendorString  VendorDataType = iota + 1 // text, sent as it is
	VendorInteger                           // unsigned 32-bit, in decimal
	VendorOctets                            // binary, written as 0x and hex
	VendorIPAddr                            // IPv4 address
)

func (t VendorDataType) String() string {
	switch t {
	case VendorString:
		return "string"
	case VendorInteger:
		return "integer"
	case VendorOctets:
		return "octets"
	case VendorIPAddr:
		return "ipaddr"
	}
	return "VendorDataType(" + strconv.Itoa(int(t)) + ")"
}

// VendorAttribute describes one vendor attribute: its dictionary name,
// vendor ID (an IANA Private Enterprise Number), vendor type and data type.
type VendorAttribute struct {
	Name       string
	VendorID   uint32
	VendorType byte
	DataType   VendorDataType
}

// builtinVendorAttributes are the vendor attributes that campus switches
// and controllers use for 802.1X authorization. The numbers are those of
// the FreeRADIUS dictionaries of the same names; the Aruba and Mikrotik
// ones match the dictionaries shipped with layeh.com/radius.
//
// NOTE: policies name vendor attributes as strings at run time, and the
// codec's generated vendor packages offer typed Go functions without a
// lookup by name, so this package keeps its own small table. Extend it
// with NewVendorDictionary.
var builtinVendorAttributes = []VendorAttribute{
	{"Cisco-AVPair", 9, 1, VendorString},
	{"HP-Egress-VLANID", 11, 64, VendorInteger},
	{"HP-Egress-VLAN-Name", 11, 65, VendorString},
	{"Aruba-User-Role", 14823, 1, VendorString},
	{"Aruba-User-Vlan", 14823, 2, VendorInteger},
	{"Aruba-Named-User-Vlan", 14823, 9, VendorString},
	{"Mikrotik-Group", 14988, 3, VendorString},
	{"Mikrotik-Rate-Limit", 14988, 8, VendorString},
}

// ErrUnknownVendorAttribute reports a name that is not in the dictionary.
var ErrUnknownVendorAttribute = errors.New("radius: unknown vendor attribute")

// VendorDictionary finds vendor attributes by name, ignoring case as
// FreeRADIUS does.
type VendorDictionary struct {
	byName map[string]VendorAttribute
}

// NewVendorDictionary returns a dictionary of the built-in attributes and
// extra. An extra attribute replaces a built-in one of the same name.
func NewVendorDictionary(extra ...VendorAttribute) (*VendorDictionary, error) {
	d := &VendorDictionary{byName: make(map[string]VendorAttribute)}
	for _, a := range slices.Concat(builtinVendorAttributes, extra) {
		if a.Name == "" || a.DataType < VendorString || a.DataType > VendorIPAddr {
			return nil, fmt.Errorf("radius: vendor attribute %q: need a name and a data type",
				a.Name)
		}
		d.byName[strings.ToLower(a.Name)] = a
	}
	return d, nil
}

// Lookup returns the attribute called name.
func (d *VendorDictionary) Lookup(name string) (VendorAttribute, bool) {
	a, ok := d.byName[strings.ToLower(name)]
	return a, ok
}

// Add encodes value by the data type of the attribute called name and adds
// it to p as a Vendor-Specific attribute.
func (d *VendorDictionary) Add(p *radius.Packet, name, value string) error {
	a, ok := d.Lookup(name)
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownVendorAttribute, name)
	}
	v, err := a.encode(value)
	if err != nil {
		return fmt.Errorf("radius: vendor attribute %s: %w", a.Name, err)
	}
	return AddVendorSpecific(p, a.VendorID, a.VendorType, v)
}

func (a VendorAttribute) encode(value string) ([]byte, error) {
	switch a.DataType {
	case VendorString:
		return []byte(value), nil
	case VendorInteger:
		n, err := strconv.ParseUint(value, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%q is not an unsigned 32-bit integer", value)
		}
		return radius.NewInteger(uint32(n)), nil
	case VendorOctets:
		b, err := hex.DecodeString(strings.TrimPrefix(value, "0x"))
		if err != nil {
			return nil, fmt.Errorf("%q is not 0x followed by hex digits", value)
		}
		return b, nil
	case VendorIPAddr:
		ip, err := netip.ParseAddr(value)
		if err != nil || !ip.Is4() {
			return nil, fmt.Errorf("%q is not an IPv4 address", value)
		}
		b := ip.As4()
		return b[:], nil
	}
	return nil, fmt.Errorf("data type %v not supported", a.DataType)
}
