package main

import (
	"strings"
	"testing"
)

func TestBenchGroupUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		// want is a part of the error that names the problem and the fix.
		want string
	}{
		{"upper case", []string{"--ldevid", "d", "--group", "P256"},
			`invalid --group "P256"; use p256 or x25519`},
		{"empty", []string{"--ldevid", "d", "--group", ""},
			`invalid --group ""; use p256 or x25519`},
		{"unsupported group", []string{"--ldevid", "d", "--group", "x448"},
			`invalid --group "x448"; use p256 or x25519`},
		{"with eap-est", []string{"--method", "eap-est", "--factory", "f",
			"--group", "x25519"}, "--group applies to --method eap-tls only"},
		{"default with eap-est", []string{"--method", "eap-est", "--factory", "f",
			"--group", "p256"}, "--group applies to --method eap-tls only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"bench", "--secret-file", "s"}, tt.args...)
			code, _, stderr := runBrski(args...)
			if code != 2 {
				t.Errorf("exit code %d, want 2; stderr %s", code, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q lacks %q", stderr, tt.want)
			}
		})
	}
}
