package devid

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// MASAURL returns the base URL of the device's MASA from the MASA URL
// extension of an IDevID (RFC 8995, Section 2.3.2), normalized by
// ParseMASAURL. It returns ErrNoMASAURL when the extension is absent.
func MASAURL(cert *x509.Certificate) (string, error) {
	if cert == nil {
		return "", errors.New("devid: nil certificate")
	}
	for _, ext := range cert.Extensions {
		if ext.Id.Equal(OIDMASAURL) {
			return ParseMASAURL(ext.Value)
		}
	}
	return "", ErrNoMASAURL
}

// ParseMASAURL decodes the value of a MASA URL extension, which is an ASN.1
// IA5String (RFC 8995, Section 2.3.2), and normalizes it with NormalizeMASAURL.
func ParseMASAURL(value []byte) (string, error) {
	var raw asn1.RawValue
	rest, err := asn1.Unmarshal(value, &raw)
	if err != nil {
		return "", fmt.Errorf("devid: invalid MASA URL extension: %w", err)
	}
	if len(rest) != 0 {
		return "", fmt.Errorf("devid: invalid MASA URL extension: %d trailing bytes", len(rest))
	}
	if raw.Class != asn1.ClassUniversal || raw.Tag != asn1.TagIA5String || raw.IsCompound {
		return "", fmt.Errorf("devid: invalid MASA URL extension: ASN.1 tag %d class %d, "+
			"want an IA5String", raw.Tag, raw.Class)
	}
	for _, b := range raw.Bytes {
		if b >= 0x80 {
			return "", errors.New("devid: invalid MASA URL extension: IA5String has a " +
				"non-ASCII byte")
		}
	}
	return NormalizeMASAURL(string(raw.Bytes))
}

// NormalizeMASAURL checks a MASA URL and returns it with "https://" added
// when the scheme is missing, as in the RFC 8995, Appendix C example
// "highway-test.example.com:9443", and without a trailing slash. The scheme
// must be https (RFC 8995, Section 2.3.2), the URL needs a host and has no
// user information, query or fragment.
func NormalizeMASAURL(s string) (string, error) {
	if s == "" {
		return "", errors.New("devid: empty MASA URL")
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("devid: invalid MASA URL %q: %w", s, err)
	}
	switch {
	case !strings.EqualFold(u.Scheme, "https"):
		return "", fmt.Errorf("devid: MASA URL %q has scheme %q, want https", s, u.Scheme)
	case u.Host == "" || u.Hostname() == "":
		return "", fmt.Errorf("devid: MASA URL %q has no host", s)
	case u.User != nil:
		return "", fmt.Errorf("devid: MASA URL %q contains user information", s)
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return "", fmt.Errorf("devid: MASA URL %q has a query or fragment", s)
	}
	u.Scheme = "https"
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u.String(), nil
}

// MarshalMASAURL encodes a MASA URL as the value of the MASA URL extension,
// an IA5String (RFC 8995, Section 2.3.2).
func MarshalMASAURL(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return nil, fmt.Errorf("devid: MASA URL %q is not ASCII; encode the host "+
				"name as an A-label", s)
		}
	}
	return asn1.MarshalWithParams(s, "ia5")
}

// HardwareModuleName is the otherName form of subjectAltName that names a
// hardware module by type and serial number (RFC 4108, Section 5).
type HardwareModuleName struct {
	Type      asn1.ObjectIdentifier
	SerialNum []byte
}

// ParseHardwareModuleName returns the first hardwareModuleName in the value
// of a subjectAltName extension, or nil when it has none.
func ParseHardwareModuleName(value []byte) (*HardwareModuleName, error) {
	var names []asn1.RawValue
	rest, err := asn1.Unmarshal(value, &names)
	if err != nil {
		return nil, fmt.Errorf("devid: invalid subjectAltName: %w", err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("devid: invalid subjectAltName: %d trailing bytes", len(rest))
	}
	for _, gn := range names {
		// otherName is [0] IMPLICIT SEQUENCE { type-id, [0] EXPLICIT value }.
		if gn.Class != asn1.ClassContextSpecific || gn.Tag != 0 || !gn.IsCompound {
			continue
		}
		var typeID asn1.ObjectIdentifier
		inner, err := asn1.Unmarshal(gn.Bytes, &typeID)
		if err != nil {
			return nil, fmt.Errorf("devid: invalid otherName in subjectAltName: %w", err)
		}
		if !typeID.Equal(OIDHardwareModuleName) {
			continue
		}
		return parseHardwareModuleValue(inner)
	}
	return nil, nil
}

func parseHardwareModuleValue(b []byte) (*HardwareModuleName, error) {
	var explicit asn1.RawValue
	rest, err := asn1.Unmarshal(b, &explicit)
	if err != nil || len(rest) != 0 || explicit.Class != asn1.ClassContextSpecific ||
		explicit.Tag != 0 || !explicit.IsCompound {
		return nil, errors.New("devid: invalid hardwareModuleName: want a [0] EXPLICIT value")
	}
	var hw struct {
		Type      asn1.ObjectIdentifier
		SerialNum []byte
	}
	rest, err = asn1.Unmarshal(explicit.Bytes, &hw)
	if err != nil {
		return nil, fmt.Errorf("devid: invalid hardwareModuleName: %w", err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("devid: invalid hardwareModuleName: %d trailing bytes", len(rest))
	}
	if len(hw.SerialNum) == 0 {
		return nil, errors.New("devid: hardwareModuleName has an empty hwSerialNum")
	}
	return &HardwareModuleName{Type: hw.Type, SerialNum: hw.SerialNum}, nil
}

// MarshalHardwareModuleName encodes a subjectAltName extension value that
// holds one hardwareModuleName otherName (RFC 4108, Section 5).
func MarshalHardwareModuleName(hw HardwareModuleName) ([]byte, error) {
	inner, err := asn1.Marshal(struct {
		Type      asn1.ObjectIdentifier
		SerialNum []byte
	}{hw.Type, hw.SerialNum})
	if err != nil {
		return nil, fmt.Errorf("devid: marshal hardwareModuleName: %w", err)
	}
	typeID, err := asn1.Marshal(OIDHardwareModuleName)
	if err != nil {
		return nil, fmt.Errorf("devid: marshal hardwareModuleName: %w", err)
	}
	value, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0,
		IsCompound: true, Bytes: inner})
	if err != nil {
		return nil, fmt.Errorf("devid: marshal hardwareModuleName: %w", err)
	}
	otherName := asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true,
		Bytes: append(typeID, value...)}
	return asn1.Marshal([]asn1.RawValue{otherName})
}
