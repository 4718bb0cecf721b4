package policies

import "time"

// Facts is the registrar's information about one bootstrapping attempt.
// The registrar fills it in, first without the MASA part for Plan and then
// completely for Evaluate. Policies read it and never change it.
type Facts struct {
	Device DeviceFacts
	NAS    NASFacts
	MASA   MASAFacts

	// Time is the evaluation time for the time-window criteria. The package
	// never reads the clock, so a zero Time fails every time criterion.
	Time time.Time
}

// DeviceFacts describes the pledge as its IDevID and the expected-devices
// list present it.
type DeviceFacts struct {
	// Manufacturer is the colloquial name that the registrar's trust
	// configuration gives the factory CA, such as "acme".
	Manufacturer string

	// ManufacturerKeyID is the subject key identifier of the factory CA
	// that issued the IDevID, in hex. Colons and case do not matter.
	ManufacturerKeyID string

	// Model and Serial come from the IDevID subject. Serial is the
	// serialNumber attribute (2.5.4.5), not the certificate serial.
	Model  string
	Serial string

	// IDevIDFingerprint is the SHA-256 of the IDevID certificate, in hex.
	IDevIDFingerprint string

	// IDevIDPresented is false when the pledge only claimed an identity
	// without an IEEE 802.1AR certificate.
	IDevIDPresented bool

	// Expected is true when the device is in the expected-devices list,
	// which means an orchestrator registered it in advance. Tags are the
	// tags of that entry.
	Expected bool
	Tags     []string
}

// NASFacts describes the network access server that relays the request.
// All fields are empty when the pledge uses HTTPS instead of 802.1X.
type NASFacts struct {
	// Client is the name of the RADIUS client declaration that matched the
	// NAS address.
	Client string

	// Identifier, PortID, CalledStationID and CallingStationID are the
	// NAS-Identifier, NAS-Port-Id, Called-Station-Id and Calling-Station-Id
	// attributes of the Access-Request (RFC 2865, Section 5; RFC 2869,
	// Section 5.17).
	Identifier       string
	PortID           string
	CalledStationID  string
	CallingStationID string
}

// MASAFacts describes what the MASA returned for this pledge.
type MASAFacts struct {
	// Mode is the voucher source that the registrar used, normally the
	// one Plan returned.
	Mode VoucherMode

	// VoucherObtained is true when a voucher for the pledge is at hand,
	// fresh from the MASA or from the nonceless cache.
	VoucherObtained bool

	// Assertion is the voucher's assertion leaf as RFC 8366 defines it:
	// "verified", "logged" or "proximity".
	Assertion string

	// Nonceless is true when the voucher carries no nonce.
	Nonceless bool

	// AuditLogFetched is true when the registrar read the MASA audit log
	// (RFC 8995, Section 5.8). AuditLog contains its entries.
	AuditLogFetched bool
	AuditLog        []AuditEntry

	// ArbitraryTruncation is the "arbitrary" counter of the audit log's
	// truncation member: entries that the MASA removed without keeping
	// one per domain, so they may hide other domains.
	ArbitraryTruncation int

	// DomainID is our own domain ID as the MASA records it (RFC 8995,
	// Section 5.8.2), so that entries of other domains can be distinguished.
	DomainID string
}

// AuditEntry is one entry of a MASA audit log (RFC 8995, Section 5.8.1).
type AuditEntry struct {
	Date      time.Time
	DomainID  string
	Nonceless bool
	Assertion string
}
