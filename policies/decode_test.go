package policies

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
)

// problem is a diagnostic reduced to what a user reads first.
type problem struct {
	Line    int
	Message string
}

func problems(diags hcl.Diagnostics) []problem {
	var out []problem
	for _, d := range diags {
		p := problem{Message: d.Summary}
		if d.Subject != nil {
			p.Line = d.Subject.Start.Line
		}
		out = append(out, p)
	}
	return out
}

func TestDecodeErrors(t *testing.T) {
	const def = "\ndefault {\n  outcome = \"reject\"\n}\n"
	tests := []struct {
		name string
		src  string
		want []problem
	}{
		{"vlan out of range", "rule \"lab\" {\n  outcome = \"accept\"\n  vlan = 5000\n}" + def,
			[]problem{{3, `rule "lab": vlan 5000 is out of range 1-4094`}}},
		{"vlan zero string", "rule \"lab\" {\n  outcome = \"accept\"\n  vlan = \"0\"\n}" + def,
			[]problem{{3, `rule "lab": vlan "0" is out of range 1-4094`}}},
		{"vlan fraction", "rule \"lab\" {\n  outcome = \"accept\"\n  vlan = 1.5\n}" + def,
			[]problem{{3, `rule "lab": vlan 1.5 is out of range 1-4094`}}},
		{"vlan name charset", "rule \"lab\" {\n  outcome = \"accept\"\n  vlan = \"a b\"\n}" + def,
			[]problem{{3, `rule "lab": vlan name "a b" is invalid; use 1 to 32 letters, ` +
				`digits, '.', '_' or '-', starting with a letter or digit`}}},
		{"vlan list", "rule \"lab\" {\n  outcome = \"accept\"\n  vlan = [1]\n}" + def,
			[]problem{{3, `rule "lab": vlan must be a number from 1 to 4094 or a name, ` +
				`not tuple`}}},
		{"missing outcome", "rule \"lab\" {\n  model = \"x\"\n}" + def,
			[]problem{{1, `rule "lab": outcome is missing; set outcome = "accept", ` +
				`"quarantine" or "reject"`}}},
		{"bad outcome", "rule \"lab\" {\n  outcome = \"allow\"\n  vlan = 3\n}" + def,
			[]problem{{2, `rule "lab": outcome "allow" is invalid; use "accept", ` +
				`"quarantine" or "reject"`}}},
		{"bad voucher", "rule \"lab\" {\n  outcome = \"accept\"\n  voucher = \"none\"\n}" + def,
			[]problem{{3, `rule "lab": voucher "none" is invalid; use "masa" (the ` +
				`default), "nonceless-cached" or "skip"`}}},
		{"missing default", "rule \"lab\" {\n  outcome = \"accept\"\n}\n",
			[]problem{{1, `no default block; add default { outcome = "reject" } or ` +
				`another outcome for devices that no rule matches`}}},
		{"two defaults", def + def,
			[]problem{{6, `default block is defined twice, first at policy.hcl:2,1-8; ` +
				`keep one`}}},
		{"duplicate rule", "rule \"a\" {\n  outcome = \"accept\"\n}\nrule \"a\" {\n" +
			"  outcome = \"reject\"\n}" + def,
			[]problem{{4, `rule "a" is defined twice, first at policy.hcl:1,1-9; give ` +
				`each rule its own name`}}},
		{"reserved rule name", "rule \"default\" {\n  outcome = \"accept\"\n}" + def,
			[]problem{{1, `rule "default": the name "default" is reserved for the ` +
				`default block`}}},
		{"criterion in default", "default {\n  outcome = \"reject\"\n  serial = \"x\"\n}",
			[]problem{{3, `default: serial is a rule criterion, but the default block ` +
				`applies to every device; move it into a rule block`}}},
		{"reply on reject", "rule \"r\" {\n  outcome = \"reject\"\n  vlan = 3\n}" + def,
			[]problem{{3, `rule "r": vlan has no effect on a reject, which sends no VLAN ` +
				`or session attributes; remove it`}}},
		{"termination without timeout", "rule \"r\" {\n  outcome = \"accept\"\n" +
			"  termination_action = \"radius-request\"\n}" + def,
			[]problem{{3, `rule "r": termination_action takes effect at the end of the ` +
				`session, so it needs session_timeout`}}},
		{"session timeout range", "rule \"r\" {\n  outcome = \"accept\"\n" +
			"  session_timeout = 0\n}" + def,
			[]problem{{3, `rule "r": session_timeout 0 is out of range 1-4294967295 seconds`}}},
		{"session timeout fraction", "rule \"r\" {\n  outcome = \"accept\"\n" +
			"  session_timeout = \"1.5s\"\n}" + def,
			[]problem{{3, `rule "r": session_timeout "1.5s" is not a number of seconds or ` +
				`a duration of whole seconds such as "8h"`}}},
		{"skip with assertion", "rule \"r\" {\n  outcome = \"accept\"\n  voucher = \"skip\"\n" +
			"  assertion = \"logged\"\n}" + def,
			[]problem{{4, `rule "r": assertion needs a voucher, but voucher = "skip"`}}},
		{"skip with nonceless voucher", "rule \"r\" {\n  outcome = \"accept\"\n" +
			"  voucher = \"skip\"\n  nonceless_voucher = true\n}" + def,
			[]problem{{4, `rule "r": nonceless_voucher needs a voucher, but voucher = "skip"`}}},
		{"skip with audit log", "rule \"r\" {\n  outcome = \"accept\"\n" +
			"  voucher = \"skip\"\n  audit_log {\n  }\n}" + def,
			[]problem{{4, `rule "r": audit_log needs the MASA, but voucher = "skip"`}}},
		{"bad assertion", "rule \"r\" {\n  outcome = \"accept\"\n  assertion = \"trusted\"\n}" +
			def,
			[]problem{{3, `rule "r": assertion "trusted" is invalid; use verified, logged, ` +
				`proximity`}}},
		{"bad time", "rule \"r\" {\n  outcome = \"accept\"\n  not_before = \"2026-01-01\"\n}" +
			def,
			[]problem{{3, `rule "r": not_before "2026-01-01" is not an RFC 3339 time such ` +
				`as "2026-03-01T08:00:00Z"`}}},
		{"window backwards", "rule \"r\" {\n  outcome = \"accept\"\n" +
			"  not_before = \"2026-02-01T00:00:00Z\"\n  not_after = \"2026-01-01T00:00:00Z\"\n}" +
			def,
			[]problem{{4, `rule "r": not_after 2026-01-01T00:00:00Z is not after ` +
				`not_before 2026-02-01T00:00:00Z`}}},
		{"bad weekday", "rule \"r\" {\n  outcome = \"accept\"\n  weekdays = [\"mo\"]\n}" + def,
			[]problem{{3, `rule "r": weekdays: "mo" is not a weekday; use mon, tue, wed, ` +
				`thu, fri, sat or sun`}}},
		{"bad hours", "rule \"r\" {\n  outcome = \"accept\"\n  hours = \"8-18\"\n}" + def,
			[]problem{{3, `rule "r": hours "8-18" is not a range of hours such as ` +
				`"08:00-18:00"`}}},
		{"empty hours", "rule \"r\" {\n  outcome = \"accept\"\n  hours = \"08:00-08:00\"\n}" +
			def,
			[]problem{{3, `rule "r": hours "08:00-08:00" is empty; the end must differ ` +
				`from the start`}}},
		{"bad time zone", "rule \"r\" {\n  outcome = \"accept\"\n  hours = \"08:00-09:00\"\n" +
			"  time_zone = \"Mars/Olympus\"\n}" + def,
			[]problem{{4, `rule "r": time_zone "Mars/Olympus" is invalid: unknown time ` +
				`zone Mars/Olympus; use an IANA zone name such as "Europe/Berlin", or "UTC"`}}},
		{"time zone alone", "rule \"r\" {\n  outcome = \"accept\"\n  time_zone = \"UTC\"\n}" +
			def,
			[]problem{{3, `rule "r": time_zone has no effect without weekdays or hours`}}},
		{"tags and not expected", "rule \"r\" {\n  outcome = \"accept\"\n  expected = false\n" +
			"  tags = \"a\"\n}" + def,
			[]problem{{4, `rule "r": tags match only expected devices, but expected = ` +
				`false; remove one of them`}}},
		{"trailing escape", "rule \"r\" {\n  outcome = \"accept\"\n  serial = \"ab\\\\\"\n}" +
			def,
			[]problem{{3, `rule "r": serial pattern "ab\\" ends with a lone '\'; write ` +
				`'\\' for a backslash`}}},
		{"empty list", "rule \"r\" {\n  outcome = \"accept\"\n  model = []\n}" + def,
			[]problem{{3, `rule "r": model is an empty list, which matches nothing; ` +
				`remove the attribute to match everything`}}},
		{"list of lists", "rule \"r\" {\n  outcome = \"accept\"\n  model = [[\"a\"]]\n}" + def,
			[]problem{{3, `rule "r": model must be a list of strings, and element 1 is ` +
				`tuple`}}},
		{"null", "rule \"r\" {\n  outcome = \"accept\"\n  model = null\n}" + def,
			[]problem{{3, `rule "r": model is null; remove it to leave it unset`}}},
		{"bad fingerprint", "rule \"r\" {\n  outcome = \"accept\"\n" +
			"  idevid_fingerprint = \"abc\"\n}" + def,
			[]problem{{3, `rule "r": idevid_fingerprint "abc" is not a SHA-256 in hex ` +
				`(64 hex digits, colons allowed)`}}},
		{"bad attribute name", "rule \"r\" {\n  outcome = \"accept\"\n" +
			"  attribute \"1x\" {\n    value = \"v\"\n  }\n}" + def,
			[]problem{{3, `rule "r": attribute name "1x" is invalid; use a RADIUS ` +
				`dictionary name such as "Cisco-AVPair": letters, digits, '-', '_' and '.', ` +
				`starting with a letter`}}},
		{"reserved attribute", "rule \"r\" {\n  outcome = \"accept\"\n" +
			"  attribute \"Tunnel-Private-Group-Id\" {\n    value = \"7\"\n  }\n}" + def,
			[]problem{{3, `rule "r": attribute "Tunnel-Private-Group-Id" cannot be set in ` +
				`an attribute block; use vlan`}}},
		{"attribute control character", "rule \"r\" {\n  outcome = \"accept\"\n" +
			"  attribute \"X\" {\n    value = \"a\\nb\"\n  }\n}" + def,
			[]problem{{4, `rule "r": attribute X: value contains a control character`}}},
		{"audit twice", "rule \"r\" {\n  outcome = \"accept\"\n  audit_log {\n  }\n" +
			"  audit_log {\n  }\n}" + def,
			[]problem{{5, `rule "r": audit_log is given twice, first at policy.hcl:3,3-12; ` +
				`merge the blocks`}}},
		{"audit negative", "rule \"r\" {\n  outcome = \"accept\"\n  audit_log {\n" +
			"    other_domains = -1\n  }\n}" + def,
			[]problem{{4, `rule "r": audit_log: other_domains -1 is out of range 0-1048576`}}},
		{"audit bad age", "rule \"r\" {\n  outcome = \"accept\"\n  audit_log {\n" +
			"    max_age = \"a month\"\n  }\n}" + def,
			[]problem{{4, `rule "r": audit_log: max_age "a month" is not a positive ` +
				`duration such as "720h" or "30d"`}}},
		{"audit ages crossed", "rule \"r\" {\n  outcome = \"accept\"\n  audit_log {\n" +
			"    max_age = \"1d\"\n    min_age = \"48h\"\n  }\n}" + def,
			[]problem{{5, `rule "r": audit_log: min_age 48h0m0s is not less than max_age ` +
				`24h0m0s, so no entry can match`}}},
		{"audit in default", "default {\n  outcome = \"reject\"\n  audit_log {\n  }\n}",
			[]problem{{3, `default: audit_log is a rule criterion, but the default block ` +
				`applies to every device; move it into a rule block`}}},
		{"reason control character", "rule \"r\" {\n  outcome = \"accept\"\n" +
			"  reason = \"a\\tb\"\n}" + def,
			[]problem{{3, `rule "r": reason contains a control character`}}},
		{"string expected", "rule \"r\" {\n  outcome = [\"accept\"]\n}" + def,
			[]problem{{2, `rule "r": outcome must be a string, not tuple`}}},
		{"bool expected", "rule \"r\" {\n  outcome = \"accept\"\n  expected = \"yes\"\n}" +
			def,
			[]problem{{3, `rule "r": expected must be true or false, not string`}}},
		{"variable", "rule \"r\" {\n  outcome = \"accept\"\n  model = var.x\n}" + def,
			[]problem{{3, `Variables not allowed`}}},
		{"unquoted word", "rule \"r\" {\n  outcome = accept\n}" + def,
			[]problem{{2, `Unquoted word`}}},
		{"misspelled true", "rule \"r\" {\n  outcome = \"accept\"\n  expected = ture\n}" +
			def, []problem{{3, `Unquoted word`}}},
		{"bad termination action", "rule \"r\" {\n  outcome = \"accept\"\n" +
			"  session_timeout = 60\n  termination_action = \"reboot\"\n}" + def,
			[]problem{{4, `rule "r": termination_action "reboot" is invalid; use ` +
				`"default" or "radius-request"`}}},
		{"empty filter id", "rule \"r\" {\n  outcome = \"accept\"\n  filter_id = \"\"\n}" +
			def,
			[]problem{{3, `rule "r": filter_id is empty; remove it or name a filter`}}},
		{"empty manufacturer", "rule \"r\" {\n  outcome = \"accept\"\n" +
			"  manufacturer = [\"acme\", \" \"]\n}" + def,
			[]problem{{3, `rule "r": manufacturer contains an empty string`}}},
		{"empty rule name", "rule \"\" {\n  outcome = \"accept\"\n}" + def,
			[]problem{{1, `rule "": the rule name is empty; name the rule, such as ` +
				`rule "lab-switches"`}}},
		{"attribute without value", "rule \"r\" {\n  outcome = \"accept\"\n" +
			"  attribute \"X\" {\n  }\n}" + def,
			[]problem{{3, `Missing required argument`}}},
		{"huge vlan", "rule \"r\" {\n  outcome = \"accept\"\n  vlan = 1e30\n}" + def,
			[]problem{{3, `rule "r": vlan 1e+30 is out of range 1-4094`}}},
		{"unknown attribute", "rule \"r\" {\n  outcome = \"accept\"\n  vlna = 3\n}" + def,
			[]problem{{3, `Unsupported argument`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, diags := decodeSource(tt.src)
			if p != nil {
				t.Errorf("Decode returned a policy despite errors")
			}
			if diff := cmp.Diff(tt.want, problems(diags)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeReportsAllProblems(t *testing.T) {
	src := `rule "lab" {
  outcome = "accept"
  vlan    = 5000
  voucher = "maybe"
}
rule "ok" {
  outcome = "quarantine"
}
rule "late" {
  outcome = "reject"
  filter_id = "x"
}
`
	_, diags := decodeSource(src)
	got := problems(diags)
	want := []problem{
		{4, `rule "lab": voucher "maybe" is invalid; use "masa" (the default), ` +
			`"nonceless-cached" or "skip"`},
		{3, `rule "lab": vlan 5000 is out of range 1-4094`},
		{11, `rule "late": filter_id has no effect on a reject, which sends no VLAN or ` +
			`session attributes; remove it`},
		{1, `no default block; add default { outcome = "reject" } or another outcome ` +
			`for devices that no rule matches`},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestLoadFilesErrorNamesFileAndLine(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.hcl")
	src := "# lab policy\n\nrule \"lab\" {\n  outcome = \"accept\"\n" +
		"  manufacturer = \"acme\"\n  vlan = 5000\n}\n\ndefault {\n  outcome = \"reject\"\n}\n"
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadFiles(path)
	var loadErr *LoadError
	if !errors.As(err, &loadErr) {
		t.Fatalf("LoadFiles error = %v; want a *LoadError", err)
	}
	want := "policies: " + path + `:6,3: rule "lab": vlan 5000 is out of range 1-4094`
	if got := err.Error(); got != want {
		t.Errorf("error:\ngot  %s\nwant %s", got, want)
	}
}

func TestLoadFilesMergesInOrder(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	a := write("a.hcl", "rule \"a\" {\n  manufacturer = \"acme\"\n  outcome = \"quarantine\"\n}\n")
	b := write("b.hcl", "rule \"b\" {\n  outcome = \"accept\"\n}\n"+
		"default {\n  outcome = \"reject\"\n}\n")
	j := write("c.json", `{"rule": {"c": {"outcome": "accept", "vlan": 7}}}`)
	dup := write("dup.hcl", "rule \"a\" {\n  outcome = \"reject\"\n}\n")

	p, err := LoadFiles(a, j, b)
	if err != nil {
		t.Fatalf("LoadFiles: %v", err)
	}
	if diff := cmp.Diff([]string{"a", "c", "b", "default"}, p.RuleNames()); diff != "" {
		t.Errorf("RuleNames (-want +got):\n%s", diff)
	}

	_, err = LoadFiles(a)
	if err == nil || !strings.Contains(err.Error(), "no default block") {
		t.Errorf("LoadFiles without a default = %v; want a missing default error", err)
	}
	_, err = LoadFiles(b, b)
	if err == nil || !strings.Contains(err.Error(), "default block is defined twice") {
		t.Errorf("LoadFiles with two defaults = %v; want a duplicate default error", err)
	}
	_, err = LoadFiles(a, dup, b)
	want := dup + `:1,6: rule "a" is defined twice, first at ` + a + ":1,1-9"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("LoadFiles with a duplicate rule = %v; want %q", err, want)
	}
	_, err = LoadFiles(filepath.Join(dir, "missing.hcl"))
	var loadErr *LoadError
	if !errors.As(err, &loadErr) {
		t.Errorf("LoadFiles of a missing file = %v; want a *LoadError", err)
	}
	if _, err := LoadFiles(); err == nil {
		t.Error("LoadFiles() succeeded; want an error")
	}
}

func TestDecodeEmbeddedBody(t *testing.T) {
	src := `
listen = "127.0.0.1:0"
rule "r" {
  outcome = "accept"
}
default {
  outcome = "reject"
}
`
	file, diags := parseForTest(src)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	schema := &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "listen"}}}
	_, rest, diags := file.Body.PartialContent(schema)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	p, diags := Decode(rest, "registrar.hcl")
	if diags.HasErrors() {
		t.Fatalf("Decode: %v", diags)
	}
	if diff := cmp.Diff([]string{"r", "default"}, p.RuleNames()); diff != "" {
		t.Errorf("RuleNames (-want +got):\n%s", diff)
	}
}
