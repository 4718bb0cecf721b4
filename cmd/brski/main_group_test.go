package main

import (
	"strings"
	"testing"
)

// TestRunGroupWithoutSubcommand runs the first word of two-word commands
// alone, as "brski COMMAND -h" in the help output invites.
func TestRunGroupWithoutSubcommand(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string // parts of stderr: the subcommands to choose from
	}{
		{"devices", []string{"devices"},
			[]string{"devices add", "devices import", "devices list", "devices remove"}},
		{"devices -h", []string{"devices", "-h"}, []string{"devices list"}},
		{"factory -h", []string{"factory", "-h"}, []string{"factory init", "factory mint"}},
		{"voucher typo", []string{"voucher", "inspekt"},
			[]string{"voucher inspect", "voucher verify"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runBrski(tt.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2; stderr %q", code, stderr)
			}
			for _, want := range tt.want {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr %q lacks %q", stderr, want)
				}
			}
		})
	}
}

func TestRunUnknownCommand(t *testing.T) {
	code, _, stderr := runBrski("frobnicate", "-h")
	if code != 2 {
		t.Errorf("exit %d, want 2; stderr %q", code, stderr)
	}
	if want := `unknown command "frobnicate -h"`; !strings.Contains(stderr, want) {
		t.Errorf("stderr %q lacks %q", stderr, want)
	}
}
