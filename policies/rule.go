package policies

import (
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// rule is one decoded rule block, or the default block when isDefault is
// set. All given criteria must match.
type rule struct {
	name      string
	isDefault bool
	defRange  hcl.Range

	device deviceCriteria
	nas    nasCriteria
	window timeWindow
	masa   masaCriteria

	allowNoIDevID bool
	voucher       VoucherMode
	outcome       Outcome
	reply         Reply
	reason        string
}

type deviceCriteria struct {
	manufacturers []string // colloquial names or factory CA key identifiers
	models        []pattern
	serials       []pattern
	fingerprints  []string // normalized hex
	expected      *bool
	tags          []string
}

type nasCriteria struct {
	clients         []pattern
	identifiers     []pattern
	ports           []pattern
	calledStations  []pattern
	callingStations []pattern
}

// timeWindow limits a rule to a period and, within it, to weekdays and
// hours of the day in loc.
type timeWindow struct {
	notBefore time.Time
	notAfter  time.Time
	weekdays  uint8 // bit 1<<time.Weekday; 0 means every day
	hours     *clockRange
	loc       *time.Location
}

// clockRange is a span of minutes after midnight, from inclusive and to
// exclusive. When from is greater than to, the span wraps past midnight.
type clockRange struct {
	from, to int
}

type masaCriteria struct {
	assertions []string
	nonceless  *bool // whether the voucher must lack a nonce or carry one
	audit      *auditCriteria
}

// auditCriteria are the conditions on the MASA audit log. Nil pointers and
// zero durations are conditions that the rule does not set.
type auditCriteria struct {
	defRange            hcl.Range // of the audit_log block, for errors
	otherDomains        *int
	noncelessByOthers   *bool
	arbitraryTruncation *bool
	maxAge              time.Duration
	minAge              time.Duration
}

// hasDeviceCriteria reports whether the rule narrows the devices by class
// or identity. expected = false alone does not count, because it admits
// every device that was not registered.
func (d *deviceCriteria) hasDeviceCriteria() bool {
	return len(d.manufacturers) > 0 || len(d.models) > 0 || d.identifiesDevice()
}

// identifiesDevice reports whether the rule names single devices rather
// than a class of them. Tags count, because only expected devices carry
// tags.
func (d *deviceCriteria) identifiesDevice() bool {
	return len(d.serials) > 0 || len(d.fingerprints) > 0 || len(d.tags) > 0 ||
		(d.expected != nil && *d.expected)
}

func (d *deviceCriteria) match(f DeviceFacts) bool {
	if len(d.manufacturers) > 0 && !matchManufacturer(d.manufacturers, f) {
		return false
	}
	if !matchAny(d.models, f.Model) || !matchAny(d.serials, f.Serial) {
		return false
	}
	if len(d.fingerprints) > 0 && !slices.Contains(d.fingerprints,
		normalizeHex(f.IDevIDFingerprint)) {
		return false
	}
	if d.expected != nil && *d.expected != f.Expected {
		return false
	}
	if len(d.tags) > 0 && !f.Expected {
		return false
	}
	for _, tag := range d.tags {
		if !slices.Contains(f.Tags, tag) {
			return false
		}
	}
	return true
}

// matchManufacturer compares each value with the colloquial name, without
// regard to case, and with the factory CA key identifier as hex.
func matchManufacturer(values []string, f DeviceFacts) bool {
	keyID := normalizeHex(f.ManufacturerKeyID)
	for _, v := range values {
		if f.Manufacturer != "" && strings.EqualFold(v, f.Manufacturer) {
			return true
		}
		if keyID != "" && normalizeHex(v) == keyID {
			return true
		}
	}
	return false
}

func (n *nasCriteria) match(f NASFacts) bool {
	return matchAny(n.clients, f.Client) &&
		matchAny(n.identifiers, f.Identifier) &&
		matchAny(n.ports, f.PortID) &&
		matchAny(n.calledStations, f.CalledStationID) &&
		matchAny(n.callingStations, f.CallingStationID)
}

func (w *timeWindow) isSet() bool {
	return !w.notBefore.IsZero() || !w.notAfter.IsZero() || w.weekdays != 0 || w.hours != nil
}

func (w *timeWindow) match(t time.Time) bool {
	if !w.isSet() {
		return true
	}
	if t.IsZero() {
		return false
	}
	if !w.notBefore.IsZero() && t.Before(w.notBefore) {
		return false
	}
	if !w.notAfter.IsZero() && t.After(w.notAfter) {
		return false
	}
	local := t.In(w.loc)
	if w.weekdays != 0 && w.weekdays&(1<<local.Weekday()) == 0 {
		return false
	}
	if w.hours != nil {
		return w.hours.contains(local.Hour()*60 + local.Minute())
	}
	return true
}

func (c *clockRange) contains(minute int) bool {
	if c.from < c.to {
		return minute >= c.from && minute < c.to
	}
	return minute >= c.from || minute < c.to
}

func (m *masaCriteria) isSet() bool {
	return len(m.assertions) > 0 || m.nonceless != nil || m.audit != nil
}

// grantsAccess reports whether the outcome lets the device onto the
// network, so the IDevID requirement applies to it.
func (r *rule) grantsAccess() bool {
	return r.outcome == OutcomeAccept || r.outcome == OutcomeQuarantine
}

// idevidMissing reports whether the rule needs an IDevID that the device
// did not present.
func (r *rule) idevidMissing(f Facts) bool {
	return r.grantsAccess() && !f.Device.IDevIDPresented && !r.allowNoIDevID
}

// applies reports whether the device, NAS and time criteria match, which
// is all that Plan can check before the registrar contacts the MASA.
func (r *rule) applies(f Facts) bool {
	return !r.idevidMissing(f) && r.device.match(f.Device) && r.nas.match(f.NAS) &&
		r.window.match(f.Time)
}

// final reports whether Evaluate picks this rule, once it applies, whatever
// the MASA returns.
func (r *rule) final() bool {
	return !r.masa.isSet() && (r.outcome != OutcomeAccept || r.voucher == VoucherSkip)
}
