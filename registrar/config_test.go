package registrar

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"

	"github.com/brski-eap/brski/policies"
)

const minimalPolicy = `
default {
  outcome = "reject"
}
`

func TestParseConfig(t *testing.T) {
	src := `
listen          = "127.0.0.1:9000"
data_dir        = "state"
voucher_wait    = "1500ms"
ldevid_validity = "720h"
manufacturer "acme" {
  ca         = "acme-ca.pem"
  masa_trust = "/etc/brski/acme-masa.pem"
  masa_url   = "masa.example:9443"
}
masa_client {
  timeout      = "5s"
  max_attempts = 2
}
radius {
  client "switch" {
    address = "127.0.0.1"
  }
}
` + minimalPolicy
	cfg, err := ParseConfig("/etc/brski/registrar.hcl", []byte(src))
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	got := struct {
		Listen, DataDir, VoucherWait, CA, MASATrust string
		Rules                                       []string
		RADIUS                                      bool
	}{cfg.Listen, cfg.DataDir, cfg.VoucherWait, cfg.Manufacturers[0].CA,
		cfg.Manufacturers[0].MASATrust, cfg.Policy.RuleNames(), cfg.RADIUS != nil}
	want := struct {
		Listen, DataDir, VoucherWait, CA, MASATrust string
		Rules                                       []string
		RADIUS                                      bool
	}{"127.0.0.1:9000", "/etc/brski/state", "1500ms", "/etc/brski/acme-ca.pem",
		"/etc/brski/acme-masa.pem", []string{policies.DefaultRuleName}, true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		line int
		text string
	}{
		{"bad duration", "voucher_wait = \"soon\"\n" + minimalPolicy, 1, "voucher_wait"},
		{"negative duration", "\nretry_after = \"-1s\"\n" + minimalPolicy, 2, "retry_after"},
		{"bad listen", "listen = \"8443\"\n" + minimalPolicy, 1, "listen"},
		{"missing ca", "manufacturer \"acme\" {\n  masa_trust = \"m.pem\"\n}\n" +
			minimalPolicy, 1, "ca"},
		{"duplicate manufacturer", "manufacturer \"a\" {\n ca = \"x\"\n masa_trust = \"y\"\n}\n" +
			"manufacturer \"a\" {\n ca = \"x\"\n masa_trust = \"y\"\n}\n" + minimalPolicy, 5,
			"declared twice"},
		{"policy twice", "policy_files = [\"p.hcl\"]\n" + minimalPolicy, 1, "policy_files"},
		{"unknown attribute", "colour = \"blue\"\n" + minimalPolicy, 1, "colour"},
		{"no policy", "listen = \"127.0.0.1:1\"\n", 0, "default"},
		{"port out of range", "listen = \"127.0.0.1:99999\"\n" + minimalPolicy, 1, "1-65535"},
		{"port zero", "listen = \"127.0.0.1:0\"\n" + minimalPolicy, 1, "1-65535"},
		{"empty hostnames", "hostnames = []\n" + minimalPolicy, 1, "hostnames is empty"},
		{"bad hostname", "hostnames = [\"ok.example\", \"exa mple\"]\n" + minimalPolicy, 1,
			`"exa mple"`},
		{"wildcard hostname", "hostnames = [\"*.*\"]\n" + minimalPolicy, 1, `"*.*"`},
		{"short validity", "ldevid_validity = \"1ns\"\n" + minimalPolicy, 1, "minimum"},
		{"decode and validate errors", "voucher_wait = \"-5s\"\nmasa_client {\n" +
			"  max_attempts = 99999999999999999999999\n}\n" + minimalPolicy, 3, "voucher_wait"},
		{"deep nesting", "x = " + strings.Repeat("[", 60000) + "\n", 1, "nesting"},
		{"bad max attempts", "masa_client {\n  max_attempts = -1\n}\n" + minimalPolicy, 1,
			"max_attempts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig("registrar.hcl", []byte(tt.src))
			if err == nil {
				t.Fatal("ParseConfig succeeded, want an error")
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *ConfigError", err)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %q does not name %q", err, tt.text)
			}
			if tt.line == 0 {
				return
			}
			d := firstError(ce.Diagnostics)
			if d.Subject == nil || d.Subject.Filename != "registrar.hcl" ||
				d.Subject.Start.Line != tt.line {
				t.Errorf("error at %v, want registrar.hcl line %d", d.Subject, tt.line)
			}
		})
	}
}

func firstError(diags hcl.Diagnostics) *hcl.Diagnostic {
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			return d
		}
	}
	return &hcl.Diagnostic{}
}

func TestConfigOptionsGeneratesDomain(t *testing.T) {
	dir := t.TempDir()
	cfg, err := ParseConfig(filepath.Join(dir, "registrar.hcl"),
		[]byte("voucher_wait = \"3s\"\n"+minimalPolicy))
	if err != nil {
		t.Fatal(err)
	}
	opts, err := cfg.Options(newMemStore(), time.Now())
	if err != nil {
		t.Fatalf("Options: %v", err)
	}
	if opts.VoucherWait != 3*time.Second {
		t.Errorf("VoucherWait = %v, want 3s", opts.VoucherWait)
	}
	for _, name := range []string{DomainCACertFile, DomainCAKeyFile, RegistrarCertFile,
		RegistrarKeyFile} {
		if _, err := os.Stat(filepath.Join(dir, DefaultDataDir, name)); err != nil {
			t.Errorf("%s not generated: %v", name, err)
		}
	}
	info, err := os.Stat(filepath.Join(dir, DefaultDataDir, DomainCAKeyFile))
	if err == nil && info.Mode().Perm() != 0o600 {
		t.Errorf("domain CA key mode = %v, want 0600", info.Mode().Perm())
	}
	// A second start loads the same CA.
	again, err := cfg.Options(newMemStore(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !again.DomainCA.Cert.Equal(opts.DomainCA.Cert) {
		t.Error("second start generated a new domain CA")
	}
	if !again.Cert.Leaf().Equal(opts.Cert.Leaf()) {
		t.Error("second start generated a new registrar certificate")
	}
}

func TestExampleConfig(t *testing.T) {
	cfg, err := LoadConfig("../examples/registrar.hcl")
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	if len(cfg.Manufacturers) == 0 || cfg.Policy == nil {
		t.Errorf("example has %d manufacturers and policy %v", len(cfg.Manufacturers),
			cfg.Policy)
	}
}

func TestDefaultConfig(t *testing.T) {
	cfg, err := DefaultConfig()
	if err != nil {
		t.Fatalf("DefaultConfig: %v", err)
	}
	base := policies.Facts{Time: time.Now(), Device: policies.DeviceFacts{Serial: "X",
		IDevIDPresented: true, Manufacturer: "acme"}}
	base.MASA = policies.MASAFacts{VoucherObtained: true, AuditLogFetched: true,
		Assertion: "logged", DomainID: "ours"}
	if d := cfg.Policy.Evaluate(base); d.Outcome != policies.OutcomeReject {
		t.Errorf("unexpected device: outcome %v, want reject", d.Outcome)
	}
	base.Device.Expected = true
	if d := cfg.Policy.Evaluate(base); d.Outcome != policies.OutcomeAccept {
		t.Errorf("expected device: outcome %v (%s), want accept", d.Outcome, d.Reason)
	}
	base.MASA.AuditLog = []policies.AuditEntry{{Date: time.Now(), DomainID: "theirs"}}
	if d := cfg.Policy.Evaluate(base); d.Outcome != policies.OutcomeReject {
		t.Errorf("expected device with history: outcome %v, want reject", d.Outcome)
	}
}
