package registrar

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brski-eap/brski/internal/testkeys"
)

// manufacturerConfig writes a factory CA and a MASA trust anchor with the
// given key kinds and returns a configuration that names them, with the
// two file names.
func manufacturerConfig(t *testing.T, caKind, trustKind string) (*Config, string, string) {
	t.Helper()
	dir := t.TempDir()
	for _, sub := range []string{"factory", "masa"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	caFile, _ := writeExternalCA(t, filepath.Join(dir, "factory"), testkeys.New(t, caKind))
	trustFile, _ := writeExternalCA(t, filepath.Join(dir, "masa"), testkeys.New(t, trustKind))
	src := fmt.Sprintf("manufacturer \"acme\" {\n  ca = %q\n  masa_trust = %q\n}\n%s",
		caFile, trustFile, minimalPolicy)
	cfg, err := ParseConfig(filepath.Join(dir, "registrar.hcl"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return cfg, caFile, trustFile
}

// TestManufacturerKeys checks that the key rule of the domain CA applies to
// the manufacturer ca and masa_trust files, at start and in CheckFiles.
func TestManufacturerKeys(t *testing.T) {
	tests := []struct {
		name      string
		caKind    string
		trustKind string
		wantFile  string // "ca", "masa_trust" or "" for no error
		wantKey   string
	}{
		{"P-384 and RSA-2048", "P-384", "RSA-2048", "", ""},
		{"RSA-1024 ca", "RSA-1024", "P-384", "ca", "a 1024-bit RSA key"},
		{"RSA-1024 masa_trust", "P-384", "RSA-1024", "masa_trust", "a 1024-bit RSA key"},
		{"Ed25519 masa_trust", "P-384", "Ed25519", "masa_trust", "an Ed25519 key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, caFile, trustFile := manufacturerConfig(t, tt.caKind, tt.trustKind)
			_, err := cfg.Options(newMemStore(), time.Now())
			diags := cfg.CheckFiles()
			if tt.wantFile == "" {
				if err != nil {
					t.Errorf("Options: %v", err)
				}
				if diags.HasErrors() {
					t.Errorf("CheckFiles: %v", diags)
				}
				return
			}
			if !errors.Is(err, ErrUnsupportedKey) {
				t.Fatalf("Options error = %v, want ErrUnsupportedKey", err)
			}
			if !diags.HasErrors() {
				t.Fatal("CheckFiles found no error")
			}
			file := map[string]string{"ca": caFile, "masa_trust": trustFile}[tt.wantFile]
			summary := firstError(diags).Summary
			for _, want := range []string{file, tt.wantKey, "RSA of at least 2048 bits"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Options error %q does not contain %q", err, want)
				}
				if !strings.Contains(summary, want) {
					t.Errorf("CheckFiles error %q does not contain %q", summary, want)
				}
			}
		})
	}
}
