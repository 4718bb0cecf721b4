package policies

import (
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

const (
	// maxStringLength is the longest value that fits one RADIUS attribute
	// (RFC 2865, Section 5). Vendor-Specific attributes hold less, which
	// the RADIUS layer checks when it encodes them.
	maxStringLength = 253

	// maxReasonLength bounds a reason text, which goes into log lines.
	maxReasonLength = 500

	// maxVLANNameLength is the longest VLAN name that common switches take.
	maxVLANNameLength = 32

	// maxAttributeNameLength bounds an attribute name from a dictionary.
	maxAttributeNameLength = 64

	// maxSessionTimeout is the largest Session-Timeout, an unsigned 32-bit
	// number of seconds (RFC 2865, Section 5.27).
	maxSessionTimeout = 1<<32 - 1
)

// reservedAttributes are attributes that a policy must not set through an
// attribute block, with the setting to use instead. Keys are lower-case.
var reservedAttributes = map[string]string{
	"tunnel-type":             "use vlan",
	"tunnel-medium-type":      "use vlan",
	"tunnel-private-group-id": "use vlan",
	"session-timeout":         "use session_timeout",
	"termination-action":      "use termination_action",
	"filter-id":               "use filter_id",
	"message-authenticator":   "the RADIUS server sets it",
	"eap-message":             "the RADIUS server sets it",
	"state":                   "the RADIUS server sets it",
	"proxy-state":             "the RADIUS server sets it",
	"ms-mppe-send-key":        "the RADIUS server sets it",
	"ms-mppe-recv-key":        "the RADIUS server sets it",
}

func (d *fieldDecoder) decodeReply(reply *Reply) {
	reply.VLAN = d.vlan()
	timeout := d.sessionTimeout()
	reply.SessionTimeout = timeout
	if s, attr := d.string("termination_action"); attr != nil {
		switch s {
		case "default":
			reply.TerminationAction = TerminationDefault
		case "radius-request":
			reply.TerminationAction = TerminationRADIUSRequest
		default:
			d.errorf(attr.NameRange, `termination_action %q is invalid; use "default" or `+
				`"radius-request"`, s)
		}
		if d.attrs["session_timeout"] == nil {
			d.errorf(attr.NameRange, "termination_action takes effect at the end of the "+
				"session, so it needs session_timeout")
		}
	}
	if s, attr := d.string("filter_id"); attr != nil {
		if err := checkText(s, maxStringLength); err != "" {
			d.errorf(attr.NameRange, "filter_id %s", err)
		} else if s == "" {
			d.errorf(attr.NameRange, "filter_id is empty; remove it or name a filter")
		}
		reply.FilterID = s
	}
}

// vlan decodes a VLAN number from 1 to 4094 or a VLAN name. A string of
// digits is a number.
func (d *fieldDecoder) vlan() VLAN {
	v, attr := d.value("vlan")
	if attr == nil {
		return VLAN{}
	}
	if v.Type() == cty.Number || (v.Type() == cty.String && isDigits(v.AsString())) {
		n, ok := toInteger(v)
		if !ok || n < 1 || n > 4094 {
			d.errorf(attr.NameRange, "vlan %s is out of range 1-4094", describe(v))
			return VLAN{}
		}
		return VLAN{ID: int(n)}
	}
	if v.Type() != cty.String {
		d.errorf(attr.NameRange, "vlan must be a number from 1 to 4094 or a name, not %s",
			v.Type().FriendlyName())
		return VLAN{}
	}
	name := v.AsString()
	if !isVLANName(name) {
		d.errorf(attr.NameRange, "vlan name %q is invalid; use 1 to %d letters, digits, "+
			"'.', '_' or '-', starting with a letter or digit", name, maxVLANNameLength)
		return VLAN{}
	}
	return VLAN{Name: name}
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func isVLANName(s string) bool {
	if s == "" || len(s) > maxVLANNameLength || !isAlnum(rune(s[0])) {
		return false
	}
	for _, c := range s {
		if !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func isAlnum(c rune) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// sessionTimeout decodes a number of seconds or a duration string of
// whole seconds, such as "8h".
func (d *fieldDecoder) sessionTimeout() time.Duration {
	v, attr := d.value("session_timeout")
	if attr == nil {
		return 0
	}
	var seconds int64
	if v.Type() == cty.String && !isDigits(v.AsString()) {
		dur, err := time.ParseDuration(v.AsString())
		if err != nil || dur%time.Second != 0 {
			d.errorf(attr.NameRange, "session_timeout %q is not a number of seconds or a "+
				"duration of whole seconds such as \"8h\"", v.AsString())
			return 0
		}
		seconds = int64(dur / time.Second)
	} else {
		n, ok := toInteger(v)
		if !ok {
			d.errorf(attr.NameRange, "session_timeout must be a whole number of seconds, "+
				"not %s", describe(v))
			return 0
		}
		seconds = n
	}
	if seconds < 1 || seconds > maxSessionTimeout {
		d.errorf(attr.NameRange, "session_timeout %d is out of range 1-%d seconds",
			seconds, int64(maxSessionTimeout))
		return 0
	}
	return time.Duration(seconds) * time.Second
}

// decodeAttribute decodes an attribute "Name" { value = "..." } block.
func (d *fieldDecoder) decodeAttribute(block *hcl.Block) (Attribute, bool) {
	name := block.Labels[0]
	rng := block.LabelRanges[0]
	if !isAttributeName(name) {
		d.errorf(rng, "attribute name %q is invalid; use a RADIUS dictionary name such as "+
			"\"Cisco-AVPair\": letters, digits, '-', '_' and '.', starting with a letter",
			name)
		return Attribute{}, false
	}
	if instead, ok := reservedAttributes[strings.ToLower(name)]; ok {
		d.errorf(rng, "attribute %q cannot be set in an attribute block; %s", name, instead)
		return Attribute{}, false
	}
	content, diags := block.Body.Content(attributeSchema)
	d.diags = append(d.diags, diags...)
	if content == nil || diags.HasErrors() {
		return Attribute{}, false
	}
	inner := &fieldDecoder{prefix: d.prefix + ": attribute " + name, attrs: content.Attributes}
	value, attr := inner.string("value")
	if attr != nil {
		if err := checkText(value, maxStringLength); err != "" {
			inner.errorf(attr.NameRange, "value %s", err)
		}
	}
	d.diags = append(d.diags, inner.diags...)
	if attr == nil || inner.diags.HasErrors() {
		return Attribute{}, false
	}
	return Attribute{Name: name, Value: value}, true
}

func isAttributeName(s string) bool {
	if s == "" || len(s) > maxAttributeNameLength {
		return false
	}
	c0 := rune(s[0])
	if !((c0 >= 'a' && c0 <= 'z') || (c0 >= 'A' && c0 <= 'Z')) {
		return false
	}
	for _, c := range s {
		if !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}
