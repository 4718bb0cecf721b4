package hclcheck

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclparse"
)

// FuzzCheck parses and evaluates every source that Check accepts, so an
// input that passes the check and still overflows the parser's stack ends
// the fuzzer with a crash.
func FuzzCheck(f *testing.F) {
	for _, seed := range []string{
		"x = [1, (2), {a = 3}]\n",
		"rule \"a\" {\n  serial = \"${x}\"\n}\n",
		"x = <<EOT\n${[1]}\nEOT\n",
		"x = \"%{ if true }${\"a\"}%{ endif }\"\n",
		"# [[[\n/* ((( */ x = !-1\n",
		"x = " + strings.Repeat("[", 60) + strings.Repeat("]", 60),
		`{"x": "${[1]}"}`,
	} {
		f.Add([]byte(seed), false)
	}
	f.Add([]byte(`{"rule": {"a": {"serial": "${[(1)]}"}}}`), true)
	f.Fuzz(func(t *testing.T, src []byte, isJSON bool) {
		if Check(src, "fuzz.hcl", isJSON).HasErrors() {
			return
		}
		p := hclparse.NewParser()
		parse := p.ParseHCL
		if isJSON {
			parse = p.ParseJSON
		}
		file, diags := parse(src, "fuzz.hcl")
		if diags.HasErrors() || file == nil {
			return
		}
		attrs, _ := file.Body.JustAttributes()
		for _, a := range attrs {
			_, _ = a.Expr.Value(nil)
		}
	})
}
