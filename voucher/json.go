package voucher

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Leaf names of RFC 8366, Section 5.3 and RFC 8995, Section 3.4, in the order
// that Marshal emits them.
const (
	leafCreatedOn          = "created-on"
	leafExpiresOn          = "expires-on"
	leafAssertion          = "assertion"
	leafSerialNumber       = "serial-number"
	leafIDevIDIssuer       = "idevid-issuer"
	leafPinnedDomainCert   = "pinned-domain-cert"
	leafRevocationChecks   = "domain-cert-revocation-checks"
	leafNonce              = "nonce"
	leafLastRenewalDate    = "last-renewal-date"
	leafPriorSignedReq     = "prior-signed-voucher-request"
	leafProximityRegistrar = "proximity-registrar-cert"
)

var voucherLeaves = []string{
	leafCreatedOn, leafExpiresOn, leafAssertion, leafSerialNumber, leafIDevIDIssuer,
	leafPinnedDomainCert, leafRevocationChecks, leafNonce, leafLastRenewalDate,
}

var requestLeaves = append(voucherLeaves[:len(voucherLeaves):len(voucherLeaves)],
	leafPriorSignedReq, leafProximityRegistrar)

// field returns a pointer to the struct field that stores the named leaf.
func (v *Voucher) field(name string) any {
	switch name {
	case leafCreatedOn:
		return &v.CreatedOn
	case leafExpiresOn:
		return &v.ExpiresOn
	case leafAssertion:
		return &v.Assertion
	case leafSerialNumber:
		return &v.SerialNumber
	case leafIDevIDIssuer:
		return &v.IDevIDIssuer
	case leafPinnedDomainCert:
		return &v.PinnedDomainCert
	case leafRevocationChecks:
		return &v.DomainCertRevocationChecks
	case leafNonce:
		return &v.Nonce
	case leafLastRenewalDate:
		return &v.LastRenewalDate
	case leafPriorSignedReq:
		return &v.PriorSignedVoucherRequest
	case leafProximityRegistrar:
		return &v.ProximityRegistrarCert
	}
	return nil
}

// ParseVoucher decodes a JSON voucher with the container ContainerVoucher
// (RFC 8366, Section 5.3). Leaves that RFC 8366 does not define, including
// the voucher-request leaves, go to Unknown. It checks the leaf values but
// not that the mandatory leaves are present; call Validate for that.
func ParseVoucher(data []byte) (*Voucher, error) {
	return parse(data, ContainerVoucher, voucherLeaves)
}

// ParseRequest decodes a JSON voucher request with the container
// ContainerRequest (RFC 8995, Section 3). Call ValidateRequest to check the
// mandatory leaves.
func ParseRequest(data []byte) (*Voucher, error) {
	return parse(data, ContainerRequest, requestLeaves)
}

func parse(data []byte, container string, known []string) (*Voucher, error) {
	top, order, err := decodeObject(data)
	if err != nil {
		return nil, fmt.Errorf("voucher: invalid JSON document: %w", err)
	}
	body, ok := top[container]
	if !ok || len(top) != 1 {
		return nil, fmt.Errorf("%w: expected the single member %q, found %s",
			ErrContainer, container, quoteList(order))
	}
	leaves, order, err := decodeObject(body)
	if err != nil {
		return nil, fmt.Errorf("%w: container %q: %w", ErrContainer, container, err)
	}
	v := &Voucher{}
	for _, name := range order {
		raw := leaves[name]
		if !contains(known, name) {
			if v.Unknown == nil {
				v.Unknown = map[string]json.RawMessage{}
			}
			v.Unknown[name] = compact(raw)
			continue
		}
		if err := v.decodeLeaf(name, raw); err != nil {
			return nil, err
		}
	}
	if err := v.checkValues(); err != nil {
		return nil, err
	}
	return v, nil
}

// decodeObject decodes one JSON object into its members, keeping their
// order. A duplicate member name is an error, because two parsers that keep
// different duplicates would disagree on what a signed voucher contains.
func decodeObject(data []byte) (map[string]json.RawMessage, []string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, err
	}
	if tok != json.Delim('{') {
		return nil, nil, fmt.Errorf("expected a JSON object, found %v", tok)
	}
	members := map[string]json.RawMessage{}
	var order []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		name, _ := tok.(string) // the decoder only returns strings as object keys
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, fmt.Errorf("member %q: %w", name, err)
		}
		if _, dup := members[name]; dup {
			return nil, nil, fmt.Errorf("member %q appears twice", name)
		}
		members[name] = raw
		order = append(order, name)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, fmt.Errorf("data after the JSON object")
	}
	return members, order, nil
}

func (v *Voucher) decodeLeaf(name string, raw json.RawMessage) error {
	var err error
	switch p := v.field(name).(type) {
	case *time.Time:
		*p, err = v.decodeTime(name, raw)
	case *string:
		err = decodeString(raw, p)
	case *Assertion:
		var s string
		err = decodeString(raw, &s)
		*p = Assertion(s)
		if err == nil && !p.Valid() {
			err = fmt.Errorf("%q is not verified, logged or proximity", s)
		}
	case *[]byte:
		*p, err = v.decodeBinary(name, raw)
	case **bool:
		*p, err = v.decodeBool(name, raw)
	}
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalidLeaf, name, err)
	}
	return nil
}

// decodeString decodes a JSON string and rejects every other type, null
// included.
func decodeString(raw json.RawMessage, s *string) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '"' {
		return fmt.Errorf("expected a JSON string, found %.20s", raw)
	}
	return json.Unmarshal(raw, s)
}

// decodeTime parses a YANG date-and-time (RFC 6991, Section 3), which is
// RFC 3339 with optional fractional seconds and a Z or numeric offset.
func (v *Voucher) decodeTime(name string, raw json.RawMessage) (time.Time, error) {
	var s string
	if err := decodeString(raw, &s); err != nil {
		return time.Time{}, err
	}
	if len(s) > 10 && (s[10] == 't' || strings.HasSuffix(s, "z")) {
		v.warnf("%s: lower-case 't' or 'z' in %q", name, s)
		s = strings.ToUpper(s)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 date-and-time", s)
	}
	// A fixed zone keeps the offset as sent, whatever the local zone is.
	_, offset := t.Zone()
	return t.In(time.FixedZone("", offset)), nil
}

// decodeBinary decodes a YANG binary leaf. RFC 7951, Section 6.6 requires
// padded base64 (RFC 4648, Section 4), but peers also send the base64url
// alphabet and drop the padding, so both are accepted with a warning.
func (v *Voucher) decodeBinary(name string, raw json.RawMessage) ([]byte, error) {
	var s string
	if err := decodeString(raw, &s); err != nil {
		return nil, err
	}
	b, std, err := decodeBase64(s)
	if err != nil {
		return nil, err
	}
	if !std {
		v.warnf("%s: not padded standard base64 (RFC 4648, Section 4)", name)
	}
	return b, nil
}

// decodeBool decodes a YANG boolean. The strings "true" and "false" are
// accepted with a warning and every other type is an error.
func (v *Voucher) decodeBool(name string, raw json.RawMessage) (*bool, error) {
	var b bool
	switch string(bytes.TrimSpace(raw)) {
	case "true", `"true"`:
		b = true
	case "false", `"false"`:
	default:
		return nil, fmt.Errorf("expected true or false, found %.20s", raw)
	}
	if bytes.TrimSpace(raw)[0] == '"' {
		v.warnf("%s: boolean sent as the string %s", name, bytes.TrimSpace(raw))
	}
	return &b, nil
}

func (v *Voucher) warnf(format string, args ...any) {
	v.Warnings = append(v.Warnings, fmt.Sprintf(format, args...))
}

// decodeBase64 decodes s in the standard or the URL alphabet, with or
// without padding. std reports whether s was padded standard base64.
func decodeBase64(s string) (b []byte, std bool, err error) {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, true, nil
	}
	trimmed := strings.TrimRight(s, "=")
	enc := base64.RawStdEncoding
	if strings.ContainsAny(trimmed, "-_") {
		enc = base64.RawURLEncoding
	}
	b, err = enc.DecodeString(trimmed)
	if err != nil {
		return nil, false, fmt.Errorf("invalid base64 (standard or URL alphabet): %w", err)
	}
	return b, false, nil
}

func compact(raw json.RawMessage) json.RawMessage {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return raw // raw came from the decoder, so it is valid JSON
	}
	return buf.Bytes()
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func quoteList(names []string) string {
	if len(names) == 0 {
		return "no member"
	}
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	return fmt.Sprintf("%q", sorted)
}
