package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestPledgeEAPTLSFlagErrors(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := runBrski("init", filepath.Join(dir, "lab"), "--devices", "1")
	if code != 0 {
		t.Fatalf("init: exit %d: %s", code, stderr)
	}
	secret := filepath.Join(dir, "lab", "radius-secret")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		// wantStderr are parts of the error that name the problem and the fix.
		wantStderr []string
	}{
		{"without --radius", []string{"--eap-tls", "--out", filepath.Join(dir, "a")}, 2,
			[]string{"--eap-tls", "--radius"}},
		{"out without LDevID", []string{"--eap-tls", "--radius", "127.0.0.1:25999",
			"--secret-file", secret, "--out", filepath.Join(dir, "b")}, 1,
			[]string{filepath.Join(dir, "b"), "bootstrap first"}},
		{"identity too long", []string{"--eap-tls", "--radius", "127.0.0.1:25999",
			"--secret-file", secret, "--out", filepath.Join(dir, "c"), "--identity",
			strings.Repeat("a", 254)}, 2, []string{"--identity", "253"}},
		{"identity with a control character", []string{"--eap-tls", "--radius",
			"127.0.0.1:25999", "--secret-file", secret, "--out", filepath.Join(dir, "c"),
			"--identity", "SN-1\x00"}, 2, []string{"--identity", "control character"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runBrski(append([]string{"pledge"}, tt.args...)...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.wantCode, stderr)
			}
			for _, want := range tt.wantStderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr %q lacks %q", stderr, want)
				}
			}
			// Nothing was sent, so no RADIUS outcome may be printed.
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
		})
	}
}
