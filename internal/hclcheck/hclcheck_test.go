package hclcheck

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2/hclparse"
)

func TestCheck(t *testing.T) {
	deep := func(open, close string, n int) string {
		return strings.Repeat(open, n) + strings.Repeat(close, n)
	}
	tests := []struct {
		name   string
		src    string
		isJSON bool
		// wantErr is nil for accepted source.
		wantErr  error
		wantLine int
	}{
		{name: "policy", src: "rule \"a\" {\n  serial = \"A-*\"\n  outcome = \"accept\"\n}\n" +
			"default {\n  outcome = \"reject\"\n}\n"},
		{name: "brackets at limit", src: "x = " + deep("[", "]", MaxDepth) + "\n"},
		{name: "brackets over limit", src: "a = 1\nx = " + deep("[", "]", MaxDepth+1),
			wantErr: ErrTooDeep, wantLine: 2},
		{name: "60000 brackets", src: "x = " + deep("[", "]", 60000), wantErr: ErrTooDeep,
			wantLine: 1},
		{name: "parentheses", src: "x = " + deep("(", ")", MaxDepth+1), wantErr: ErrTooDeep,
			wantLine: 1},
		{name: "blocks", src: deep("a {\n", "}\n", MaxDepth+1), wantErr: ErrTooDeep,
			wantLine: MaxDepth + 1},
		{name: "quoted templates",
			src:     "x = " + deep("\"${", "}\"", MaxDepth+1),
			wantErr: ErrTooDeep, wantLine: 1},
		{name: "directives", src: "x = " + deep("\"%{ if ", "}\"", MaxDepth+1),
			wantErr: ErrTooDeep, wantLine: 1},
		{name: "brackets in a string", src: "x = \"" + strings.Repeat("[({", 500) + "\"\n"},
		{name: "escaped interpolation", src: "x = \"" + strings.Repeat("$${", 500) + "\"\n"},
		{name: "brackets in comments",
			src: "# " + strings.Repeat("[", 500) + "\n// " + strings.Repeat("(", 500) +
				"\n/* " + strings.Repeat("{", 500) + " */\nx = 1\n"},
		{name: "brackets in a heredoc",
			src: "x = <<EOT\n" + strings.Repeat("[", 500) + "\n  EOT\ny = [1]\n"},
		{name: "interpolations in a heredoc",
			src:     "x = <<-EOT\n" + deep("${[", "]}", MaxDepth) + "\nEOT\n",
			wantErr: ErrTooDeep, wantLine: 2},
		{name: "unary operators", src: "x = " + strings.Repeat("!", MaxDepth+1) + "true",
			wantErr: ErrTooDeep, wantLine: 1},
		{name: "negative numbers", src: "x = [-1, - 2, !true, 3 - -4]\n"},
		{name: "operator chain",
			src:     "x = 1" + strings.Repeat("+1", MaxOperators) + "\n",
			wantErr: ErrTooDeep, wantLine: 1},
		{name: "splat chain", src: "x = a" + strings.Repeat("[*]", MaxOperators+1) + "\n",
			wantErr: ErrTooDeep, wantLine: 1},
		{name: "operators in many attributes",
			src: strings.Repeat("x = 1+1+1+1\n", MaxOperators)},
		{name: "operators in many elements",
			src: "x = [" + strings.Repeat("1+1+1+1,\n", MaxOperators) + "]\n"},
		{name: "too large", src: strings.Repeat("#\n", MaxSize/2+1), wantErr: ErrTooLarge,
			wantLine: 1},
		{name: "json", src: `{"rule": {"a": {"serial": "A-*", "outcome": "accept"}}}`,
			isJSON: true},
		{name: "json deep", src: deep("[", "]", MaxDepth+1), isJSON: true,
			wantErr: ErrTooDeep, wantLine: 1},
		{name: "json brackets in a string", isJSON: true,
			src: `{"x": "` + strings.Repeat("[", 500) + `"}`, wantErr: ErrTooDeep, wantLine: 1},
		{name: "json balanced text", isJSON: true,
			src: `{"x": "` + strings.Repeat("[a] (b) ", 500) + `"}`},
		{name: "json template", isJSON: true,
			src: `{"x": "${` + strings.Repeat("!", MaxDepth+1) + `true}"}`, wantErr: ErrTooDeep,
			wantLine: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			diags := Check([]byte(tt.src), "test.hcl", tt.isJSON)
			if tt.wantErr == nil {
				if diags.HasErrors() {
					t.Fatalf("Check: %v", diags)
				}
				return
			}
			if len(diags) != 1 {
				t.Fatalf("Check returned %d diagnostics, want 1: %v", len(diags), diags)
			}
			if got := Cause(diags[0]); !errors.Is(got, tt.wantErr) {
				t.Errorf("Cause = %v, want %v", got, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantLine, diags[0].Subject.Start.Line); diff != "" {
				t.Errorf("line (-want +got):\n%s", diff)
			}
			if got := diags[0].Subject.Filename; got != "test.hcl" {
				t.Errorf("filename = %q, want test.hcl", got)
			}
		})
	}
}

func TestParseHCLFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.hcl")
	bad := filepath.Join(dir, "bad.hcl")
	huge := filepath.Join(dir, "huge.hcl")
	write := func(path, src string) {
		if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(good, "x = [1, 2]\n")
	write(bad, "x = "+strings.Repeat("[", 60000)+strings.Repeat("]", 60000))
	write(huge, strings.Repeat(" ", 4*MaxSize))
	tests := []struct {
		name    string
		path    string
		wantErr error
		wantAny bool
	}{
		{name: "good", path: good},
		{name: "deep", path: bad, wantErr: ErrTooDeep},
		{name: "huge", path: huge, wantErr: ErrTooLarge},
		{name: "missing", path: filepath.Join(dir, "missing.hcl"), wantAny: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, diags := ParseHCLFile(hclparse.NewParser(), tt.path)
			switch {
			case tt.wantErr == nil && !tt.wantAny:
				if diags.HasErrors() || f == nil {
					t.Fatalf("ParseHCLFile: %v", diags)
				}
			case tt.wantAny:
				if !diags.HasErrors() {
					t.Fatal("ParseHCLFile returned no error")
				}
			default:
				if !diags.HasErrors() || !errors.Is(Cause(diags[0]), tt.wantErr) {
					t.Fatalf("ParseHCLFile: %v, want %v", diags, tt.wantErr)
				}
			}
		})
	}
}
