package policies

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// The attributes of a rule block, by group. The default block takes only
// settingAttrs.
var (
	deviceAttrs = []string{"manufacturer", "model", "serial", "idevid_fingerprint",
		"expected", "tags"}
	nasAttrs = []string{"nas_client", "nas_identifier", "nas_port", "called_station",
		"calling_station"}
	timeAttrs = []string{"not_before", "not_after", "weekdays", "hours", "time_zone"}
	masaAttrs = []string{"assertion", "nonceless_voucher"}

	settingAttrs = []string{"voucher", "allow_no_idevid", "outcome", "reason"}
	replyAttrs   = []string{"vlan", "session_timeout", "termination_action", "filter_id"}
)

var ruleSchema = func() *hcl.BodySchema {
	s := &hcl.BodySchema{
		Blocks: []hcl.BlockHeaderSchema{
			{Type: "audit_log"},
			{Type: "attribute", LabelNames: []string{"name"}},
		},
	}
	for _, group := range [][]string{deviceAttrs, nasAttrs, timeAttrs, masaAttrs,
		settingAttrs, replyAttrs} {
		for _, name := range group {
			s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: name})
		}
	}
	return s
}()

var auditSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "other_domains"},
		{Name: "nonceless_by_others"},
		{Name: "arbitrary_truncation"},
		{Name: "max_age"},
		{Name: "min_age"},
	},
}

var attributeSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "value", Required: true}},
}

// decodeRule decodes a rule block, or the default block when isDefault.
func decodeRule(body hcl.Body, name string, isDefault bool, defRange hcl.Range) (*rule,
	hcl.Diagnostics) {
	content, diags := body.Content(ruleSchema)
	if content == nil {
		return nil, diags
	}
	prefix := fmt.Sprintf("rule %q", name)
	if isDefault {
		prefix = "default"
	}
	d := &fieldDecoder{prefix: prefix, attrs: content.Attributes, diags: diags}
	r := &rule{name: name, isDefault: isDefault, defRange: defRange}
	if isDefault {
		d.rejectCriteria(content)
	} else {
		d.decodeDevice(&r.device)
		d.decodeNAS(&r.nas)
		d.decodeWindow(&r.window)
		r.masa.assertions = d.assertions()
		r.masa.nonceless, _ = d.bool("nonceless_voucher")
	}
	var auditBlocks []*hcl.Block
	for _, block := range content.Blocks {
		switch block.Type {
		case "audit_log":
			auditBlocks = append(auditBlocks, block)
		case "attribute":
			if a, ok := d.decodeAttribute(block); ok {
				r.reply.Attributes = append(r.reply.Attributes, a)
			}
		}
	}
	if !isDefault {
		r.masa.audit = d.decodeAuditBlocks(auditBlocks)
	}
	outcomeOK := d.decodeSettings(r)
	d.decodeReply(&r.reply)
	d.checkConsistency(r, outcomeOK)
	if d.diags.HasErrors() {
		return nil, d.diags
	}
	return r, d.diags
}

// rejectCriteria reports the criteria in a default block.
func (d *fieldDecoder) rejectCriteria(content *hcl.BodyContent) {
	const why = "is a rule criterion, but the default block applies to every device; " +
		"move it into a rule block"
	for _, group := range [][]string{deviceAttrs, nasAttrs, timeAttrs, masaAttrs} {
		d.unexpected(group, why)
	}
	for _, block := range content.Blocks {
		if block.Type == "audit_log" {
			d.errorf(block.DefRange, "audit_log %s", why)
		}
	}
}

// decodeSettings decodes the settings other than the reply attributes and
// reports whether the outcome is valid.
func (d *fieldDecoder) decodeSettings(r *rule) bool {
	outcomeOK := false
	outcome, attr := d.string("outcome")
	switch {
	case attr == nil && d.attrs["outcome"] == nil:
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary: d.prefix + `: outcome is missing; set outcome = "accept", ` +
				`"quarantine" or "reject"`,
			Subject: r.defRange.Ptr(),
		})
	case attr != nil:
		if o, ok := lookupName(outcomeNames, outcome); ok {
			r.outcome = o
			outcomeOK = true
		} else {
			d.errorf(attr.NameRange, `outcome %q is invalid; use "accept", "quarantine" `+
				`or "reject"`, outcome)
		}
	}
	if mode, attr := d.string("voucher"); attr != nil {
		if m, ok := lookupName(voucherModeNames, mode); ok {
			r.voucher = m
		} else {
			d.errorf(attr.NameRange, `voucher %q is invalid; use "masa" (the default), `+
				`"nonceless-cached" or "skip"`, mode)
		}
	}
	if b, _ := d.bool("allow_no_idevid"); b != nil {
		r.allowNoIDevID = *b
	}
	if reason, attr := d.string("reason"); attr != nil {
		if err := checkText(reason, maxReasonLength); err != "" {
			d.errorf(attr.NameRange, "reason %s", err)
		}
		r.reason = reason
	}
	return outcomeOK
}

// checkConsistency reports settings that contradict each other. The
// checks that depend on the outcome run only when it is valid.
func (d *fieldDecoder) checkConsistency(r *rule, outcomeOK bool) {
	if outcomeOK && r.outcome == OutcomeReject {
		d.unexpected(replyAttrs, "has no effect on a reject, which sends no VLAN or "+
			"session attributes; remove it")
		d.unexpected([]string{"allow_no_idevid"}, "has no effect on a reject; remove it")
	}
	if r.voucher == VoucherSkip {
		d.unexpected(masaAttrs, `needs a voucher, but voucher = "skip"`)
		if r.masa.audit != nil {
			d.errorf(r.masa.audit.defRange, `audit_log needs the MASA, but voucher = "skip"`)
		}
	}
	if expected := r.device.expected; expected != nil && !*expected &&
		len(r.device.tags) > 0 {
		d.errorf(d.attrs["tags"].NameRange, "tags match only expected devices, but "+
			"expected = false; remove one of them")
	}
	w := &r.window
	if !w.notBefore.IsZero() && !w.notAfter.IsZero() && !w.notBefore.Before(w.notAfter) {
		d.errorf(d.attrs["not_after"].NameRange, "not_after %s is not after not_before %s",
			formatDate(w.notAfter), formatDate(w.notBefore))
	}
	if tz := d.attrs["time_zone"]; tz != nil && w.weekdays == 0 && w.hours == nil {
		d.errorf(tz.NameRange, "time_zone has no effect without weekdays or hours")
	}
}

func lookupName[T comparable](names map[T]string, s string) (T, bool) {
	for v, name := range names {
		if name == s {
			return v, true
		}
	}
	var zero T
	return zero, false
}

// checkText returns why s is unfit for a log line or a RADIUS string, or "".
func checkText(s string, maxLen int) string {
	if len(s) > maxLen {
		return fmt.Sprintf("is %d bytes long, more than the maximum of %d", len(s), maxLen)
	}
	if strings.ContainsFunc(s, isControl) {
		return "contains a control character"
	}
	return ""
}

func isControl(c rune) bool { return c < 0x20 || c == 0x7f }
