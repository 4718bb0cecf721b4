package policies

import (
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	_ "time/tzdata" // time_zone tests must not depend on the host's zoneinfo
)

// ourDomain is the domainID of the registrar in the tests.
const ourDomain = "BduJhdHPpfhQLyponf48JzXSGZ8="

// testTime is a Wednesday, 10:30 UTC.
var testTime = time.Date(2026, 3, 4, 10, 30, 0, 0, time.UTC)

// parsePolicy decodes src and fails the test on any error.
func parsePolicy(t *testing.T, src string) *Policy {
	t.Helper()
	p, diags := decodeSource(src)
	if diags.HasErrors() {
		t.Fatalf("Decode: %v", (&LoadError{Diagnostics: diags}).Error())
	}
	return p
}

func decodeSource(src string) (*Policy, hcl.Diagnostics) {
	file, diags := hclsyntax.ParseConfig([]byte(src), "policy.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	return Decode(file.Body, "policy.hcl")
}

// deviceFacts returns the facts of a registered acme switch with an
// IDevID and a fresh voucher, reached through a lab switch port.
func deviceFacts() Facts {
	return Facts{
		Device: DeviceFacts{
			Manufacturer:      "acme",
			ManufacturerKeyID: "4A6F1C9E",
			Model:             "EX-4300",
			Serial:            "00-D0-E5-F2-00-02",
			IDevIDFingerprint: "aa00000000000000000000000000000000000000000000000000000000000001",
			IDevIDPresented:   true,
			Expected:          true,
			Tags:              []string{"core", "floor-2"},
		},
		NAS: NASFacts{
			Client:           "lab-sw1",
			Identifier:       "sw1.lab.example",
			PortID:           "Gi1/0/12",
			CalledStationID:  "00-11-22-33-44-55",
			CallingStationID: "00-D0-E5-F2-00-02",
		},
		MASA: MASAFacts{
			Mode:            VoucherMASA,
			VoucherObtained: true,
			Assertion:       "logged",
			AuditLogFetched: true,
			AuditLog: []AuditEntry{
				{Date: testTime.Add(-time.Minute), DomainID: ourDomain, Assertion: "logged"},
			},
			DomainID: ourDomain,
		},
		Time: testTime,
	}
}

// withOther returns f with an audit log entry of another domain, age old.
func withOther(f Facts, domain string, age time.Duration, nonceless bool) Facts {
	log := append([]AuditEntry(nil), f.MASA.AuditLog...)
	f.MASA.AuditLog = append(log, AuditEntry{Date: f.Time.Add(-age), DomainID: domain,
		Nonceless: nonceless, Assertion: "logged"})
	return f
}

// ruleThenReject wraps the body of one accepting rule named "r" in a policy
// whose default rejects.
func ruleThenReject(body string) string {
	return "rule \"r\" {\n" + body + "\noutcome = \"accept\"\n}\n" +
		"default {\noutcome = \"reject\"\n}\n"
}

func parseForTest(src string) (*hcl.File, hcl.Diagnostics) {
	return hclsyntax.ParseConfig([]byte(src), "registrar.hcl", hcl.InitialPos)
}
