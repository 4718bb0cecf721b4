package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brski-eap/brski/masa"
	"github.com/brski-eap/brski/pledge"
)

// TestPledgeEAPTLSRejectNamesNextStep authenticates with an LDevID of a
// CA that the server does not trust, and checks that the error names where
// to find the reason.
func TestPledgeEAPTLSRejectNamesNextStep(t *testing.T) {
	lab := newBenchLab(t)

	other, err := masa.InitFactory(filepath.Join(t.TempDir(), "other"), "other",
		"https://localhost:9443")
	if err != nil {
		t.Fatal(err)
	}
	dev, err := other.Mint("OTHER-1", "switch")
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	for src, dst := range map[string]string{
		dev.CertFile: pledge.LDevIDFile, dev.KeyFile: pledge.LDevIDKeyFile,
		filepath.Join(lab.dir, "factory", masa.FactoryCAFile): pledge.DomainCAFile,
	} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, dst), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	addr := lab.serve(t, &tlsTestHandler{})
	code, stdout, stderr := runBrski("pledge", "--radius", addr, "--secret-file",
		filepath.Join(lab.dir, "secret"), "--eap-tls", "--out", out)
	if code != 1 {
		t.Errorf("exit %d, want 1; stderr %q", code, stderr)
	}
	if want := "EAP-TLS: Access-Reject"; !strings.Contains(stdout, want) {
		t.Errorf("stdout %q lacks %q", stdout, want)
	}
	if want := "the registrar's log"; !strings.Contains(stderr, want) {
		t.Errorf("stderr %q lacks %q", stderr, want)
	}
}
