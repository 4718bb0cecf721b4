// Package hclcheck screens configuration source before the HCL parser sees
// it. The parser of github.com/hashicorp/hcl/v2 (v2.25.0) recurses once per
// nesting level, so a file of a few hundred kilobytes of nested brackets,
// blocks, template interpolations or unary operators ends the process with
// a Go stack overflow, which no caller can recover from. Every loader of HCL
// or HCL JSON files in this module reads its files through this package,
// which rejects a file that is larger than MaxSize or that nests deeper than
// MaxDepth with one error that names the file and line. SuggestTopLevel
// completes the decoders' diagnostics with the name that a typo meant.
package hclcheck

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// Limits of a configuration file. A file of every kind in this module is a
// few kilobytes and nests fewer than ten levels.
const (
	// MaxSize is the largest file, in bytes, that the loaders accept.
	MaxSize = 1 << 20

	// MaxDepth is the deepest nesting of ( [ { and template
	// interpolations ${ } and %{ }, counted outside comments and literal
	// template text. A run of unary operators (! or -) counts one level
	// per operator.
	MaxDepth = 100

	// MaxOperators is the largest number of operator characters in one
	// item: an attribute, an object element or a list element. The parser
	// builds one tree level per binary operator, and evaluation recurses
	// through them.
	MaxOperators = 10000
)

// ErrTooLarge and ErrTooDeep are the causes of the errors of Check, which
// callers match with errors.Is on the diagnostic's Extra value.
var (
	ErrTooLarge = errors.New("hclcheck: file is too large")
	ErrTooDeep  = errors.New("hclcheck: file nests too deeply")
)

// Check returns an error diagnostic when src is larger than MaxSize, nests
// deeper than MaxDepth or has more than MaxOperators operators in one item.
// JSON source, as named by isJSON, is scanned by the rules of HCL's JSON
// syntax. filename names the source in the diagnostic.
func Check(src []byte, filename string, isJSON bool) hcl.Diagnostics {
	if len(src) > MaxSize {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary: fmt.Sprintf("file is larger than %d bytes; configuration files are "+
				"limited to %d bytes", MaxSize, MaxSize),
			Subject: &hcl.Range{Filename: filename, Start: hcl.InitialPos,
				End: hcl.InitialPos},
			Extra: ErrTooLarge,
		}}
	}
	s := &scanner{src: src, line: 1, column: 1}
	if isJSON {
		s.scanJSON()
	} else {
		s.scanNative()
	}
	if s.err == "" {
		return nil
	}
	pos := hcl.Pos{Line: s.errLine, Column: s.errColumn, Byte: s.errByte}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  s.err,
		Subject:  &hcl.Range{Filename: filename, Start: pos, End: pos},
		Extra:    ErrTooDeep,
	}}
}

// Cause returns the sentinel error (ErrTooLarge or ErrTooDeep) of a
// diagnostic from Check, or nil for any other diagnostic.
func Cause(d *hcl.Diagnostic) error {
	if err, ok := d.Extra.(error); ok {
		return err
	}
	return nil
}

// ReadFile reads at most MaxSize+1 bytes of path and checks them. A file
// that cannot be read gets an error diagnostic as from hclparse.
func ReadFile(path string, isJSON bool) ([]byte, hcl.Diagnostics) {
	f, err := os.Open(path)
	if err != nil {
		return nil, readError(path, err)
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, readError(path, err)
	}
	if diags := Check(src, path, isJSON); diags.HasErrors() {
		return nil, diags
	}
	return src, nil
}

func readError(path string, err error) hcl.Diagnostics {
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Failed to read file",
		Detail:   fmt.Sprintf("The configuration file %q could not be read: %v.", path, err),
	}}
}

// ParseHCLFile reads, checks and parses the native-syntax file path with
// p, in place of p.ParseHCLFile(path).
func ParseHCLFile(p *hclparse.Parser, path string) (*hcl.File, hcl.Diagnostics) {
	src, diags := ReadFile(path, false)
	if diags.HasErrors() {
		return nil, diags
	}
	return p.ParseHCL(src, path)
}

// ParseJSONFile reads, checks and parses the JSON-syntax file path with p,
// in place of p.ParseJSONFile(path).
func ParseJSONFile(p *hclparse.Parser, path string) (*hcl.File, hcl.Diagnostics) {
	src, diags := ReadFile(path, true)
	if diags.HasErrors() {
		return nil, diags
	}
	return p.ParseJSON(src, path)
}

// ParseHCL checks and parses native-syntax source with p, in place of
// p.ParseHCL(src, filename).
func ParseHCL(p *hclparse.Parser, src []byte, filename string) (*hcl.File, hcl.Diagnostics) {
	if diags := Check(src, filename, false); diags.HasErrors() {
		return nil, diags
	}
	return p.ParseHCL(src, filename)
}
