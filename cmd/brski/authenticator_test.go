package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testAuthenticatorHCL = `nas_identifier = "lab-switch"
radius {
  server "registrar" {
    address     = "127.0.0.1:1812"
    secret_file = "radius-secret"
  }
}
vlan "100" {
  bridge = "br-v100"
}
interface "swp1" {}
`

func TestConfigCheckAuthenticator(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		wantCode int
		wantErr  string // in stderr
	}{
		{"valid", testAuthenticatorHCL, 0, ""},
		{"bad mode", testAuthenticatorHCL + "mode = \"any\"\n", 1, `mode "any"`},
		{"VLAN without bridge", testAuthenticatorHCL + "vlan \"7\" {\n  bridge = \"\"\n}\n", 1,
			`auth.hcl:12,1: invalid vlan "7".bridge`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "auth.hcl")
			if err := os.WriteFile(path, []byte(tt.src), 0o644); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			code := run([]string{"config", "check", path}, &stdout, &stderr)
			if code != tt.wantCode {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", code, tt.wantCode, stderr.String())
			}
			if tt.wantErr != "" && !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantErr, stderr.String())
			}
		})
	}
}

func TestAuthenticatorNeedsConfig(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"authenticator"}, &stdout, &stderr); code != 2 {
		t.Errorf("exit code %d, want 2; stderr:\n%s", code, stderr.String())
	}
}

func TestAuthenticatorMissingSecretFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.hcl")
	if err := os.WriteFile(path, []byte(testAuthenticatorHCL), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"authenticator", "--config", path}, &stdout, &stderr); code != 1 {
		t.Fatalf("exit code %d, want 1; stderr:\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "radius-secret") {
		t.Errorf("stderr does not name the secret file:\n%s", stderr.String())
	}
}
