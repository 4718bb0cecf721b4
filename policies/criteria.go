package policies

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// assertionValues are the voucher assertions of RFC 8366.
var assertionValues = []string{"verified", "logged", "proximity"}

// patterns decodes a string or list of globs.
func (d *fieldDecoder) patterns(name string) []pattern {
	list, attr := d.strings(name)
	if attr == nil {
		return nil
	}
	out := make([]pattern, 0, len(list))
	for _, s := range list {
		p, err := compilePattern(s)
		if err != nil {
			d.errorf(attr.NameRange, "%s pattern %q %v", name, s, err)
			continue
		}
		out = append(out, p)
	}
	return out
}

// nonEmpty decodes a list of strings of which none may be empty.
func (d *fieldDecoder) nonEmpty(name string) []string {
	list, attr := d.strings(name)
	for _, s := range list {
		if strings.TrimSpace(s) == "" {
			d.errorf(attr.NameRange, "%s contains an empty string", name)
			return nil
		}
	}
	return list
}

func (d *fieldDecoder) decodeDevice(c *deviceCriteria) {
	c.manufacturers = d.nonEmpty("manufacturer")
	c.models = d.patterns("model")
	c.serials = d.patterns("serial")
	c.tags = d.nonEmpty("tags")
	c.expected, _ = d.bool("expected")
	list, attr := d.strings("idevid_fingerprint")
	for _, s := range list {
		h := normalizeHex(s)
		if len(h) != 64 {
			d.errorf(attr.NameRange, "idevid_fingerprint %q is not a SHA-256 in hex "+
				"(64 hex digits, colons allowed)", s)
			continue
		}
		c.fingerprints = append(c.fingerprints, h)
	}
}

func (d *fieldDecoder) decodeNAS(c *nasCriteria) {
	c.clients = d.patterns("nas_client")
	c.identifiers = d.patterns("nas_identifier")
	c.ports = d.patterns("nas_port")
	c.calledStations = d.patterns("called_station")
	c.callingStations = d.patterns("calling_station")
}

func (d *fieldDecoder) assertions() []string {
	list, attr := d.strings("assertion")
	for _, s := range list {
		if !slices.Contains(assertionValues, s) {
			d.errorf(attr.NameRange, "assertion %q is invalid; use %s", s,
				strings.Join(assertionValues, ", "))
			return nil
		}
	}
	return list
}

func (d *fieldDecoder) decodeWindow(w *timeWindow) {
	w.notBefore = d.timestamp("not_before")
	w.notAfter = d.timestamp("not_after")
	w.loc = time.UTC
	if name, attr := d.string("time_zone"); attr != nil {
		loc, err := loadLocation(name)
		if err != nil {
			d.errorf(attr.NameRange, "time_zone %q is invalid: %v; use an IANA zone name "+
				"such as \"Europe/Berlin\", or \"UTC\"", name, err)
		} else {
			w.loc = loc
		}
	}
	days, attr := d.strings("weekdays")
	for _, s := range days {
		day, ok := parseWeekday(s)
		if !ok {
			d.errorf(attr.NameRange, "weekdays: %q is not a weekday; use mon, tue, wed, thu, "+
				"fri, sat or sun", s)
			continue
		}
		w.weekdays |= 1 << day
	}
	if s, attr := d.string("hours"); attr != nil {
		c, err := parseClockRange(s)
		if err != "" {
			d.errorf(attr.NameRange, "hours %q %s", s, err)
		} else {
			w.hours = &c
		}
	}
}

func loadLocation(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, fmt.Errorf("the zone must be named, not %q", name)
	}
	return time.LoadLocation(name)
}

func (d *fieldDecoder) timestamp(name string) time.Time {
	s, attr := d.string(name)
	if attr == nil {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		d.errorf(attr.NameRange, "%s %q is not an RFC 3339 time such as "+
			"\"2026-03-01T08:00:00Z\"", name, s)
		return time.Time{}
	}
	return t
}

func parseWeekday(s string) (time.Weekday, bool) {
	s = strings.ToLower(s)
	for day := time.Sunday; day <= time.Saturday; day++ {
		full := strings.ToLower(day.String())
		if s == full || s == full[:3] {
			return day, true
		}
	}
	return 0, false
}

// parseClockRange parses "HH:MM-HH:MM". It returns why s is invalid, or "".
func parseClockRange(s string) (clockRange, string) {
	const form = `is not a range of hours such as "08:00-18:00"`
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return clockRange{}, form
	}
	a, okA := parseClock(strings.TrimSpace(from))
	b, okB := parseClock(strings.TrimSpace(to))
	if !okA || !okB || a == 24*60 {
		return clockRange{}, form
	}
	if a == b {
		return clockRange{}, "is empty; the end must differ from the start"
	}
	return clockRange{from: a, to: b}, ""
}

// parseClock parses "HH:MM" into minutes after midnight. "24:00" is
// allowed, for the end of a range.
func parseClock(s string) (int, bool) {
	hh, mm, ok := strings.Cut(s, ":")
	if !ok || len(hh) == 0 || len(hh) > 2 || len(mm) != 2 {
		return 0, false
	}
	h, errH := strconv.Atoi(hh)
	m, errM := strconv.Atoi(mm)
	if errH != nil || errM != nil || h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, false
	}
	return h*60 + m, true
}

func (d *fieldDecoder) decodeAuditBlocks(blocks []*hcl.Block) *auditCriteria {
	if len(blocks) == 0 {
		return nil
	}
	for _, extra := range blocks[1:] {
		d.errorf(extra.DefRange, "audit_log is given twice, first at %s; merge the blocks",
			blocks[0].DefRange.String())
	}
	content, diags := blocks[0].Body.Content(auditSchema)
	d.diags = append(d.diags, diags...)
	if content == nil {
		return nil
	}
	inner := &fieldDecoder{prefix: d.prefix + ": audit_log", attrs: content.Attributes}
	a := &auditCriteria{defRange: blocks[0].DefRange}
	if n, attr := inner.integer("other_domains", 0, 1<<20); attr != nil {
		count := int(n)
		a.otherDomains = &count
	}
	a.noncelessByOthers, _ = inner.bool("nonceless_by_others")
	a.arbitraryTruncation, _ = inner.bool("arbitrary_truncation")
	a.maxAge = inner.age("max_age")
	a.minAge = inner.age("min_age")
	if a.maxAge != 0 && a.minAge != 0 && a.minAge >= a.maxAge {
		inner.errorf(content.Attributes["min_age"].NameRange,
			"min_age %s is not less than max_age %s, so no entry can match", a.minAge, a.maxAge)
	}
	d.diags = append(d.diags, inner.diags...)
	return a
}

// maxAgeDays keeps day counts well below the int64 nanoseconds of a
// time.Duration, which end after about 106,000 days.
const maxAgeDays = 100000

// age decodes a positive duration such as "720h" or "30d".
func (d *fieldDecoder) age(name string) time.Duration {
	s, attr := d.string(name)
	if attr == nil {
		return 0
	}
	dur, err := parseAge(s)
	if err != nil {
		d.errorf(attr.NameRange, "%s %q %v", name, s, err)
		return 0
	}
	return dur
}

func parseAge(s string) (time.Duration, error) {
	const form = `is not a positive duration such as "720h" or "30d"`
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 || n > maxAgeDays {
			return 0, fmt.Errorf("%s (days from 1 to %d)", form, maxAgeDays)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	dur, err := time.ParseDuration(s)
	if err != nil || dur <= 0 {
		return 0, fmt.Errorf("%s", form)
	}
	return dur, nil
}
