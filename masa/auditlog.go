package masa

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// AuditLogVersion is the audit log format version of RFC 8995,
// Section 5.8.1.
const AuditLogVersion = "1"

// AuditLog is the MASA audit log response of RFC 8995, Section 5.8.1: the
// vouchers that the MASA issued for one device.
type AuditLog struct {
	// Version is the format version. A version greater than 1 means
	// that the log carries additional information.
	Version string
	// Events lists the issued vouchers, oldest first.
	Events []AuditEvent
	// Truncation counts the events that the MASA left out of Events.
	Truncation Truncation
}

// AuditEvent is one issued voucher in an audit log.
type AuditEvent struct {
	// Date is when the voucher was issued.
	Date time.Time
	// DomainID identifies the pinned domain certificate (RFC 8995,
	// Section 5.8.2, computed by devid.DomainID).
	DomainID []byte
	// Nonce is the nonce of the voucher as its JSON string, or nil for a
	// nonceless voucher.
	Nonce *string
	// Assertion is the voucher's assertion: "verified", "logged" or
	// "proximity".
	Assertion string
	// Truncated is the number of events for this domainID that were left
	// out of the log in favour of this one.
	Truncated uint64
}

// Truncation holds the counters of events that the MASA removed from a log
// (RFC 8995, Section 5.8.1). Absent counters are zero.
type Truncation struct {
	NoncedDuplicates    uint64
	NoncelessDuplicates uint64
	Arbitrary           uint64
}

// The JSON member names of RFC 8995, Section 5.8.1, Figure 17.
type auditLogJSON struct {
	Version    json.RawMessage  `json:"version"`
	Events     []auditEventJSON `json:"events"`
	Truncation *truncationJSON  `json:"truncation,omitempty"`
}

type auditEventJSON struct {
	Date      string          `json:"date"`
	DomainID  string          `json:"domainID"`
	Nonce     *string         `json:"nonce"`
	Assertion string          `json:"assertion"`
	Truncated json.RawMessage `json:"truncated,omitempty"`
}

type truncationJSON struct {
	NoncedDuplicates    json.RawMessage `json:"nonced duplicates,omitempty"`
	NoncelessDuplicates json.RawMessage `json:"nonceless duplicates,omitempty"`
	Arbitrary           json.RawMessage `json:"arbitrary,omitempty"`
}

// ErrInvalidAuditLog is wrapped by every error of ParseAuditLog.
var ErrInvalidAuditLog = errors.New("masa: invalid audit log")

// MarshalJSON encodes the log as in RFC 8995, Section 5.8.1. The version is
// the JSON string "1" as in Figure 18 of that section, and the counters are
// JSON numbers as its CDDL (Figure 17) defines them. A nil nonce is null.
func (l *AuditLog) MarshalJSON() ([]byte, error) {
	version := l.Version
	if version == "" {
		version = AuditLogVersion
	}
	v, err := json.Marshal(version)
	if err != nil {
		return nil, err
	}
	out := auditLogJSON{Version: v, Events: make([]auditEventJSON, 0, len(l.Events)),
		Truncation: &truncationJSON{
			NoncedDuplicates:    uintJSON(l.Truncation.NoncedDuplicates),
			NoncelessDuplicates: uintJSON(l.Truncation.NoncelessDuplicates),
			Arbitrary:           uintJSON(l.Truncation.Arbitrary),
		}}
	for _, e := range l.Events {
		ej := auditEventJSON{Date: e.Date.Format(time.RFC3339Nano),
			DomainID: base64.StdEncoding.EncodeToString(e.DomainID), Nonce: e.Nonce,
			Assertion: e.Assertion}
		if e.Truncated > 0 {
			ej.Truncated = uintJSON(e.Truncated)
		}
		out.Events = append(out.Events, ej)
	}
	return json.Marshal(out)
}

func uintJSON(n uint64) json.RawMessage {
	return json.RawMessage(strconv.FormatUint(n, 10))
}

// ParseAuditLog decodes an audit log response (RFC 8995, Section 5.8.1). It
// accepts the version and the counters as JSON numbers or as decimal
// strings, because the CDDL and the example of that section differ. It
// accepts domainID in the standard or URL-safe base64 alphabet, treats an
// absent nonce as null and ignores unknown members. Errors wrap
// ErrInvalidAuditLog.
func ParseAuditLog(data []byte) (*AuditLog, error) {
	var in auditLogJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&in); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidAuditLog, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrInvalidAuditLog)
	}
	version, err := parseCounter("version", in.Version)
	if err != nil {
		return nil, err
	}
	if in.Version == nil || version == 0 {
		return nil, fmt.Errorf("%w: missing or zero version", ErrInvalidAuditLog)
	}
	l := &AuditLog{Version: strconv.FormatUint(version, 10),
		Events: make([]AuditEvent, 0, len(in.Events))}
	for i, ej := range in.Events {
		e, err := parseEvent(ej)
		if err != nil {
			return nil, fmt.Errorf("%w (event %d)", err, i)
		}
		l.Events = append(l.Events, e)
	}
	if t := in.Truncation; t != nil {
		counters := []struct {
			name string
			raw  json.RawMessage
			dst  *uint64
		}{
			{"nonced duplicates", t.NoncedDuplicates, &l.Truncation.NoncedDuplicates},
			{"nonceless duplicates", t.NoncelessDuplicates, &l.Truncation.NoncelessDuplicates},
			{"arbitrary", t.Arbitrary, &l.Truncation.Arbitrary},
		}
		for _, c := range counters {
			if *c.dst, err = parseCounter(c.name, c.raw); err != nil {
				return nil, err
			}
		}
	}
	return l, nil
}

func parseEvent(ej auditEventJSON) (AuditEvent, error) {
	date, err := time.Parse(time.RFC3339Nano, ej.Date)
	if err != nil {
		return AuditEvent{}, fmt.Errorf("%w: date %q is not RFC 3339", ErrInvalidAuditLog, ej.Date)
	}
	id, err := decodeBase64(ej.DomainID)
	if err != nil || len(id) == 0 {
		return AuditEvent{}, fmt.Errorf("%w: domainID %q is not base64", ErrInvalidAuditLog,
			ej.DomainID)
	}
	if ej.Assertion == "" {
		return AuditEvent{}, fmt.Errorf("%w: missing assertion", ErrInvalidAuditLog)
	}
	truncated, err := parseCounter("truncated", ej.Truncated)
	if err != nil {
		return AuditEvent{}, err
	}
	return AuditEvent{Date: date, DomainID: id, Nonce: ej.Nonce, Assertion: ej.Assertion,
		Truncated: truncated}, nil
}

// parseCounter decodes a uint that may be a JSON number or a decimal string.
// An absent or null value is zero.
func parseCounter(name string, raw json.RawMessage) (uint64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	s := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, fmt.Errorf("%w: %s: %w", ErrInvalidAuditLog, name, err)
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %s %s is not an unsigned integer", ErrInvalidAuditLog,
			name, raw)
	}
	return n, nil
}

// decodeBase64 accepts the standard and URL-safe alphabets, padded or not.
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}
