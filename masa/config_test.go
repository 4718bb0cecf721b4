package masa

import (
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/brski-eap/brski/voucher"
	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
)

func TestParseConfigExample(t *testing.T) {
	cfg, err := LoadConfig("../examples/masa.hcl")
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{Listen: DefaultListen, FactoryDir: "../lab/factory",
		DataDir: "../lab/masa", RateInterval: time.Minute, Assertion: voucher.AssertionLogged,
		NoncelessLifetime: 20 * time.Minute, MaxClockSkew: 10 * time.Minute}
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
}

func TestParseConfigOwnersAndTLS(t *testing.T) {
	dir := t.TempDir()
	f, err := InitFactory(filepath.Join(dir, "factory"), "Example", "https://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	src := `
factory_dir = "factory"
data_dir    = "/var/lib/masa"
tls {
  cert_file = "tls.pem"
  key_file  = "tls-key.pem"
}
owner "SN-1" { domain_ca_file = "factory/ca.pem" }
owner "*"    { domain_ca_file = "factory/masa-signing.pem" }
`
	cfg, err := ParseConfig([]byte(src), filepath.Join(dir, "masa.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	got := []string{cfg.FactoryDir, cfg.DataDir, cfg.TLSCertFile, cfg.TLSKeyFile}
	want := []string{filepath.Join(dir, "factory"), "/var/lib/masa",
		filepath.Join(dir, "tls.pem"), filepath.Join(dir, "tls-key.pem")}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
	wantOwners := map[string][]*x509.Certificate{"SN-1": {f.CA},
		AnyDevice: {f.SigningCert, f.CA}}
	if diff := cmp.Diff(wantOwners, cfg.Owners); diff != "" {
		t.Errorf("owners (-want +got):\n%s", diff)
	}
}

func TestParseConfigErrors(t *testing.T) {
	base := "factory_dir = \"f\"\ndata_dir = \"d\"\n"
	tests := []struct {
		name     string
		src      string
		wantLine int
	}{
		{"listen", base + `listen = "nohostport"`, 3},
		{"rate interval", base + `rate_interval = "soon"`, 3},
		{"negative lifetime", base + `nonceless_voucher_lifetime = "-5m"`, 3},
		{"assertion", base + "\n" + `assertion = "trusted"`, 4},
		{"half tls", base + "tls {\n  cert_file = \"c\"\n  key_file = \"\"\n}", 3},
		{"owner serial", base + `owner "../x" { domain_ca_file = "ca.pem" }`, 3},
		{"owner file", base + `owner "SN-1" { domain_ca_file = "missing.pem" }`, 3},
		{"duplicate owner", base + "owner \"*\" { domain_ca_file = \"a.pem\" }\n" +
			`owner "*" { domain_ca_file = "a.pem" }`, 4},
		{"unknown field", base + `listn = "x"`, 3},
		{"missing factory_dir", `data_dir = "d"`, 1},
		{"empty data_dir", "factory_dir = \"f\"\ndata_dir = \"\"", 2},
		{"syntax", "factory_dir = ", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "a.pem"), pemOf(t), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ParseConfig([]byte(tt.src), filepath.Join(dir, "masa.hcl"))
			var diags hcl.Diagnostics
			if !errors.As(err, &diags) || len(diags) == 0 {
				t.Fatalf("error = %v, want hcl.Diagnostics", err)
			}
			d := diags[0]
			if d.Subject == nil {
				t.Fatalf("diagnostic %q has no position", d.Summary)
			}
			if d.Subject.Filename != filepath.Join(dir, "masa.hcl") {
				t.Errorf("file = %q", d.Subject.Filename)
			}
			if d.Subject.Start.Line != tt.wantLine {
				t.Errorf("line = %d, want %d (%v)", d.Subject.Start.Line, tt.wantLine, err)
			}
		})
	}
}

func pemOf(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile("../voucher/testdata/rfc8995/registrar-ca_ownerca_secp384r1.crt.pem")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func FuzzParseConfig(f *testing.F) {
	example, err := os.ReadFile("../examples/masa.hcl")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	f.Add([]byte("factory_dir = \"f\"\ndata_dir = \"d\"\nowner \"*\" { domain_ca_file = \"x\" }"))
	f.Add([]byte("tls {\n cert_file = \"\"\n}\nrate_interval = \"1h\""))
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, err := ParseConfig(src, "fuzz.hcl")
		if err != nil {
			return
		}
		if cfg.FactoryDir == "" || cfg.DataDir == "" {
			t.Errorf("accepted config without factory or data directory: %+v", cfg)
		}
	})
}

func TestParseConfigListenPort(t *testing.T) {
	for _, listen := range []string{"127.0.0.1:99999", "127.0.0.1:0", "127.0.0.1:https"} {
		t.Run(listen, func(t *testing.T) {
			src := "listen = \"" + listen + "\"\nfactory_dir = \"f\"\ndata_dir = \"d\"\n"
			_, err := ParseConfig([]byte(src), "masa.hcl")
			var diags hcl.Diagnostics
			if !errors.As(err, &diags) || len(diags) != 1 || diags[0].Subject.Start.Line != 1 {
				t.Fatalf("ParseConfig: %v; want one error at line 1", err)
			}
		})
	}
}
