package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/brski-eap/brski/registrar"
)

// TestInitLabLoads checks that the files of "brski init" pass the
// registrar's key and chain checks, in config check and at start.
func TestInitLabLoads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lab")
	if code, _, stderr := runBrski("init", dir, "--devices", "1"); code != 0 {
		t.Fatalf("init exit %d, stderr:\n%s", code, stderr)
	}

	cfg, err := registrar.LoadConfig(filepath.Join(dir, "registrar.hcl"))
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	if diags := cfg.CheckFiles(); diags.HasErrors() {
		t.Fatalf("CheckFiles: %v", diags)
	}

	opts, err := cfg.Options(nil, time.Now())
	if err != nil {
		t.Fatalf("Options: %v", err)
	}
	if got := len(opts.Manufacturers); got != 1 {
		t.Errorf("manufacturers = %d, want 1", got)
	}

	chain := opts.Cert.Chain
	if err := chain[0].CheckSignatureFrom(opts.DomainCA.Cert); err != nil {
		t.Errorf("registrar certificate is not issued by the domain CA: %v", err)
	}
	if last := chain[len(chain)-1]; !last.Equal(opts.DomainCA.Cert) {
		t.Errorf("registrar chain ends at %q, want the domain CA %q", last.Subject,
			opts.DomainCA.Cert.Subject)
	}

	again, err := cfg.Options(nil, time.Now())
	if err != nil {
		t.Fatalf("second Options: %v", err)
	}
	if !again.Cert.Leaf().Equal(chain[0]) {
		t.Error("second start issued a new registrar certificate")
	}
}
