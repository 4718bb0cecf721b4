package voucher

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// MarshalVoucher encodes v as a JSON voucher with the container
// ContainerVoucher. It emits the leaves in the order of RFC 8366,
// Section 5.3, then the Unknown leaves sorted by name. Times are RFC 3339,
// binary leaves padded standard base64, booleans JSON booleans, and absent
// leaves are omitted. The voucher-request leaves must be empty.
func (v *Voucher) MarshalVoucher() ([]byte, error) {
	if v.PriorSignedVoucherRequest != nil || v.ProximityRegistrarCert != nil {
		return nil, fmt.Errorf("%w: prior-signed-voucher-request and "+
			"proximity-registrar-cert are only valid in a voucher request; "+
			"use MarshalRequest", ErrInvalidLeaf)
	}
	return v.marshal(ContainerVoucher, voucherLeaves)
}

// MarshalRequest encodes v as a JSON voucher request with the container
// ContainerRequest (RFC 8995, Section 3), in the same form as MarshalVoucher.
func (v *Voucher) MarshalRequest() ([]byte, error) {
	return v.marshal(ContainerRequest, requestLeaves)
}

func (v *Voucher) marshal(container string, known []string) ([]byte, error) {
	if err := v.checkValues(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.WriteString("{")
	writeString(&buf, container)
	buf.WriteString(":{")
	first := true
	member := func(name string, value []byte) {
		if !first {
			buf.WriteByte(',')
		}
		first = false
		writeString(&buf, name)
		buf.WriteByte(':')
		buf.Write(value)
	}

	for _, name := range known {
		if value := v.encodeLeaf(name); value != nil {
			member(name, value)
		}
	}

	names := make([]string, 0, len(v.Unknown))
	for name := range v.Unknown {
		if contains(known, name) {
			return nil, fmt.Errorf("%w: Unknown contains %q, which is a defined leaf; "+
				"set the struct field instead", ErrInvalidLeaf, name)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		var value bytes.Buffer
		if err := json.Compact(&value, v.Unknown[name]); err != nil {
			return nil, fmt.Errorf("%w: Unknown[%q] is not valid JSON: %w",
				ErrInvalidLeaf, name, err)
		}
		member(name, value.Bytes())
	}
	buf.WriteString("}}")
	return buf.Bytes(), nil
}

// encodeLeaf returns the JSON value of the named leaf, or nil when the leaf
// is absent.
func (v *Voucher) encodeLeaf(name string) []byte {
	var buf bytes.Buffer
	switch p := v.field(name).(type) {
	case *time.Time:
		if p.IsZero() {
			return nil
		}
		writeString(&buf, p.Format(time.RFC3339Nano))
	case *string:
		if *p == "" {
			return nil
		}
		writeString(&buf, *p)
	case *Assertion:
		if *p == "" {
			return nil
		}
		writeString(&buf, string(*p))
	case *[]byte:
		if *p == nil {
			return nil
		}
		writeString(&buf, base64.StdEncoding.EncodeToString(*p))
	case **bool:
		if *p == nil {
			return nil
		}
		fmt.Fprint(&buf, **p)
	}
	return buf.Bytes()
}

func writeString(buf *bytes.Buffer, s string) {
	b, _ := json.Marshal(s) // a Go string always marshals
	buf.Write(b)
}
