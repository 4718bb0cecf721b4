package policies

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/json"
)

// FuzzDecode feeds arbitrary bytes to the HCL and JSON parsers and to
// Decode. A policy must come back exactly when there is no error, and it
// must evaluate any facts to one of its own rules.
func FuzzDecode(f *testing.F) {
	paths, _ := filepath.Glob("../examples/policy*.hcl")
	for _, path := range paths {
		src, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte(ruleThenReject(`serial = "a*\\?"`)))
	f.Add([]byte(`{"rule": {"c": {"outcome": "accept", "vlan": 7}},
		"default": {"outcome": "reject"}}`))
	f.Fuzz(func(t *testing.T, src []byte) {
		if file, diags := hclsyntax.ParseConfig(src, "fuzz.hcl", hcl.InitialPos); !diags.HasErrors() {
			checkDecoded(t, file.Body)
		}
		if file, diags := json.Parse(src, "fuzz.json"); !diags.HasErrors() {
			checkDecoded(t, file.Body)
		}
	})
}

func checkDecoded(t *testing.T, body hcl.Body) {
	p, diags := Decode(body, "fuzz")
	if (p == nil) != diags.HasErrors() {
		t.Fatalf("Decode returned policy %v with diagnostics %v", p != nil, diags)
	}
	for _, d := range diags {
		if FormatDiagnostic(d) == "" {
			t.Fatalf("FormatDiagnostic returned nothing for %#v", d)
		}
	}
	if p == nil {
		return
	}
	names := p.RuleNames()
	noVoucher := deviceFacts()
	noVoucher.MASA = MASAFacts{}
	for _, facts := range []Facts{{}, deviceFacts(), noVoucher} {
		plan := p.Plan(facts)
		if !slices.Contains(names, plan.Rule) {
			t.Fatalf("Plan picked %q, which is not among %v", plan.Rule, names)
		}
		d := p.Evaluate(facts)
		if !slices.Contains(names, d.Rule) {
			t.Fatalf("Evaluate picked %q, which is not among %v", d.Rule, names)
		}
		if plan.Final && (d.Rule != plan.Rule || d.Outcome != plan.Outcome) {
			t.Fatalf("final Plan %+v, but Evaluate decided %q, %v", plan, d.Rule, d.Outcome)
		}
	}
}
