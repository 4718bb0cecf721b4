package policies

import (
	"testing"
)

func TestBareWordDetail(t *testing.T) {
	const def = "\ndefault {\n  outcome = \"reject\"\n}\n"
	tests := []struct {
		name, src, want string
	}{
		{"misspelled true", "rule \"r\" {\n  outcome = \"accept\"\n  expected = ture\n}" + def,
			`"ture" is not a value. Did you mean true?`},
		{"misspelled false", "rule \"r\" {\n  outcome = \"accept\"\n  expected = flase\n}" +
			def, `"flase" is not a value. Did you mean false?`},
		{"unquoted string", "rule \"r\" {\n  outcome = accept\n}" + def,
			`"accept" is not a value; write a string in quotes ("accept"), a number, ` +
				`true or false`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := decodeSource(tt.src)
			if len(diags) != 1 {
				t.Fatalf("got %d diagnostics, want 1: %v", len(diags), diags)
			}
			if got := diags[0].Detail; got != tt.want {
				t.Errorf("detail = %q, want %q", got, tt.want)
			}
		})
	}
}
