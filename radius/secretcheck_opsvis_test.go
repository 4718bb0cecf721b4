package radius

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const longSecret = "0123456789abcdef0123456789abcdef"

func TestCheckClientSecrets(t *testing.T) {
	tests := []struct {
		name   string
		inline string // inline secret, or "" for a secret file
		file   string // content of the secret file
		mode   os.FileMode
		want   []error
	}{
		{name: "private long file", file: longSecret + "\n", mode: 0o600},
		{name: "owner read only", file: longSecret, mode: 0o400},
		{name: "world readable file", file: longSecret + "\n", mode: 0o644,
			want: []error{ErrSecretFileMode}},
		{name: "group writable file", file: longSecret, mode: 0o620,
			want: []error{ErrSecretFileMode}},
		{name: "short private file", file: "s3cr3\n", mode: 0o600,
			want: []error{ErrSecretShort}},
		{name: "short readable file", file: "s3cr3", mode: 0o640,
			want: []error{ErrSecretFileMode, ErrSecretShort}},
		{name: "fifteen octets", file: longSecret[:15], mode: 0o600,
			want: []error{ErrSecretShort}},
		{name: "sixteen octets", file: longSecret[:16] + "\r\n", mode: 0o600},
		{name: "short inline", inline: "s3cr3", want: []error{ErrSecretShort}},
		{name: "long inline", inline: longSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			c := ClientConfig{Name: "sw1", Address: "192.0.2.1", Secret: tt.inline}
			if tt.inline == "" {
				c.SecretFile = "sw1.secret"
				writeSecretFile(t, filepath.Join(dir, c.SecretFile), tt.file, tt.mode)
			}
			got := CheckClientSecrets([]ClientConfig{c}, dir)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d warnings %q, want %d", len(got), got, len(tt.want))
			}
			for i, w := range got {
				if !errors.Is(w, tt.want[i]) {
					t.Errorf("warning %d = %v, want %v", i, w, tt.want[i])
				}
				var ce *ConfigError
				if !errors.As(w, &ce) || ce.Client != "sw1" {
					t.Errorf("warning %d = %#v, want a *ConfigError of client sw1", i, w)
				}
				secret := strings.TrimSpace(tt.file + tt.inline)
				if strings.Contains(w.Error(), secret) {
					t.Errorf("warning %d contains the secret: %v", i, w)
				}
			}
		})
	}
}

func TestCheckSecretModeFix(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.secret")
	writeSecretFile(t, path, longSecret, 0o644)
	got := CheckSecret([]byte(longSecret), path)
	if len(got) != 1 {
		t.Fatalf("got %d warnings %q, want 1", len(got), got)
	}
	for _, part := range []string{"mode 0644", "chmod 600 " + path} {
		if !strings.Contains(got[0].Error(), part) {
			t.Errorf("warning %q lacks %q", got[0], part)
		}
	}
}

func TestCheckClientSecretsSkipsErrors(t *testing.T) {
	cfgs := []ClientConfig{
		{Name: "missing", Address: "192.0.2.1", SecretFile: "does-not-exist"},
		{Name: "", Address: "192.0.2.2", Secret: "x"},
	}
	if got := CheckClientSecrets(cfgs, t.TempDir()); len(got) != 0 {
		t.Errorf("got warnings %q for blocks that BuildClientTable rejects", got)
	}
}

func TestBuildClientTableAcceptsWeakSecrets(t *testing.T) {
	dir := t.TempDir()
	writeSecretFile(t, filepath.Join(dir, "weak"), "s3cr3\n", 0o644)
	table, err := BuildClientTable([]ClientConfig{{Name: "sw1", Address: "192.0.2.1",
		SecretFile: "weak"}}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("s3cr3", string(table.Clients()[0].Secret)); diff != "" {
		t.Errorf("secret (-want +got):\n%s", diff)
	}
}

func writeSecretFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	// Chmod after writing, because the umask may clear bits of the mode.
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}
