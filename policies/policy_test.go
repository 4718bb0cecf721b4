package policies

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestOutcomes(t *testing.T) {
	src := `
rule "switches" {
  model              = "EX-*"
  outcome            = "accept"
  vlan               = 120
  session_timeout    = "8h"
  termination_action = "radius-request"
  filter_id          = "switches.in"
  reason             = "registered switch"
  expected           = true
  attribute "Cisco-AVPair" {
    value = "a=1"
  }
  attribute "Cisco-AVPair" {
    value = 2
  }
}
rule "printers" {
  model   = "PRN-*"
  outcome = "quarantine"
  vlan    = "quarantine-1"
}
rule "blocked" {
  model   = "BAD-*"
  outcome = "reject"
  reason  = "model is recalled"
  attribute "Reply-Message" {
    value = "recalled"
  }
}
default {
  outcome = "reject"
}
`
	p := parsePolicy(t, src)
	tests := []struct {
		model string
		want  Decision
	}{
		{"EX-4300", Decision{
			Rule: "switches", Outcome: OutcomeAccept, Voucher: VoucherMASA,
			Reply: Reply{
				VLAN:              VLAN{ID: 120},
				SessionTimeout:    8 * time.Hour,
				TerminationAction: TerminationRADIUSRequest,
				FilterID:          "switches.in",
				Attributes: []Attribute{{Name: "Cisco-AVPair", Value: "a=1"},
					{Name: "Cisco-AVPair", Value: "2"}},
			},
			Reason: "registered switch",
		}},
		{"PRN-1", Decision{
			Rule: "printers", Outcome: OutcomeQuarantine, Voucher: VoucherMASA,
			Reply:  Reply{VLAN: VLAN{Name: "quarantine-1"}},
			Reason: `rule "printers" matched`,
		}},
		{"BAD-1", Decision{
			Rule: "blocked", Outcome: OutcomeReject, Voucher: VoucherMASA,
			Reply:  Reply{Attributes: []Attribute{{Name: "Reply-Message", Value: "recalled"}}},
			Reason: "model is recalled",
		}},
		{"QFX-1", Decision{
			Rule: DefaultRuleName, Outcome: OutcomeReject, Voucher: VoucherMASA,
			Reason: "no rule matched, so the default block applies",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			f := deviceFacts()
			f.Device.Model = tt.model
			if diff := cmp.Diff(tt.want, p.Evaluate(f)); diff != "" {
				t.Errorf("Evaluate (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFirstMatchWins(t *testing.T) {
	src := `
rule "first" {
  manufacturer = "acme"
  outcome      = "quarantine"
}
rule "second" {
  serial  = "00-D0-E5-F2-00-02"
  outcome = "accept"
}
default {
  outcome = "reject"
}
`
	p := parsePolicy(t, src)
	f := deviceFacts()
	if got := p.Evaluate(f).Rule; got != "first" {
		t.Errorf("Evaluate picked %q; want first", got)
	}
	f.Device.Manufacturer = "other"
	f.Device.ManufacturerKeyID = ""
	if got := p.Evaluate(f).Rule; got != "second" {
		t.Errorf("Evaluate for another manufacturer picked %q; want second", got)
	}
	if diff := cmp.Diff([]string{"first", "second", "default"}, p.RuleNames()); diff != "" {
		t.Errorf("RuleNames (-want +got):\n%s", diff)
	}
}

func TestReducedSecurityModes(t *testing.T) {
	tests := []struct {
		name  string
		rule  string
		facts func(*Facts)
		want  []Mode
	}{
		{"specific device", "serial = \"00-D0-E5-*\"\noutcome = \"accept\"", nil, nil},
		{"expected device", "expected = true\noutcome = \"accept\"", nil, nil},
		{"tagged device", "tags = \"core\"\noutcome = \"accept\"", nil, nil},
		{"any device of manufacturer", "manufacturer = \"acme\"\noutcome = \"accept\"",
			nil, []Mode{ModeAnyDevice}},
		{"any device of model", "model = \"EX-*\"\noutcome = \"accept\"",
			nil, []Mode{ModeAnyDevice}},
		{"accept all on a port", "nas_port = \"Gi*\"\noutcome = \"accept\"",
			nil, []Mode{ModeAcceptAll}},
		{"accept unknown devices", "expected = false\noutcome = \"accept\"",
			func(f *Facts) { f.Device.Expected = false }, []Mode{ModeAcceptAll}},
		{"quarantine is no class mode", "manufacturer = \"acme\"\noutcome = \"quarantine\"",
			nil, nil},
		{"no idevid", "serial = \"00-D0-E5-*\"\nallow_no_idevid = true\noutcome = \"accept\"",
			func(f *Facts) { f.Device.IDevIDPresented = false }, []Mode{ModeNoIDevID}},
		{"no idevid allowed but present",
			"serial = \"00-D0-E5-*\"\nallow_no_idevid = true\noutcome = \"accept\"",
			nil, nil},
		{"no idevid in quarantine",
			"allow_no_idevid = true\noutcome = \"quarantine\"",
			func(f *Facts) { f.Device.IDevIDPresented = false }, []Mode{ModeNoIDevID}},
		{"nonceless cached", "expected = true\nvoucher = \"nonceless-cached\"\n" +
			"outcome = \"accept\"",
			func(f *Facts) { f.MASA.Mode = VoucherNoncelessCached; f.MASA.Nonceless = true },
			[]Mode{ModeNoncelessCached}},
		{"skip masa", "expected = true\nvoucher = \"skip\"\noutcome = \"accept\"",
			func(f *Facts) { f.MASA = MASAFacts{Mode: VoucherSkip} }, []Mode{ModeSkipMASA}},
		{"every mode", "allow_no_idevid = true\nvoucher = \"skip\"\noutcome = \"accept\"",
			func(f *Facts) { f.Device.IDevIDPresented = false; f.MASA = MASAFacts{} },
			[]Mode{ModeAcceptAll, ModeNoIDevID, ModeSkipMASA}},
		{"reject has no modes", "voucher = \"skip\"\noutcome = \"reject\"", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parsePolicy(t, "rule \"r\" {\n"+tt.rule+"\n}\ndefault {\noutcome = \"reject\"\n}")
			f := deviceFacts()
			if tt.facts != nil {
				tt.facts(&f)
			}
			got := p.Evaluate(f)
			if got.Rule != "r" {
				t.Fatalf("Evaluate picked %q (%s); want r", got.Rule, got.Reason)
			}
			if diff := cmp.Diff(tt.want, got.Modes); diff != "" {
				t.Errorf("Modes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDefaultAcceptIsAcceptAll(t *testing.T) {
	p := parsePolicy(t, `default {
  outcome = "accept"
  vlan    = 10
}`)
	got := p.Evaluate(deviceFacts())
	want := Decision{Rule: DefaultRuleName, Outcome: OutcomeAccept, Voucher: VoucherMASA,
		Reply: Reply{VLAN: VLAN{ID: 10}}, Reason: "no rule matched, so the default block applies",
		Modes: []Mode{ModeAcceptAll}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Evaluate (-want +got):\n%s", diff)
	}
}

func TestIDevIDRequired(t *testing.T) {
	src := `
rule "switches" {
  manufacturer = "acme"
  outcome      = "accept"
}
rule "blocked" {
  manufacturer = "acme"
  outcome      = "reject"
  reason       = "claims without IDevID are refused"
}
default {
  outcome = "quarantine"
}
`
	p := parsePolicy(t, src)
	f := deviceFacts()
	f.Device.IDevIDPresented = false
	if got := p.Evaluate(f); got.Rule != "blocked" || got.Outcome != OutcomeReject {
		t.Errorf("Evaluate = %q, %v; want blocked, reject", got.Rule, got.Outcome)
	}
	if got := p.Plan(f); got.Rule != "blocked" {
		t.Errorf("Plan picked %q; want blocked", got.Rule)
	}
}

func TestDefaultWithoutWhatItNeeds(t *testing.T) {
	tests := []struct {
		name       string
		outcome    string
		facts      func(*Facts)
		wantReason string
	}{
		{"quarantine without idevid", "quarantine",
			func(f *Facts) { f.Device.IDevIDPresented = false },
			"default block cannot quarantine: the device presented no IDevID, and the " +
				"default block does not set allow_no_idevid = true"},
		{"accept without voucher", "accept",
			func(f *Facts) { f.MASA.VoucherObtained = false },
			"default block cannot accept: no voucher was obtained from the MASA"},
		{"accept with cached voucher", "accept",
			func(f *Facts) { f.MASA.Mode = VoucherNoncelessCached },
			`default block cannot accept: the voucher came from mode "nonceless-cached", ` +
				`but the rule needs voucher = "masa"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parsePolicy(t, "default {\noutcome = \""+tt.outcome+"\"\nvlan = 5\n}")
			f := deviceFacts()
			tt.facts(&f)
			want := Decision{Rule: DefaultRuleName, Outcome: OutcomeReject,
				Voucher: VoucherMASA, Reason: tt.wantReason}
			if diff := cmp.Diff(want, p.Evaluate(f)); diff != "" {
				t.Errorf("Evaluate (-want +got):\n%s", diff)
			}
			if got := p.Plan(f); tt.name == "quarantine without idevid" &&
				(got.Outcome != OutcomeReject || !got.Final) {
				t.Errorf("Plan = %+v; want a final reject", got)
			}
		})
	}
}

func TestVoucherNeededToAccept(t *testing.T) {
	src := `
rule "fresh" {
  expected = true
  outcome  = "accept"
  vlan     = 1
}
rule "cached" {
  expected = true
  voucher  = "nonceless-cached"
  outcome  = "accept"
  vlan     = 2
}
rule "fallback" {
  expected = true
  outcome  = "quarantine"
  vlan     = 3
}
default {
  outcome = "reject"
}
`
	p := parsePolicy(t, src)
	tests := []struct {
		name  string
		masa  MASAFacts
		want  string
		fresh string // why rule "fresh" was passed over, when it was
	}{
		{"fresh voucher", MASAFacts{Mode: VoucherMASA, VoucherObtained: true}, "fresh", ""},
		{"cached voucher", MASAFacts{Mode: VoucherNoncelessCached, VoucherObtained: true},
			"cached", `the voucher came from mode "nonceless-cached", but the rule needs ` +
				`voucher = "masa"`},
		{"no voucher", MASAFacts{Mode: VoucherMASA}, "fallback",
			"no voucher was obtained from the MASA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := deviceFacts()
			f.MASA = tt.masa
			got := p.Evaluate(f)
			if got.Rule != tt.want {
				t.Errorf("Evaluate picked %q (%s); want %q", got.Rule, got.Reason, tt.want)
			}
			if tt.fresh == "" {
				return
			}
			want := `rule "fresh" did not match: ` + tt.fresh
			if !strings.Contains(got.Reason, want) {
				t.Errorf("Reason = %q; want it to contain %q", got.Reason, want)
			}
		})
	}
}

func TestPlan(t *testing.T) {
	src := `
rule "skip-lab" {
  nas_client = "lab-*"
  voucher    = "skip"
  outcome    = "accept"
}
rule "airgap" {
  nas_client = "plant-*"
  voucher    = "nonceless-cached"
  outcome    = "accept"
  audit_log {
    other_domains = 0
  }
}
rule "recalled" {
  model   = "BAD-*"
  outcome = "reject"
}
rule "campus" {
  manufacturer = "acme"
  assertion    = "verified"
  outcome      = "accept"
}
default {
  outcome = "reject"
}
`
	p := parsePolicy(t, src)
	tests := []struct {
		name  string
		facts func(*Facts)
		want  Plan
	}{
		{"skip", nil, Plan{Rule: "skip-lab", Voucher: VoucherSkip, Outcome: OutcomeAccept,
			Final: true}},
		{"nonceless cached", func(f *Facts) { f.NAS.Client = "plant-7" },
			Plan{Rule: "airgap", Voucher: VoucherNoncelessCached, Outcome: OutcomeAccept}},
		{"final reject", func(f *Facts) { f.NAS.Client = ""; f.Device.Model = "BAD-2" },
			Plan{Rule: "recalled", Voucher: VoucherMASA, Outcome: OutcomeReject, Final: true}},
		{"ignores masa criteria", func(f *Facts) { f.NAS.Client = ""; f.MASA = MASAFacts{} },
			Plan{Rule: "campus", Voucher: VoucherMASA, Outcome: OutcomeAccept}},
		{"default", func(f *Facts) { f.NAS.Client = ""; f.Device.Manufacturer = "x" },
			Plan{Rule: DefaultRuleName, Voucher: VoucherMASA, Outcome: OutcomeReject,
				Final: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := deviceFacts()
			if tt.facts != nil {
				tt.facts(&f)
			}
			if diff := cmp.Diff(tt.want, p.Plan(f)); diff != "" {
				t.Errorf("Plan (-want +got):\n%s", diff)
			}
			if !tt.want.Final {
				return
			}
			f.MASA = MASAFacts{}
			if d := p.Evaluate(f); d.Rule != tt.want.Rule || d.Outcome != tt.want.Outcome {
				t.Errorf("Evaluate without a voucher = %q, %v; want the final plan's %q, %v",
					d.Rule, d.Outcome, tt.want.Rule, tt.want.Outcome)
			}
		})
	}
}

func TestEnumStrings(t *testing.T) {
	got := []string{OutcomeAccept.String(), OutcomeQuarantine.String(), OutcomeReject.String(),
		Outcome(9).String(), VoucherMASA.String(), VoucherNoncelessCached.String(),
		VoucherSkip.String(), VoucherMode(7).String(), TerminationDefault.String(),
		TerminationRADIUSRequest.String(), VLAN{ID: 7}.String(), VLAN{Name: "x"}.String(),
		VLAN{}.String()}
	want := []string{"accept", "quarantine", "reject", "Outcome(9)", "masa",
		"nonceless-cached", "skip", "VoucherMode(7)", "default", "radius-request", "7", "x", ""}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("String (-want +got):\n%s", diff)
	}
}
