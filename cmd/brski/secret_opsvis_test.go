package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// weakSecretCases change the lab's radius-secret file. want are the parts
// of the warnings, and nil means no warning.
var weakSecretCases = []struct {
	name    string
	content string // "" keeps the secret that init wrote
	mode    os.FileMode
	want    []string
}{
	{"lab as created", "", 0o600, nil},
	{"world readable", "", 0o644, []string{"weak secret_file", "mode 0644", "chmod 600 "}},
	{"short secret", "s3cr3\n", 0o600, []string{"shorter than 16 octets", "it has 5"}},
	{"short and readable", "s3cr3\n", 0o640, []string{"mode 0640", "it has 5"}},
}

// weakenLabSecret rewrites the lab's secret file and returns the secret.
func weakenLabSecret(t *testing.T, dir, content string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(dir, "radius-secret")
	if content != "" {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func newTestLab(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "lab")
	if code, _, stderr := runBrski("init", dir, "--devices", "1"); code != 0 {
		t.Fatalf("init exit %d:\n%s", code, stderr)
	}
	return dir
}

func checkWarnings(t *testing.T, output, secret string, want []string) {
	t.Helper()
	if want == nil {
		if strings.Contains(output, "weak") {
			t.Errorf("unexpected warning:\n%s", output)
		}
		return
	}
	for _, part := range want {
		if !strings.Contains(output, part) {
			t.Errorf("output lacks %q:\n%s", part, output)
		}
	}
	if strings.Contains(output, secret) {
		t.Errorf("output contains the secret:\n%s", output)
	}
}

func TestConfigCheckWeakSecret(t *testing.T) {
	for _, tt := range weakSecretCases {
		t.Run(tt.name, func(t *testing.T) {
			dir := newTestLab(t)
			secret := weakenLabSecret(t, dir, tt.content, tt.mode)
			path := filepath.Join(dir, "registrar.hcl")
			code, stdout, stderr := runBrski("config", "check", path)
			if code != 0 {
				t.Fatalf("exit %d, want 0 because warnings do not reject:\n%s", code, stderr)
			}
			if !strings.Contains(stdout, path+": ok") {
				t.Errorf("stdout lacks %q:\n%s", path+": ok", stdout)
			}
			if tt.want != nil && !strings.Contains(stderr, "registrar.hcl:") {
				t.Errorf("stderr does not name the file and line:\n%s", stderr)
			}
			checkWarnings(t, stderr, secret, tt.want)
		})
	}
}

func TestRegistrarWarnsWeakSecret(t *testing.T) {
	for _, tt := range weakSecretCases {
		t.Run(tt.name, func(t *testing.T) {
			dir := newTestLab(t)
			secret := weakenLabSecret(t, dir, tt.content, tt.mode)
			reg := serveLabRegistrarAt(t, filepath.Join(dir, "registrar.hcl"),
				"127.0.0.1:0", "")
			log, buf := newBufferLogger(hclog.Info)
			_, rad, err := startRADIUSAt(context.Background(), "127.0.0.1:0", reg.Config,
				reg.Options, reg.Registrar, reg.Store.DB, log)
			if err != nil {
				t.Fatalf("startRADIUS: %v, want warnings only", err)
			}
			t.Cleanup(func() { rad.stop() })
			if tt.want != nil && len(buf.lines("[WARN]", "weak secret_file")) == 0 {
				t.Errorf("no WARN line about the secret:\n%s", buf)
			}
			checkWarnings(t, buf.String(), secret, tt.want)
		})
	}
}

func TestConfigCheckAuthenticatorWeakSecret(t *testing.T) {
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		want    []string
	}{
		{"private long secret", strings.Repeat("ab", 16) + "\n", 0o600, nil},
		{"readable short secret", "s3cr3\n", 0o644, []string{`RADIUS server "registrar"`,
			"mode 0644", "chmod 600 ", "it has 5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "auth.hcl")
			if err := os.WriteFile(path, []byte(testAuthenticatorHCL), 0o644); err != nil {
				t.Fatal(err)
			}
			secret := weakenLabSecret(t, dir, tt.content, tt.mode)
			code, stdout, stderr := runBrski("config", "check", path)
			if code != 0 {
				t.Fatalf("exit %d, want 0:\n%s", code, stderr)
			}
			if !strings.Contains(stdout, path+": ok") {
				t.Errorf("stdout lacks %q:\n%s", path+": ok", stdout)
			}
			checkWarnings(t, stderr, secret, tt.want)
		})
	}
}
