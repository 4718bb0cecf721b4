package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/brski-eap/brski/internal/hclcheck"
	"github.com/brski-eap/brski/policies"
	"github.com/brski-eap/brski/registrar"
)

// configKind is a kind of configuration file that "brski config check"
// validates. Each kind registers itself with registerConfigKind from the
// file of its subcommand.
type configKind struct {
	// Name is the value of --kind, such as "policy".
	Name string

	// Markers are top-level block types or attribute names that identify
	// a file of this kind when --kind is not given.
	Markers []string

	// Embeds names the kinds whose markers a file of this kind may also
	// contain, such as policy rules inside a registrar file. A file that
	// matches both kinds is then of this kind.
	Embeds []string

	// SharedMarkers are names that this kind shares with other kinds, such
	// as listen. They identify a file of this kind when no kind other than
	// the embedded ones matches by Markers.
	SharedMarkers []string

	// Check validates a parsed file without starting anything and returns
	// every problem.
	Check func(path string, file *hcl.File) hcl.Diagnostics
}

var configKinds = map[string]configKind{}

// registerConfigKind adds a kind for "brski config check". It panics on a
// duplicate name, which is a programming error.
func registerConfigKind(k configKind) {
	if _, ok := configKinds[k.Name]; ok {
		panic("brski: duplicate config kind " + k.Name)
	}
	configKinds[k.Name] = k
}

func init() {
	registerConfigKind(configKind{
		Name:    "policy",
		Markers: []string{"rule", "default"},
		Check: func(path string, file *hcl.File) hcl.Diagnostics {
			_, diags := policies.Decode(file.Body, path)
			return diags
		},
	})
	register(command{
		Name:    "config check",
		Summary: "validate configuration files and report every error with file:line",
		Run:     runConfigCheck,
	})
}

func runConfigCheck(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("config check", stderr)
	kind := fs.String("kind", "", "kind of every FILE: "+strings.Join(configKindNames(), ", ")+
		" (default: detected from the top-level blocks of each file)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: brski config check [--kind KIND] FILE...")
		fs.PrintDefaults()
	}
	paths, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		fs.Usage()
		return &exitError{code: 2, err: errors.New("brski config check: no FILE given")}
	}
	if *kind != "" {
		if _, ok := configKinds[*kind]; !ok {
			return &exitError{code: 2, err: fmt.Errorf("brski config check: unknown kind %q; "+
				"use one of %s", *kind, strings.Join(configKindNames(), ", "))}
		}
	}
	failed := 0
	for _, path := range paths {
		if !checkConfigFile(path, *kind, stdout, stderr) {
			failed++
		}
	}
	if failed > 0 {
		return &exitError{code: 1, err: fmt.Errorf("brski config check: %d of %d files are "+
			"invalid", failed, len(paths))}
	}
	return nil
}

// checkConfigFile parses and checks one file, prints "PATH: ok" to stdout
// or every error to stderr, and reports whether the file is valid. Warnings
// go to stderr too, marked "warning:", and leave the file valid.
func checkConfigFile(path, kindName string, stdout, stderr io.Writer) bool {
	parser := hclparse.NewParser()
	var file *hcl.File
	var diags hcl.Diagnostics
	isJSON := strings.EqualFold(filepath.Ext(path), ".json")
	if isJSON {
		file, diags = hclcheck.ParseJSONFile(parser, path)
	} else {
		file, diags = hclcheck.ParseHCLFile(parser, path)
	}
	if !diags.HasErrors() {
		kind, err := resolveConfigKind(file, isJSON, kindName)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", path, err)
			return false
		}
		diags = append(diags, kind.Check(path, file)...)
	}
	valid := true
	for _, d := range diags {
		switch d.Severity {
		case hcl.DiagError:
			valid = false
		case hcl.DiagWarning:
			warning := *d
			warning.Summary = "warning: " + d.Summary
			d = &warning
		default:
			continue
		}
		if d.Subject == nil {
			fmt.Fprintf(stderr, "%s: %s\n", path, policies.FormatDiagnostic(d))
		} else {
			fmt.Fprintln(stderr, policies.FormatDiagnostic(d))
		}
	}
	if valid {
		fmt.Fprintf(stdout, "%s: ok\n", path)
	}
	return valid
}

// resolveConfigKind returns the kind named by --kind, or the one kind whose
// markers appear at the top level of file.
func resolveConfigKind(file *hcl.File, isJSON bool, kindName string) (configKind, error) {
	if kindName != "" {
		return configKinds[kindName], nil
	}
	names := topLevelNames(file, isJSON)
	matches := matchConfigKinds(names)
	// Drop the kinds that another match embeds.
	var outer []configKind
	for _, k := range matches {
		embedded := slices.ContainsFunc(matches, func(o configKind) bool {
			return slices.Contains(o.Embeds, k.Name)
		})
		if !embedded {
			outer = append(outer, k)
		}
	}
	switch len(outer) {
	case 1:
		return outer[0], nil
	case 0:
		return configKind{}, fmt.Errorf("cannot tell the kind of configuration from its "+
			"top-level names (%s); pass --kind with one of %s",
			strings.Join(names, ", "), strings.Join(configKindNames(), ", "))
	}
	kinds := make([]string, len(outer))
	for i, k := range outer {
		kinds[i] = k.Name
	}
	return configKind{}, fmt.Errorf("the top-level names fit the kinds %s; pass --kind "+
		"with one of them", strings.Join(kinds, ", "))
}

// matchConfigKinds returns the kinds that names fit, by Markers or by
// SharedMarkers.
func matchConfigKinds(names []string) []configKind {
	hasAny := func(markers []string) bool {
		return slices.ContainsFunc(markers, func(m string) bool { return slices.Contains(names, m) })
	}
	var strong []configKind
	for _, name := range configKindNames() {
		if k := configKinds[name]; hasAny(k.Markers) {
			strong = append(strong, k)
		}
	}
	matches := slices.Clone(strong)
	for _, name := range configKindNames() {
		k := configKinds[name]
		if hasAny(k.Markers) || !hasAny(k.SharedMarkers) {
			continue
		}
		foreign := slices.ContainsFunc(strong, func(o configKind) bool {
			return !slices.Contains(k.Embeds, o.Name)
		})
		if !foreign {
			matches = append(matches, k)
		}
	}
	return matches
}

// diagnosticsError is a configuration error printed as one problem per
// line, each with its file and line, and without a package prefix.
type diagnosticsError struct {
	diags hcl.Diagnostics
	err   error
}

func (e *diagnosticsError) Error() string {
	var lines []string
	for _, d := range e.diags {
		if d.Severity == hcl.DiagError {
			lines = append(lines, policies.FormatDiagnostic(d))
		}
	}
	return strings.Join(lines, "\n")
}

func (e *diagnosticsError) Unwrap() error { return e.err }

// configDiagnostics returns the diagnostics of a *registrar.ConfigError or
// a *policies.LoadError in err, or nil for any other error.
func configDiagnostics(err error) hcl.Diagnostics {
	var ce *registrar.ConfigError
	var le *policies.LoadError
	switch {
	case errors.As(err, &ce):
		return ce.Diagnostics
	case errors.As(err, &le):
		return le.Diagnostics
	}
	return nil
}

// plainConfigError returns err as a *diagnosticsError when it lists
// configuration problems, and err itself otherwise.
func plainConfigError(err error) error {
	if diags := configDiagnostics(err); diags != nil {
		return &diagnosticsError{diags: diags, err: err}
	}
	return err
}

// attributeRange returns the range of the top-level attribute name in
// file, or nil when the file has no such attribute.
func attributeRange(file *hcl.File, name string) *hcl.Range {
	attrs, _ := file.Body.JustAttributes()
	if a, ok := attrs[name]; ok {
		return a.Range.Ptr()
	}
	return nil
}

// topLevelNames returns the block types and attribute names at the top of
// file, sorted and without repeats.
func topLevelNames(file *hcl.File, isJSON bool) []string {
	var names []string
	if isJSON {
		var top map[string]json.RawMessage
		if json.Unmarshal(file.Bytes, &top) == nil {
			for name := range top {
				names = append(names, name)
			}
		}
	} else if body, ok := file.Body.(*hclsyntax.Body); ok {
		for _, b := range body.Blocks {
			names = append(names, b.Type)
		}
		for name := range body.Attributes {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return slices.Compact(names)
}

func configKindNames() []string {
	names := make([]string, 0, len(configKinds))
	for name := range configKinds {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
