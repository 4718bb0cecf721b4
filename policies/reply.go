package policies

import (
	"strconv"
	"time"
)

// Outcome is the action that a rule takes on a device that it matches.
type Outcome int

// The outcomes, in the spelling that policy files use.
const (
	// OutcomeReject refuses the device: Access-Reject over RADIUS.
	OutcomeReject Outcome = iota
	// OutcomeAccept admits the device to its VLAN.
	OutcomeAccept
	// OutcomeQuarantine admits the device to a restricted VLAN.
	OutcomeQuarantine
)

var outcomeNames = map[Outcome]string{
	OutcomeReject:     "reject",
	OutcomeAccept:     "accept",
	OutcomeQuarantine: "quarantine",
}

// String returns the policy-file spelling of o.
func (o Outcome) String() string {
	if s, ok := outcomeNames[o]; ok {
		return s
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// VoucherMode selects where the registrar gets the voucher for a pledge.
type VoucherMode int

// The voucher modes, in the spelling that policy files use. The zero value
// is VoucherMASA, the default and the only mode without reduced security.
const (
	// VoucherMASA requests a fresh voucher from the MASA, with the pledge's
	// nonce.
	VoucherMASA VoucherMode = iota
	// VoucherNoncelessCached uses a nonceless voucher that an orchestrator
	// fetched in advance, for sites behind an air gap.
	VoucherNoncelessCached
	// VoucherSkip does not contact the MASA at all.
	VoucherSkip
)

var voucherModeNames = map[VoucherMode]string{
	VoucherMASA:            "masa",
	VoucherNoncelessCached: "nonceless-cached",
	VoucherSkip:            "skip",
}

// String returns the policy-file spelling of m.
func (m VoucherMode) String() string {
	if s, ok := voucherModeNames[m]; ok {
		return s
	}
	return "VoucherMode(" + strconv.Itoa(int(m)) + ")"
}

// TerminationAction is the RADIUS Termination-Action value (RFC 2865,
// Section 5.29).
type TerminationAction int

// The Termination-Action values. RFC 3580, Section 3.17 uses
// RADIUS-Request to make the authenticator re-authenticate at the end of
// Session-Timeout.
const (
	TerminationDefault       TerminationAction = 0
	TerminationRADIUSRequest TerminationAction = 1
)

// String returns the policy-file spelling of a.
func (a TerminationAction) String() string {
	switch a {
	case TerminationDefault:
		return "default"
	case TerminationRADIUSRequest:
		return "radius-request"
	}
	return "TerminationAction(" + strconv.Itoa(int(a)) + ")"
}

// VLAN is the VLAN that a rule assigns, by number or by name. The RADIUS
// layer sends either form as Tunnel-Private-Group-ID (RFC 3580,
// Section 3.31). The zero value means no VLAN.
type VLAN struct {
	ID   int    // 1-4094, or 0 when Name is used
	Name string // letters, digits, '.', '_' and '-'
}

// IsZero reports whether v assigns no VLAN.
func (v VLAN) IsZero() bool { return v.ID == 0 && v.Name == "" }

// String returns the VLAN as Tunnel-Private-Group-ID carries it.
func (v VLAN) String() string {
	if v.Name != "" {
		return v.Name
	}
	if v.ID == 0 {
		return ""
	}
	return strconv.Itoa(v.ID)
}

// Attribute is an extra RADIUS reply attribute named as in a RADIUS
// dictionary, such as "Cisco-AVPair". The policy checks only the syntax of
// the name. The RADIUS layer resolves it and encodes Value.
type Attribute struct {
	Name  string
	Value string
}

// Reply is the set of reply attributes of an outcome.
type Reply struct {
	VLAN VLAN

	// SessionTimeout becomes Session-Timeout (RFC 2865, Section 5.27) in
	// whole seconds. Zero means the attribute is not sent.
	SessionTimeout time.Duration

	// TerminationAction is sent only together with SessionTimeout.
	TerminationAction TerminationAction

	// FilterID becomes Filter-Id (RFC 2865, Section 5.11) when not empty.
	FilterID string

	// Attributes are sent in order after the ones above.
	Attributes []Attribute
}

// Mode is a reduced-security mode that the draft that became RFC 8995
// lists and that a rule chose explicitly. The registrar logs every mode of
// a Decision.
type Mode string

// The reduced-security modes.
const (
	// ModeAcceptAll is an accepting rule without any device criterion,
	// such as a default block with outcome "accept".
	ModeAcceptAll Mode = "accept-all"

	// ModeAnyDevice is an accepting rule that names a class of devices by
	// manufacturer or model but no single device: it has no serial,
	// idevid_fingerprint, expected = true or tags criterion.
	ModeAnyDevice Mode = "any-device"

	// ModeNoIDevID is a rule with allow_no_idevid = true applied to a
	// device that presented no IDevID, so its identity is only claimed.
	ModeNoIDevID Mode = "no-idevid"

	// ModeNoncelessCached is a rule with voucher = "nonceless-cached".
	ModeNoncelessCached Mode = "nonceless-cached"

	// ModeSkipMASA is a rule with voucher = "skip".
	ModeSkipMASA Mode = "skip-masa"
)
