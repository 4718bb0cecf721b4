// Package policies decides whether the registrar admits a pledge, from
// facts about the device, the NAS, the time and the MASA. A policy is
// written in HCL as an ordered list of rule blocks and one default block:
// the first rule whose criteria all match decides, and the default block
// decides when none does.
//
// Evaluation has two steps, because the voucher source must be chosen
// before the registrar sends its request to the MASA. Plan looks only at
// the device, NAS and time criteria and returns the voucher mode of the
// first rule that they match. Evaluate then checks every criterion, including the voucher
// assertion and the audit log, and returns the Decision.
//
// The reduced-security modes of the draft that became RFC 8995 are
// explicit rule settings, and every Decision lists the ones that it used
// so that the registrar can log them.
package policies

import (
	"fmt"
	"strings"
)

// Policy is an ordered list of rules and a default. It is immutable once
// loaded, so one Policy may serve concurrent evaluations. Only LoadFiles
// and Decode make a usable Policy, and the zero value panics when used.
type Policy struct {
	rules []*rule
	def   *rule
}

// Plan is the result of the first evaluation step.
type Plan struct {
	// Rule is the name of the rule that applies, or "default".
	Rule string

	// Voucher is the voucher source for the registrar to use.
	Voucher VoucherMode

	// Outcome is the outcome of that rule, unless the MASA criteria make
	// Evaluate pass over it.
	Outcome Outcome

	// Final is true when Evaluate is certain to return this rule whatever
	// the MASA returns. It is set for rules without MASA criteria that do
	// not accept, or that accept with voucher = "skip". A registrar may
	// then skip the MASA request for a Final reject.
	Final bool
}

// Decision is the result of Evaluate.
type Decision struct {
	// Rule is the name of the rule that decided, or "default".
	Rule    string
	Outcome Outcome

	// Voucher is the voucher mode of the deciding rule.
	Voucher VoucherMode

	// Reply contains the reply attributes of the outcome.
	Reply Reply

	// Reason is a sentence for the log. It starts with the rule's reason
	// text or names the rule, and then explains why earlier rules whose
	// device, NAS and time criteria matched were passed over, such as a
	// prior domain in the audit log.
	Reason string

	// Modes lists the reduced-security modes that the decision relies on.
	// It is empty for a reject.
	Modes []Mode
}

// DefaultRuleName is the rule name that Plan and Decision report for the
// default block.
const DefaultRuleName = "default"

// Plan returns the voucher mode of the first rule whose device, NAS and
// time criteria match f. It ignores the MASA part of f.
func (p *Policy) Plan(f Facts) Plan {
	for _, r := range p.rules {
		if r.applies(f) {
			return Plan{Rule: r.name, Voucher: r.voucher, Outcome: r.outcome, Final: r.final()}
		}
	}
	if p.def.idevidMissing(f) {
		return Plan{Rule: DefaultRuleName, Voucher: p.def.voucher, Outcome: OutcomeReject,
			Final: true}
	}
	return Plan{Rule: DefaultRuleName, Voucher: p.def.voucher, Outcome: p.def.outcome,
		Final: p.def.final()}
}

// Evaluate returns the decision of the first rule whose criteria all match
// f, or of the default block. The default block rejects instead of
// granting access when the device lacks an IDevID that the block needs,
// and instead of accepting when the voucher that it needs is missing.
func (p *Policy) Evaluate(f Facts) Decision {
	var passed []string
	for _, r := range p.rules {
		if !r.applies(f) {
			continue
		}
		if why := r.checkMASA(f); why != "" {
			passed = append(passed, fmt.Sprintf("rule %q did not match: %s", r.name, why))
			continue
		}
		return r.decide(f, passed)
	}
	why := ""
	if p.def.idevidMissing(f) {
		why = "the device presented no IDevID, and the default block does not set " +
			"allow_no_idevid = true"
	} else {
		why = p.def.checkVoucher(f.MASA)
	}
	if why == "" {
		return p.def.decide(f, passed)
	}
	reason := joinReason("default block cannot "+p.def.outcome.String()+": "+why, passed)
	return Decision{Rule: DefaultRuleName, Outcome: OutcomeReject, Voucher: p.def.voucher,
		Reason: reason}
}

func (r *rule) decide(f Facts, passed []string) Decision {
	reason := r.reason
	if reason == "" && r.isDefault {
		reason = "no rule matched, so the default block applies"
	} else if reason == "" {
		reason = fmt.Sprintf("rule %q matched", r.name)
	}
	return Decision{
		Rule:    r.name,
		Outcome: r.outcome,
		Voucher: r.voucher,
		Reply:   r.reply,
		Reason:  joinReason(reason, passed),
		Modes:   r.modes(f),
	}
}

// modes lists the reduced-security modes that deciding with r relies on.
func (r *rule) modes(f Facts) []Mode {
	if !r.grantsAccess() {
		return nil
	}
	var modes []Mode
	if r.outcome == OutcomeAccept {
		switch {
		case !r.device.hasDeviceCriteria():
			modes = append(modes, ModeAcceptAll)
		case !r.device.identifiesDevice():
			modes = append(modes, ModeAnyDevice)
		}
	}
	if r.allowNoIDevID && !f.Device.IDevIDPresented {
		modes = append(modes, ModeNoIDevID)
	}
	switch r.voucher {
	case VoucherNoncelessCached:
		modes = append(modes, ModeNoncelessCached)
	case VoucherSkip:
		modes = append(modes, ModeSkipMASA)
	}
	return modes
}

func joinReason(reason string, passed []string) string {
	if len(passed) == 0 {
		return reason
	}
	return reason + "; " + strings.Join(passed, "; ")
}

// RuleNames returns the names of the rules in evaluation order, followed
// by DefaultRuleName.
func (p *Policy) RuleNames() []string {
	names := make([]string, 0, len(p.rules)+1)
	for _, r := range p.rules {
		names = append(names, r.name)
	}
	return append(names, DefaultRuleName)
}
