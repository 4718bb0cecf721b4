package policies

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// maxListedDomains limits how many other domains a reason names.
const maxListedDomains = 3

// checkVoucher returns why the voucher does not satisfy the rule, or "".
// An accepting rule needs a voucher unless it skips the MASA, and with
// voucher = "masa" it needs a fresh one rather than a cached one.
func (r *rule) checkVoucher(m MASAFacts) string {
	if r.outcome == OutcomeAccept {
		switch r.voucher {
		case VoucherMASA:
			if !m.VoucherObtained {
				return "no voucher was obtained from the MASA"
			}
			if m.Mode != VoucherMASA {
				return fmt.Sprintf("the voucher came from mode %q, but the rule needs "+
					"voucher = \"masa\"", m.Mode)
			}
		case VoucherNoncelessCached:
			if !m.VoucherObtained {
				return "no voucher was obtained, neither from the MASA nor from the cache"
			}
		}
	}
	if len(r.masa.assertions) == 0 && r.masa.nonceless == nil {
		return ""
	}
	if !m.VoucherObtained {
		return "no voucher was obtained, so the rule's voucher criteria cannot be checked"
	}
	if len(r.masa.assertions) > 0 && !slices.Contains(r.masa.assertions, m.Assertion) {
		return fmt.Sprintf("voucher assertion %q is not one of %s", m.Assertion,
			strings.Join(r.masa.assertions, ", "))
	}
	if want := r.masa.nonceless; want != nil && *want != m.Nonceless {
		if m.Nonceless {
			return "the voucher is nonceless, but the rule sets nonceless_voucher = false"
		}
		return "the voucher carries a nonce, but the rule sets nonceless_voucher = true"
	}
	return ""
}

// checkMASA returns why the MASA facts do not satisfy the rule, or "".
func (r *rule) checkMASA(f Facts) string {
	if why := r.checkVoucher(f.MASA); why != "" {
		return why
	}
	if r.masa.audit == nil {
		return ""
	}
	return r.masa.audit.check(f.MASA, f.Time)
}

// domainSeen is the most recent entry of one other domain in the audit log.
type domainSeen struct {
	id   string
	last time.Time
}

func (a *auditCriteria) check(m MASAFacts, now time.Time) string {
	if !m.AuditLogFetched {
		return "the MASA audit log was not read"
	}
	if (a.maxAge != 0 || a.minAge != 0) && now.IsZero() {
		return "no evaluation time is given to compute the age of audit log entries"
	}
	if a.arbitraryTruncation != nil && !*a.arbitraryTruncation && m.ArbitraryTruncation > 0 {
		return fmt.Sprintf("audit log had %d entries removed by arbitrary truncation, "+
			"which may hide other domains", m.ArbitraryTruncation)
	}
	var others []domainSeen
	for _, e := range m.AuditLog {
		if e.DomainID == m.DomainID {
			continue
		}
		age := now.Sub(e.Date)
		if a.maxAge != 0 && age > a.maxAge {
			continue
		}
		if a.minAge != 0 && age < a.minAge {
			return fmt.Sprintf("audit log shows a claim by other domain %s on %s, "+
				"more recent than min_age %s", e.DomainID, formatDate(e.Date), a.minAge)
		}
		if a.noncelessByOthers != nil && !*a.noncelessByOthers && e.Nonceless {
			return fmt.Sprintf("audit log shows a nonceless voucher for other domain %s on %s",
				e.DomainID, formatDate(e.Date))
		}
		others = noteDomain(others, e)
	}
	if a.otherDomains != nil && len(others) > *a.otherDomains {
		return describeDomains(others, *a.otherDomains)
	}
	return ""
}

// noteDomain records e in others, keeping one element per domain with the
// date of its most recent entry, in order of first appearance.
func noteDomain(others []domainSeen, e AuditEntry) []domainSeen {
	for i := range others {
		if others[i].id == e.DomainID {
			if e.Date.After(others[i].last) {
				others[i].last = e.Date
			}
			return others
		}
	}
	return append(others, domainSeen{id: e.DomainID, last: e.Date})
}

func describeDomains(others []domainSeen, allowed int) string {
	noun := "domains"
	if len(others) == 1 {
		noun = "domain"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "audit log shows %d prior %s other than ours", len(others), noun)
	if allowed > 0 {
		fmt.Fprintf(&b, " (other_domains allows %d)", allowed)
	}
	for i, d := range others {
		if i == maxListedDomains {
			fmt.Fprintf(&b, ", and %d more", len(others)-maxListedDomains)
			break
		}
		sep := ", "
		if i == 0 {
			sep = ": "
		}
		fmt.Fprintf(&b, "%s%s on %s", sep, d.id, formatDate(d.last))
	}
	return b.String()
}

func formatDate(t time.Time) string {
	if t.IsZero() {
		return "an unknown date"
	}
	return t.Format(time.RFC3339)
}
