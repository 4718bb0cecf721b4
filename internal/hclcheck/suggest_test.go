package hclcheck

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

func TestClosestName(t *testing.T) {
	names := []string{"listen", "radius", "masa_client", "manufacturer", "rule", "default"}
	tests := []struct{ name, want string }{
		{"radisu", "radius"},
		{"masa_clent", "masa_client"},
		{"lisen", "listen"},
		{"defualt", "default"},
		{"rul", "rule"},
		{"listen", ""}, // an exact match needs no suggestion
		{"zzz", ""},    // nothing is close
		{"ab", ""},     // nothing is within two edits
		{"lisetn", "listen"},
		{"manufactuers", "manufacturer"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ClosestName(tt.name, names); got != tt.want {
				t.Errorf("ClosestName(%q) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

func TestSuggestTopLevel(t *testing.T) {
	src := "radisu {\n  clinet = 1\n}\nlisen = 1\n"
	f, diags := hclparse.NewParser().ParseHCL([]byte(src), "test.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	schema := &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "rule"}}}
	_, diags = f.Body.Content(schema)
	nested := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unsupported argument",
		Detail:  `An argument named "clinet" is not expected here.`,
		Subject: &hcl.Range{Filename: "test.hcl", Start: hcl.Pos{Line: 2, Column: 3, Byte: 11}}}
	diags = append(diags, nested)
	diags = SuggestTopLevel(f, diags, []string{"radius", "listen", "client", "rule"})

	want := map[string]string{
		"radisu": `Blocks of type "radisu" are not expected here. Did you mean "radius"?`,
		"lisen":  `An argument named "lisen" is not expected here. Did you mean "listen"?`,
		"clinet": `An argument named "clinet" is not expected here.`,
	}
	if len(diags) != len(want) {
		t.Fatalf("got %d diagnostics, want %d: %v", len(diags), len(want), diags)
	}
	for _, d := range diags {
		found := false
		for name, detail := range want {
			if d.Detail == detail {
				found = true
				delete(want, name)
			}
		}
		if !found {
			t.Errorf("unexpected detail %q", d.Detail)
		}
	}
	for name := range want {
		t.Errorf("no diagnostic for %q with the wanted detail", name)
	}
}
