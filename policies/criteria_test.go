package policies

import (
	"strings"
	"testing"
	"time"
)

func TestCriteria(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		facts  func(*Facts)
		wantOK bool // whether rule "r" decides, rather than the default
	}{
		{"manufacturer name", `manufacturer = "ACME"`, nil, true},
		{"manufacturer other", `manufacturer = ["printco", "sensorworks"]`, nil, false},
		{"manufacturer key id", `manufacturer = "4a:6f:1c:9e"`, nil, true},
		{"manufacturer key id other", `manufacturer = "4a:6f:1c:9f"`, nil, false},
		{"manufacturer no name", `manufacturer = "acme"`,
			func(f *Facts) { f.Device.Manufacturer = "" }, false},
		{"model glob", `model = "EX-*"`, nil, true},
		{"model glob other", `model = ["QFX-*", "MX?"]`, nil, false},
		{"serial exact", `serial = "00-D0-E5-F2-00-02"`, nil, true},
		{"serial exact is not prefix", `serial = "00-D0-E5-F2-00"`, nil, false},
		{"serial glob", `serial = "00-D0-E5-*"`, nil, true},
		{"serial question mark", `serial = "00-D0-E5-F2-00-0?"`, nil, true},
		{"serial escaped star", `serial = "00-D0-E5-\\*"`, nil, false},
		{"fingerprint", `idevid_fingerprint = "AA:00:00:00:00:00:00:00:00:00:00:00:00:00:00:` +
			`00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:01"`, nil, true},
		{"fingerprint other", `idevid_fingerprint = "` + strings.Repeat("b", 64) + `"`,
			nil, false},
		{"expected", `expected = true`, nil, true},
		{"expected but not listed", `expected = true`,
			func(f *Facts) { f.Device.Expected = false }, false},
		{"not expected", `expected = false`,
			func(f *Facts) { f.Device.Expected = false }, true},
		{"not expected but listed", `expected = false`, nil, false},
		{"tags all present", `tags = ["core", "floor-2"]`, nil, true},
		{"tags one missing", `tags = ["core", "floor-3"]`, nil, false},
		{"tags need expected", `tags = "core"`,
			func(f *Facts) { f.Device.Expected = false }, false},
		{"nas client", `nas_client = "lab-*"`, nil, true},
		{"nas client other", `nas_client = "core-*"`, nil, false},
		{"nas identifier", `nas_identifier = "*.lab.example"`, nil, true},
		{"nas identifier other", `nas_identifier = "*.campus.example"`, nil, false},
		{"nas port star crosses slash", `nas_port = "Gi*"`, nil, true},
		{"nas port other", `nas_port = "Gi1/0/1?"`,
			func(f *Facts) { f.NAS.PortID = "Gi1/0/2" }, false},
		{"called station", `called_station = "00-11-22-*"`, nil, true},
		{"calling station other", `calling_station = "AA-*"`, nil, false},
		{"empty pattern matches https", `nas_client = ""`,
			func(f *Facts) { f.NAS = NASFacts{} }, true},
		{"empty pattern rejects nas", `nas_client = ""`, nil, false},
		{"not before", `not_before = "2026-03-04T10:30:00Z"`, nil, true},
		{"not before later", `not_before = "2026-03-04T10:30:01Z"`, nil, false},
		{"not after", `not_after = "2026-03-04T10:30:00Z"`, nil, true},
		{"not after earlier", `not_after = "2026-03-04T11:29:59+01:00"`, nil, false},
		{"zero time fails window", `not_before = "2020-01-01T00:00:00Z"`,
			func(f *Facts) { f.Time = time.Time{} }, false},
		{"weekday", `weekdays = ["Mon", "wednesday"]`, nil, true},
		{"weekday other", `weekdays = ["sat", "sun"]`, nil, false},
		{"hours", `hours = "10:30-10:31"`, nil, true},
		{"hours end exclusive", `hours = "08:00-10:30"`, nil, false},
		{"hours wrap midnight", `hours = "22:00-11:00"`, nil, true},
		{"hours wrap other", `hours = "22:00-06:00"`, nil, false},
		{"hours in time zone", "hours = \"11:00-12:00\"\ntime_zone = \"Europe/Berlin\"",
			nil, true},
		{"weekday in time zone", "weekdays = \"thu\"\ntime_zone = \"Pacific/Kiritimati\"",
			nil, true},
		{"assertion", `assertion = ["verified", "logged"]`, nil, true},
		{"assertion other", `assertion = "verified"`, nil, false},
		{"assertion no voucher", `assertion = "logged"`,
			func(f *Facts) { f.MASA.VoucherObtained = false }, false},
		{"voucher with nonce", `nonceless_voucher = false`, nil, true},
		{"voucher without nonce", `nonceless_voucher = false`,
			func(f *Facts) { f.MASA.Nonceless = true }, false},
		{"nonceless voucher wanted", `nonceless_voucher = true`,
			func(f *Facts) { f.MASA.Nonceless = true }, true},
		{"nonceless voucher missing", `nonceless_voucher = true`, nil, false},
		{"all criteria match", "manufacturer = \"acme\"\nmodel = \"EX-*\"\n" +
			"nas_client = \"lab-*\"\nassertion = \"logged\"", nil, true},
		{"one criterion fails", "manufacturer = \"acme\"\nmodel = \"EX-*\"\n" +
			"nas_client = \"core-*\"", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parsePolicy(t, ruleThenReject(tt.body))
			f := deviceFacts()
			if tt.facts != nil {
				tt.facts(&f)
			}
			got := p.Evaluate(f)
			if gotOK := got.Rule == "r"; gotOK != tt.wantOK {
				t.Errorf("Evaluate picked rule %q (%s); want rule r: %v", got.Rule,
					got.Reason, tt.wantOK)
			}
		})
	}
}

func TestAuditLogCriteria(t *testing.T) {
	const other = "T3RoZXJEb21haW4="
	day := 24 * time.Hour
	tests := []struct {
		name       string
		audit      string
		facts      func(Facts) Facts
		wantReason string // empty when rule "r" must decide
	}{
		{"no other domains", "other_domains = 0", nil, ""},
		{"other domain", "other_domains = 0",
			func(f Facts) Facts { return withOther(f, other, 2*day, false) },
			`audit log shows 1 prior domain other than ours: T3RoZXJEb21haW4= on ` +
				`2026-03-02T10:30:00Z`},
		{"other domain allowed", "other_domains = 1",
			func(f Facts) Facts { return withOther(f, other, 2*day, false) }, ""},
		{"same domain counts once", "other_domains = 1",
			func(f Facts) Facts {
				return withOther(withOther(f, other, 9*day, false), other, 2*day, false)
			}, ""},
		{"two other domains", "other_domains = 1",
			func(f Facts) Facts {
				return withOther(withOther(f, other, 9*day, false), "second", 2*day, false)
			},
			`audit log shows 2 prior domains other than ours (other_domains allows 1): ` +
				`T3RoZXJEb21haW4= on 2026-02-23T10:30:00Z, second on 2026-03-02T10:30:00Z`},
		{"nonceless by others", "nonceless_by_others = false",
			func(f Facts) Facts { return withOther(f, other, 2*day, true) },
			`audit log shows a nonceless voucher for other domain T3RoZXJEb21haW4= on ` +
				`2026-03-02T10:30:00Z`},
		{"nonceless by others allowed", "nonceless_by_others = true",
			func(f Facts) Facts { return withOther(f, other, 2*day, true) }, ""},
		{"nonceless by ourselves", "nonceless_by_others = false",
			func(f Facts) Facts { return withOther(f, ourDomain, 2*day, true) }, ""},
		{"max age ignores old entries", "other_domains = 0\nmax_age = \"30d\"",
			func(f Facts) Facts { return withOther(f, other, 31*day, true) }, ""},
		{"max age keeps young entries", "other_domains = 0\nmax_age = \"30d\"",
			func(f Facts) Facts { return withOther(f, other, 29*day, false) },
			"audit log shows 1 prior domain other than ours: T3RoZXJEb21haW4= on " +
				"2026-02-03T10:30:00Z"},
		{"min age rejects recent claim", "other_domains = 1\nmin_age = \"720h\"",
			func(f Facts) Facts { return withOther(f, other, 29*day, false) },
			"audit log shows a claim by other domain T3RoZXJEb21haW4= on " +
				"2026-02-03T10:30:00Z, more recent than min_age 720h0m0s"},
		{"min age passes old claim", "other_domains = 1\nmin_age = \"720h\"",
			func(f Facts) Facts { return withOther(f, other, 31*day, false) }, ""},
		{"arbitrary truncation", "arbitrary_truncation = false",
			func(f Facts) Facts { f.MASA.ArbitraryTruncation = 2; return f },
			"audit log had 2 entries removed by arbitrary truncation, which may hide " +
				"other domains"},
		{"arbitrary truncation allowed", "arbitrary_truncation = true",
			func(f Facts) Facts { f.MASA.ArbitraryTruncation = 2; return f }, ""},
		{"log not read", "other_domains = 0",
			func(f Facts) Facts { f.MASA.AuditLogFetched = false; return f },
			"the MASA audit log was not read"},
		{"age without time", "max_age = \"1d\"",
			func(f Facts) Facts { f.Time = time.Time{}; return f },
			"no evaluation time is given to compute the age of audit log entries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parsePolicy(t, ruleThenReject("audit_log {\n"+tt.audit+"\n}"))
			f := deviceFacts()
			if tt.facts != nil {
				f = tt.facts(f)
			}
			got := p.Evaluate(f)
			if tt.wantReason == "" {
				if got.Rule != "r" {
					t.Errorf("Evaluate picked rule %q (%s); want r", got.Rule, got.Reason)
				}
				return
			}
			if got.Rule != DefaultRuleName || got.Outcome != OutcomeReject {
				t.Errorf("Evaluate = rule %q, %v; want default, reject", got.Rule, got.Outcome)
			}
			want := `no rule matched, so the default block applies; rule "r" did not ` +
				`match: ` + tt.wantReason
			if got.Reason != want {
				t.Errorf("Reason:\ngot  %s\nwant %s", got.Reason, want)
			}
		})
	}
}

func TestAuditLogListsAtMostThreeDomains(t *testing.T) {
	p := parsePolicy(t, ruleThenReject("audit_log {\nother_domains = 0\n}"))
	f := deviceFacts()
	for _, d := range []string{"d1", "d2", "d3", "d4", "d5"} {
		f = withOther(f, d, time.Hour, false)
	}
	got := p.Evaluate(f).Reason
	want := "audit log shows 5 prior domains other than ours: d1 on 2026-03-04T09:30:00Z, " +
		"d2 on 2026-03-04T09:30:00Z, d3 on 2026-03-04T09:30:00Z, and 2 more"
	if !strings.HasSuffix(got, want) {
		t.Errorf("Reason:\ngot  %s\nwant suffix %s", got, want)
	}
}
