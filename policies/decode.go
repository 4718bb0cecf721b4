package policies

import (
	"fmt"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/brski-eap/brski/internal/hclcheck"
)

// BodySchema lists the top-level blocks of a policy: rule blocks, each
// with a name label, and one default block. A configuration that embeds a
// policy, such as the registrar's, can pass it to PartialContent or merge
// it into its own schema.
var BodySchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "rule", LabelNames: []string{"name"}},
		{Type: "default"},
	},
}

// LoadError is the error of LoadFiles. It lists every problem of every
// file, each with its file, line and column.
type LoadError struct {
	Diagnostics hcl.Diagnostics
}

// Error returns one line per problem.
func (e *LoadError) Error() string {
	lines := make([]string, 0, len(e.Diagnostics))
	for _, d := range e.Diagnostics {
		if d.Severity == hcl.DiagError {
			lines = append(lines, FormatDiagnostic(d))
		}
	}
	return "policies: " + strings.Join(lines, "\npolicies: ")
}

// FormatDiagnostic returns d as "file:line,column: summary", followed by
// "; detail" when d has a detail, as compilers print errors.
func FormatDiagnostic(d *hcl.Diagnostic) string {
	msg := d.Summary
	if d.Detail != "" {
		msg += "; " + d.Detail
	}
	if d.Subject == nil {
		return msg
	}
	s := d.Subject.Start
	return fmt.Sprintf("%s:%d,%d: %s", d.Subject.Filename, s.Line, s.Column, msg)
}

// LoadFiles reads and decodes the policy files in order, as if they were
// one file: their rules are evaluated in the order of the paths, and
// exactly one of them contains the default block. Files whose name ends in
// ".json" are read as HCL's JSON syntax. The error is a *LoadError.
func LoadFiles(paths ...string) (*Policy, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("policies: no policy file is given")
	}
	parser := hclparse.NewParser()
	var diags hcl.Diagnostics
	var bodies []hcl.Body
	for _, path := range paths {
		var file *hcl.File
		var fileDiags hcl.Diagnostics
		if strings.EqualFold(filepath.Ext(path), ".json") {
			file, fileDiags = hclcheck.ParseJSONFile(parser, path)
		} else {
			file, fileDiags = hclcheck.ParseHCLFile(parser, path)
		}
		diags = append(diags, fileDiags...)
		if file != nil && !fileDiags.HasErrors() {
			bodies = append(bodies, file.Body)
		}
	}
	if diags.HasErrors() {
		return nil, &LoadError{Diagnostics: diags}
	}
	p, decodeDiags := decodeBodies(bodies, paths[len(paths)-1])
	if decodeDiags.HasErrors() {
		return nil, &LoadError{Diagnostics: decodeDiags}
	}
	return p, nil
}

// Decode decodes a policy from body, which must contain only the blocks
// of BodySchema. filename names the source in the error about a missing
// default block when body carries no file name itself. Decode reports
// every problem that it finds and returns a nil Policy when there is any
// error.
func Decode(body hcl.Body, filename string) (*Policy, hcl.Diagnostics) {
	return decodeBodies([]hcl.Body{body}, filename)
}

// decodeBodies decodes bodies as one policy. A missing default block is
// reported at the start of the last body, or in source when that body has
// no file name.
func decodeBodies(bodies []hcl.Body, source string) (*Policy, hcl.Diagnostics) {
	acc := &accumulator{policy: &Policy{}, seen: map[string]hcl.Range{}}
	for _, body := range bodies {
		acc.addBody(body)
	}
	missing := bodies[len(bodies)-1].MissingItemRange()
	if missing.Filename == "" {
		missing.Filename = source
	}
	diags := append(acc.diags, checkDefaults(acc.defaultRanges, missing)...)
	diags = explainBareWords(diags)
	if diags.HasErrors() {
		return nil, diags
	}
	acc.policy.def = acc.defaults[0]
	return acc.policy, diags
}

// accumulator collects the rules of several bodies into one policy.
type accumulator struct {
	policy        *Policy
	seen          map[string]hcl.Range // rule names and where they are defined
	defaults      []*rule
	defaultRanges []hcl.Range
	diags         hcl.Diagnostics
}

func (a *accumulator) addBody(body hcl.Body) {
	content, diags := body.Content(BodySchema)
	a.diags = append(a.diags, diags...)
	if content == nil {
		return
	}
	for _, block := range content.Blocks {
		if block.Type == "default" {
			a.defaultRanges = append(a.defaultRanges, block.DefRange)
		}
		r, ruleDiags := decodeRuleBlock(block)
		a.diags = append(a.diags, ruleDiags...)
		switch {
		case r == nil:
		case r.isDefault:
			a.defaults = append(a.defaults, r)
		default:
			a.addRule(r, block)
		}
	}
}

func (a *accumulator) addRule(r *rule, block *hcl.Block) {
	if first, dup := a.seen[r.name]; dup {
		a.diags = append(a.diags, errorAt(block.LabelRanges[0],
			"rule %q is defined twice, first at %s; give each rule its own name",
			r.name, first.String()))
		return
	}
	a.seen[r.name] = block.DefRange
	a.policy.rules = append(a.policy.rules, r)
}

// checkDefaults reports a missing or repeated default block. It counts
// blocks rather than decoded rules, so that an invalid default block is
// not reported as missing too. missing is where to report a missing one.
func checkDefaults(ranges []hcl.Range, missing hcl.Range) hcl.Diagnostics {
	if len(ranges) == 0 {
		return hcl.Diagnostics{errorAt(missing, "no default block; add default { outcome = "+
			"\"reject\" } or another outcome for devices that no rule matches")}
	}
	var diags hcl.Diagnostics
	for _, rng := range ranges[1:] {
		diags = append(diags, errorAt(rng, "default block is defined twice, first at %s; "+
			"keep one", ranges[0].String()))
	}
	return diags
}

func decodeRuleBlock(block *hcl.Block) (*rule, hcl.Diagnostics) {
	if block.Type == "default" {
		return decodeRule(block.Body, DefaultRuleName, true, block.DefRange)
	}
	name := block.Labels[0]
	if err := checkRuleName(name); err != "" {
		return nil, hcl.Diagnostics{errorAt(block.LabelRanges[0], "rule %q: %s", name, err)}
	}
	return decodeRule(block.Body, name, false, block.DefRange)
}

func checkRuleName(name string) string {
	if strings.TrimSpace(name) == "" {
		return "the rule name is empty; name the rule, such as rule \"lab-switches\""
	}
	if name == DefaultRuleName {
		return "the name \"default\" is reserved for the default block"
	}
	for _, c := range name {
		if !unicode.IsPrint(c) {
			return "the rule name contains a control character"
		}
	}
	return ""
}

func errorAt(rng hcl.Range, format string, args ...any) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf(format, args...),
		Subject:  rng.Ptr(),
	}
}
