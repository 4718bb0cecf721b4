package eapserver_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/brski-eap/brski/eap"
	"github.com/brski-eap/brski/eapest"
	"github.com/brski-eap/brski/eapserver"
)

// decodeRadiusBlock parses src, which holds one radius block, as the
// registrar configuration does.
func decodeRadiusBlock(src string) (*eapserver.FileConfig, hcl.Diagnostics) {
	f, diags := hclsyntax.ParseConfig([]byte(src), "registrar.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	var outer struct {
		Radius struct {
			Body     hcl.Body  `hcl:",remain"`
			DefRange hcl.Range `hcl:",def_range"`
		} `hcl:"radius,block"`
	}
	if diags := gohcl.DecodeBody(f.Body, nil, &outer); diags.HasErrors() {
		return nil, diags
	}
	return eapserver.DecodeFileConfig(outer.Radius.Body, outer.Radius.DefRange)
}

// initBlock is the radius block that "brski init" writes.
const initBlock = `radius {
  listen = "127.0.0.1:1812"

  client "localhost" {
    address     = "127.0.0.1"
    secret_file = "radius-secret"
  }
}
`

func TestDecodeFileConfig(t *testing.T) {
	c, diags := decodeRadiusBlock(initBlock)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if c.ListenAddr() != "127.0.0.1:1812" || len(c.Clients) != 1 ||
		c.Clients[0].SecretFile != "radius-secret" {
		t.Errorf("decoded %+v, want the init block", c)
	}
	typ, err := c.ESTType()
	if diff := cmp.Diff(eap.MethodType{Type: eap.TypeExperimental}, typ); err != nil ||
		diff != "" {
		t.Errorf("ESTType (-want +got), err %v:\n%s", err, diff)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "radius-secret"), []byte("s3cret\n"),
		0o600); err != nil {
		t.Fatal(err)
	}
	table, err := c.ClientTable(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(table.Clients()[0].Secret); got != "s3cret" {
		t.Errorf("secret read from the relative file = %q, want s3cret", got)
	}
}

func TestDecodeFileConfigESTRealms(t *testing.T) {
	src := strings.Replace(initBlock, "radius {\n",
		"radius {\n  est_realms = [\"pledges.example\"]\n", 1)
	c, diags := decodeRadiusBlock(src)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if diff := cmp.Diff([]string{"pledges.example"}, c.ESTRealms); diff != "" {
		t.Errorf("ESTRealms (-want +got):\n%s", diff)
	}
}

func TestDecodeFileConfigExpandedType(t *testing.T) {
	c, diags := decodeRadiusBlock(`radius {
  method_type = 254
  vendor_id   = 32473
  vendor_type = 7
  client "lab" {
    address = "127.0.0.0/8"
    secret  = "x"
  }
}`)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	typ, err := c.ESTType()
	want := eap.MethodType{Type: eap.TypeExpanded, VendorID: 32473, VendorType: 7}
	if diff := cmp.Diff(want, typ); err != nil || diff != "" {
		t.Errorf("ESTType (-want +got), err %v:\n%s", err, diff)
	}
}

func TestDecodeFileConfigErrors(t *testing.T) {
	client := "\n  client \"lab\" {\n    address = \"127.0.0.1\"\n    secret = \"x\"\n  }\n"
	tests := []struct {
		name, body, wantField string
		wantLine              int
	}{
		{"listen", "  listen = \"1812\"" + client, "listen", 2},
		{"fragment size", "  fragment_size = 10" + client, "fragment_size", 2},
		{"method type", "  method_type = 13" + client, "method_type", 2},
		{"vendor without expanded", "  vendor_id = 9" + client, "method_type", 2},
		{"expanded without vendor", "  method_type = 254" + client, "method_type", 2},
		{"no clients", "  listen = \"127.0.0.1:1812\"\n", "radius block", 1},
		{"client address", "\n  client \"lab\" {\n    address = \"nowhere\"\n" +
			"    secret = \"x\"\n  }\n", "client", 3},
		{"client without secret", "\n  client \"lab\" {\n    address = \"127.0.0.1\"\n  }\n",
			"client", 3},
		{"realm with at sign", "  est_realms = [\"a@b\"]" + client, "est_realms", 2},
		{"empty realm", "  est_realms = [\"\"]" + client, "est_realms", 2},
		{"unknown tls profile", "  tls_profile = \"legcy\"" + client, "tls_profile", 2},
		{"empty tls profile", "  tls_profile = \"\"" + client, "tls_profile", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := decodeRadiusBlock("radius {\n" + tt.body + "}\n")
			if !diags.HasErrors() {
				t.Fatal("no error")
			}
			d := diags[0]
			if !strings.Contains(d.Summary, tt.wantField) {
				t.Errorf("summary = %q, want field %q", d.Summary, tt.wantField)
			}
			if d.Subject == nil || d.Subject.Filename != "registrar.hcl" ||
				d.Subject.Start.Line != tt.wantLine {
				t.Errorf("subject = %v, want registrar.hcl line %d", d.Subject, tt.wantLine)
			}
		})
	}
}

func TestDecodeFileConfigTLSProfile(t *testing.T) {
	tests := []struct {
		name string
		line string
		want eapest.TLSProfile
	}{
		{"absent", "", eapest.ProfileDefault},
		{"default", "  tls_profile = \"default\"\n", eapest.ProfileDefault},
		{"legacy", "  tls_profile = \"legacy\"\n", eapest.ProfileLegacy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, diags := decodeRadiusBlock(strings.Replace(initBlock, "radius {\n",
				"radius {\n"+tt.line, 1))
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			got, err := c.Profile()
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Profile() = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestUnknownTLSProfileNamesValues checks that the error names the
// configured value and both allowed ones, so the operator can fix it.
func TestUnknownTLSProfileNamesValues(t *testing.T) {
	_, diags := decodeRadiusBlock(strings.Replace(initBlock, "radius {\n",
		"radius {\n  tls_profile = \"tls1.0\"\n", 1))
	if !diags.HasErrors() {
		t.Fatal("no error for tls_profile = \"tls1.0\"")
	}
	for _, want := range []string{`"tls1.0"`, `"default"`, `"legacy"`} {
		if !strings.Contains(diags[0].Detail, want) {
			t.Errorf("detail %q does not name %s", diags[0].Detail, want)
		}
	}
	c := &eapserver.FileConfig{TLSProfile: "tls1.0"}
	if _, err := c.Profile(); !errors.Is(err, eapest.ErrUnknownTLSProfile) {
		t.Errorf("Profile() error = %v, want eapest.ErrUnknownTLSProfile", err)
	}
}

// FuzzDecodeFileConfig decodes arbitrary radius blocks. A block that
// decodes must validate again without errors and name its listen address.
func FuzzDecodeFileConfig(f *testing.F) {
	f.Add(initBlock)
	f.Add("radius {\n  method_type = 254\n  vendor_id = 1\n  vendor_type = 1\n" +
		"  client \"a\" {\n    address = \"10.0.0.0/8\"\n    secret = \"x\"\n  }\n}\n")
	f.Add("radius {\n  fragment_size = 64\n  client \"a\" { address = \"::1\" secret = \"x\" }\n}")
	f.Add("radius { listen = \"[::1]:0\" }")
	f.Add("radius {\n  tls_profile = \"legacy\"\n  client \"a\" { address = \"::1\" " +
		"secret = \"x\" }\n}")
	f.Fuzz(func(t *testing.T, src string) {
		c, diags := decodeRadiusBlock(src)
		if diags.HasErrors() {
			return
		}
		if again := c.Validate(); again.HasErrors() {
			t.Fatalf("decoded config fails Validate: %v", again)
		}
		if c.ListenAddr() == "" {
			t.Fatal("empty listen address")
		}
		if _, err := c.Profile(); err != nil {
			t.Fatalf("decoded config has an invalid TLS profile: %v", err)
		}
	})
}
