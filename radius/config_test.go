package radius

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBuildClientTableFromHCL(t *testing.T) {
	src, err := os.ReadFile("testdata/clients.hcl")
	if err != nil {
		t.Fatal(err)
	}
	cfgs, err := ParseClientsHCL(src, "clients.hcl")
	if err != nil {
		t.Fatal(err)
	}
	table, err := BuildClientTable(cfgs, "testdata")
	if err != nil {
		t.Fatal(err)
	}
	var got []NAS
	for _, n := range table.Clients() {
		got = append(got, *n)
	}
	want := []NAS{
		{Name: "switch-1", Prefix: netip.MustParsePrefix("127.0.0.1/32"),
			Secret: []byte("secret-from-file"), TunnelTag: 1},
		{Name: "lab", Prefix: netip.MustParsePrefix("127.0.0.0/8"),
			Secret: []byte("lab-secret"), Legacy: true},
	}
	prefixes := cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })
	if diff := cmp.Diff(want, got, prefixes); diff != "" {
		t.Errorf("clients (-want +got):\n%s", diff)
	}
}

func TestClientConfigErrors(t *testing.T) {
	tests := []struct {
		name      string
		block     string
		wantField string
	}{
		{"no secret", `address = "127.0.0.1"`, "secret"},
		{"both secrets", `address = "127.0.0.1"
secret = "s3cr3t-value"
secret_file = "switch.secret"`, "secret"},
		{"bad address", `address = "127.0.0.300"
secret = "s3cr3t-value"`, "address"},
		{"address with zone", `address = "fe80::1%eth0"
secret = "s3cr3t-value"`, "address"},
		{"empty address", `address = ""
secret = "s3cr3t-value"`, "address"},
		{"tag too high", `address = "127.0.0.1"
secret = "s3cr3t-value"
tunnel_tag = 32`, "tunnel_tag"},
		{"negative tag", `address = "127.0.0.1"
secret = "s3cr3t-value"
tunnel_tag = -1`, "tunnel_tag"},
		{"missing secret file", `address = "127.0.0.1"
secret_file = "no-such.secret"`, "secret_file"},
		{"empty secret file", `address = "127.0.0.1"
secret_file = "empty.secret"`, "secret_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := fmt.Sprintf("\n\nclient \"nas\" {\n%s\n}\n", tt.block)
			cfgs, err := ParseClientsHCL([]byte(src), "clients.hcl")
			if err != nil {
				t.Fatal(err)
			}
			_, err = BuildClientTable(cfgs, "testdata")
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v, want a *ConfigError", err)
			}
			if ce.Field != tt.wantField || ce.Client != "nas" || ce.Range.Start.Line != 3 {
				t.Errorf("error for client %q field %q line %d, want nas, %s, 3",
					ce.Client, ce.Field, ce.Range.Start.Line, tt.wantField)
			}
			if !strings.Contains(err.Error(), "clients.hcl:3") {
				t.Errorf("error %q does not name clients.hcl:3", err)
			}
			if strings.Contains(err.Error(), "s3cr3t-value") {
				t.Errorf("error %q contains the secret", err)
			}
		})
	}
}

func TestClientConfigDuplicates(t *testing.T) {
	tests := []struct{ name, src string }{
		{"name", `client "a" {
  address = "127.0.0.1"
  secret = "x"
}
client "a" {
  address = "127.0.0.2"
  secret = "x"
}`},
		{"prefix", `client "a" {
  address = "127.0.0.1"
  secret = "x"
}
client "b" {
  address = "127.0.0.1/32"
  secret = "x"
}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfgs, err := ParseClientsHCL([]byte(tt.src), "clients.hcl")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := BuildClientTable(cfgs, ""); err == nil {
				t.Error("BuildClientTable accepted a duplicate")
			}
		})
	}
}

func TestParseClientsHCLRejectsUnknownField(t *testing.T) {
	src := `client "a" {
  address = "127.0.0.1"
  secret = "x"
  colour = "blue"
}`
	if _, err := ParseClientsHCL([]byte(src), "clients.hcl"); err == nil {
		t.Error("ParseClientsHCL accepted an unknown attribute")
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	const secret = "do-not-print-me"
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "s"), []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	n := NAS{Name: "nas", Prefix: netip.MustParsePrefix("127.0.0.1/32"), Secret: []byte(secret)}
	c := ClientConfig{Name: "nas", Address: "127.0.0.1", Secret: secret}
	a := ServerAddr{Addr: "127.0.0.1:1812", Secret: []byte(secret)}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{n, &n, c, &c, a, &a} {
			if out := fmt.Sprintf(format, v); strings.Contains(out, secret) {
				t.Errorf("%s of %T prints the secret: %s", format, v, out)
			}
		}
	}
}

func TestClientTableMostSpecificWins(t *testing.T) {
	table, err := NewClientTable(
		NAS{Name: "any", Prefix: netip.MustParsePrefix("127.0.0.0/8"), Secret: []byte("a")},
		NAS{Name: "lab", Prefix: netip.MustParsePrefix("127.0.1.0/24"), Secret: []byte("b")},
		NAS{Name: "host", Prefix: netip.MustParsePrefix("127.0.1.7/32"), Secret: []byte("c")},
		NAS{Name: "v6", Prefix: netip.MustParsePrefix("::1/128"), Secret: []byte("d")},
	)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		addr string
		want string
	}{
		{"127.0.0.1", "any"},
		{"127.0.1.1", "lab"},
		{"127.0.1.7", "host"},
		{"::ffff:127.0.1.7", "host"},
		{"::1", "v6"},
		{"10.0.0.1", ""},
		{"::2", ""},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			n, ok := table.Lookup(netip.MustParseAddr(tt.addr))
			got := ""
			if ok {
				got = n.Name
			}
			if got != tt.want {
				t.Errorf("Lookup(%s) = %q, want %q", tt.addr, got, tt.want)
			}
		})
	}
}
