package authenticator

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/brski-eap/brski/authenticator/pae"
	"github.com/brski-eap/brski/radius"
)

const validConfig = `
nas_identifier         = "lab-switch"
nas_ip                 = "127.0.0.1"
mode                   = "multi-auth"
unauthenticated_bridge = "br-unauth"
reject_vlan            = "quarantine"

radius {
  timeout        = "2s"
  retries        = 0
  failback_after = "30s"
  server "primary" {
    address     = "127.0.0.1:1812"
    secret_file = "secret"
  }
  server "backup" {
    address = "127.0.0.1:1813"
    secret  = "inline"
  }
}

vlan "staff" {
  id     = 10
  bridge = "br-vlan10"
}
vlan "20" {
  bridge = "br-vlan20"
}
vlan "quarantine" {
  id     = 99
  bridge = "br-quarantine"
}

interface "swp1" {}
interface "swp2" {
  mode     = "single-host"
  nas_port = 12
}

timers {
  quiet_period  = "5s"
  reauth_period = "1h"
  max_requests  = 3
}
`

func parseConfig(t *testing.T, src string) (*Config, hcl.Diagnostics) {
	t.Helper()
	f, diags := hclparse.NewParser().ParseHCL([]byte(src), "test.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return DecodeConfig(f.Body)
}

func TestNewSetupFromConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, diags := parseConfig(t, validConfig)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	s, err := NewSetup(cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Client.Close()
	wantServers := []radius.ServerAddr{
		{Addr: "127.0.0.1:1812", Secret: []byte("from-file")},
		{Addr: "127.0.0.1:1813", Secret: []byte("inline")},
	}
	if diff := cmp.Diff(wantServers, s.Client.Servers); diff != "" {
		t.Errorf("servers (-want +got):\n%s", diff)
	}
	if s.Client.Retries != -1 || s.Client.Timeout != 2*time.Second ||
		s.Client.FailbackAfter != 30*time.Second {
		t.Errorf("client retries %d, timeout %v, failback %v; want -1, 2s, 30s",
			s.Client.Retries, s.Client.Timeout, s.Client.FailbackAfter)
	}
	wantVLANs := BridgePerVLAN{Unauthenticated: "br-unauth", Bridges: map[string]string{
		"10": "br-vlan10", "20": "br-vlan20", "99": "br-quarantine"}}
	if diff := cmp.Diff(wantVLANs, s.VLANs); diff != "" {
		t.Errorf("VLAN backend (-want +got):\n%s", diff)
	}
	wantNames := map[string]uint16{"staff": 10, "quarantine": 99}
	if diff := cmp.Diff(wantNames, s.Backend.VLANNames); diff != "" {
		t.Errorf("VLAN names (-want +got):\n%s", diff)
	}
	if s.Backend.RejectVLAN != "quarantine" {
		t.Errorf("reject VLAN = %q, want quarantine", s.Backend.RejectVLAN)
	}
	wantPorts := []PortSetup{
		{Name: "swp1", PAE: pae.Config{Mode: pae.MultiAuth, QuietPeriod: 5 * time.Second,
			ReauthPeriod: time.Hour, MaxRequests: 3}},
		{Name: "swp2", PAE: pae.Config{Mode: pae.SingleHost, QuietPeriod: 5 * time.Second,
			ReauthPeriod: time.Hour, MaxRequests: 3}},
	}
	if diff := cmp.Diff(wantPorts, s.Ports, cmp.Comparer(func(a, b pae.Config) bool {
		return a.Mode == b.Mode && a.QuietPeriod == b.QuietPeriod &&
			a.ReauthPeriod == b.ReauthPeriod && a.MaxRequests == b.MaxRequests
	})); diff != "" {
		t.Errorf("ports (-want +got):\n%s", diff)
	}
	wantNumbers := map[string]uint32{"swp1": 1, "swp2": 12}
	gotNumbers := map[string]uint32{}
	for name, info := range s.Backend.Ports {
		gotNumbers[name] = info.Number
	}
	if diff := cmp.Diff(wantNumbers, gotNumbers); diff != "" {
		t.Errorf("NAS-Port numbers (-want +got):\n%s", diff)
	}
}

func TestNewSetupMissingSecretFile(t *testing.T) {
	cfg, diags := parseConfig(t, validConfig)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if _, err := NewSetup(cfg, t.TempDir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("NewSetup error = %v, want a missing file", err)
	}
}

func TestDecodeConfigInvalid(t *testing.T) {
	base := `
nas_identifier = "n"
radius {
  server "s" {
    address = "127.0.0.1:1812"
    secret  = "x"
  }
}
interface "swp1" {}
`
	tests := []struct {
		name  string
		src   string
		field string // Summary of the expected diagnostic
	}{
		{"no NAS identity", strings.Replace(base, `nas_identifier = "n"`, "", 1),
			"invalid nas_identifier"},
		{"bad NAS IP", base + `nas_ip = "not-an-ip"`, "invalid nas_ip"},
		{"bad mode", base + `mode = "any-host"`, "invalid mode"},
		{"no server", `nas_identifier = "n"
radius {}
interface "swp1" {}`, "invalid radius"},
		{"both secrets", strings.Replace(base, `secret  = "x"`,
			`secret = "x"
secret_file = "f"`, 1), `invalid radius.server "s"`},
		{"address without port", strings.Replace(base, "127.0.0.1:1812", "127.0.0.1", 1),
			`invalid radius.server "s".address`},
		{"bad timeout", strings.Replace(base, "radius {", `radius {
  timeout = "soon"`, 1), "invalid radius.timeout"},
		{"negative retries", strings.Replace(base, "radius {", `radius {
  retries = -1`, 1), "invalid radius.retries"},
		{"no interface", strings.Replace(base, `interface "swp1" {}`, "", 1),
			"invalid interface"},
		{"interface twice", base + `interface "swp1" {}`, `invalid interface "swp1"`},
		{"bad port mode", base + `interface "swp2" {
  mode = "x"
}`, `invalid interface "swp2".mode`},
		{"VLAN name without id", base + `vlan "staff" {
  bridge = "b"
}`, `invalid vlan "staff".id`},
		{"VLAN ID out of range", base + `vlan "4095" {
  bridge = "b"
}`, `invalid vlan "4095".id`},
		{"VLAN without bridge", base + `vlan "10" {
  bridge = ""
}`, `invalid vlan "10".bridge`},
		{"unknown reject VLAN", base + `reject_vlan = "nowhere"`, "invalid reject_vlan"},
		{"bad timer", base + `timers {
  quiet_period = "-1s"
}`, "invalid timers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := parseConfig(t, tt.src)
			if !diags.HasErrors() {
				t.Fatal("DecodeConfig accepted the configuration")
			}
			var summaries []string
			for _, d := range diags {
				summaries = append(summaries, d.Summary)
				if d.Subject == nil || d.Subject.Filename != "test.hcl" {
					t.Errorf("diagnostic %q has no position in test.hcl", d.Summary)
				}
			}
			found := false
			for _, s := range summaries {
				found = found || s == tt.field
			}
			if !found {
				t.Errorf("diagnostics %q lack %q", summaries, tt.field)
			}
		})
	}
}

func FuzzDecodeConfig(f *testing.F) {
	f.Add([]byte(validConfig))
	f.Add([]byte(`interface "a" {}` + "\nradius {\n}\n"))
	f.Add([]byte(`vlan "0" { bridge = "b" }`))
	f.Fuzz(func(t *testing.T, src []byte) {
		file, diags := hclparse.NewParser().ParseHCL(src, "fuzz.hcl")
		if diags.HasErrors() {
			return
		}
		cfg, diags := DecodeConfig(file.Body)
		if diags.HasErrors() {
			return
		}
		if cfg == nil {
			t.Fatal("no configuration and no error")
		}
		if diags := cfg.Validate(); diags.HasErrors() {
			t.Fatalf("decoded configuration fails Validate: %v", diags)
		}
	})
}
