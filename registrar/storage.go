package registrar

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned by Store lookups that find no row.
var ErrNotFound = errors.New("registrar: not found")

// Store is the persistence that the registrar needs. RecordDecision and
// RecordCertificate return only after the row is durable, because the
// registrar replies to the pledge after they return (a decision must
// survive a crash that follows the reply). RecordStatus must at least
// survive a crash of the process; telemetry may be lost in a power loss.
type Store interface {
	// ExpectedDevice returns the expected-devices entry of a serial
	// number, or ErrNotFound.
	ExpectedDevice(ctx context.Context, serial string) (ExpectedDevice, error)
	// CachedVoucher returns a nonceless voucher fetched in advance for a
	// serial number, or ErrNotFound.
	CachedVoucher(ctx context.Context, serial string) ([]byte, error)
	// RecordDecision stores a voucher decision and returns its id.
	RecordDecision(ctx context.Context, d DecisionRecord) (int64, error)
	// RecordCertificate stores an issued LDevID and, when DecisionID is
	// set, links it to the decision.
	RecordCertificate(ctx context.Context, c IssuedCertificate) error
	// IssuedCertificate returns an issued certificate by its serial
	// number in lower-case hex, or ErrNotFound.
	IssuedCertificate(ctx context.Context, serial string) (IssuedCertificate, error)
	// RecordStatus stores a voucher_status or enrollstatus report.
	RecordStatus(ctx context.Context, s StatusReport) error
}

// ExpectedDevice is a device that an orchestrator registered in advance.
type ExpectedDevice struct {
	Serial string
	Tags   []string
}

// DecisionRecord is the registrar's decision on one voucher request.
type DecisionRecord struct {
	Time              time.Time
	Manufacturer      string
	DeviceSerial      string
	IDevIDFingerprint string
	// Mode is the voucher source: "masa", "nonceless-cached" or "skip".
	Mode string
	// Voucher is the CMS voucher returned to the pledge, if any.
	Voucher []byte
	// AuditSummary is a one-line summary of the MASA audit log.
	AuditSummary string
	Rule         string
	// Outcome is "accept", "quarantine" or "reject".
	Outcome string
	Reason  string
	// Modes lists the reduced-security modes that the decision relies on.
	Modes []string
}

// IssuedCertificate is an LDevID that the domain CA issued.
type IssuedCertificate struct {
	// Serial is the certificate serial number in lower-case hex.
	Serial string
	// Subject is the subject distinguished name as a string.
	Subject           string
	DeviceSerial      string
	IDevIDFingerprint string
	// Fingerprint is the SHA-256 of the certificate in hex.
	Fingerprint string
	NotAfter    time.Time
	Revoked     bool
	DecisionID  int64
	Certificate []byte
}

// StatusReport is a pledge's voucher or enrollment status telemetry
// (RFC 8995, Sections 5.7 and 5.9.4).
type StatusReport struct {
	Time time.Time
	// Kind is "voucher" or "enroll".
	Kind         string
	DeviceSerial string
	// Fingerprint is the SHA-256 of the TLS client certificate, "" when
	// the client presented none.
	Fingerprint string
	// Authenticated is true when the client certificate was a verified
	// IDevID or LDevID. RFC 8995, Section 5.9.4 requires the server to
	// record whether the report came with a matching client certificate.
	Authenticated bool
	Version       int
	Status        bool
	Reason        string
	// Raw is the JSON body as received.
	Raw []byte
}
