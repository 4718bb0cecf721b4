package radius

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/brski-eap/brski/internal/hclcheck"
)

// ClientConfig is one client block of the HCL configuration:
//
//	client "switch-1" {
//	  address     = "192.0.2.10"      # or a CIDR prefix, "192.0.2.0/24"
//	  secret_file = "/etc/brski/switch-1.secret"
//	  legacy      = false
//	  tunnel_tag  = 0
//	}
//
// Exactly one of secret and secret_file is set.
type ClientConfig struct {
	// Name is the block label, which policies match on.
	Name string `hcl:"name,label"`
	// Address is an IP address or a CIDR prefix.
	Address string `hcl:"address"`
	// Secret is the shared secret written inline.
	Secret string `hcl:"secret,optional"`
	// SecretFile is a file whose content, less one trailing newline, is
	// the shared secret. A relative path is resolved against the
	// directory passed to BuildClientTable.
	SecretFile string `hcl:"secret_file,optional"`
	// Legacy accepts Access-Requests without Message-Authenticator when
	// they carry no EAP-Message. It defaults to false.
	Legacy bool `hcl:"legacy,optional"`
	// TunnelTag is the RFC 2868 tag, 0 to 31, for VLAN attributes.
	TunnelTag int `hcl:"tunnel_tag,optional"`

	// DefRange is the position of the block, filled by gohcl.
	DefRange hcl.Range `hcl:",def_range"`
}

// String returns the name and address of the client, never the secret.
func (c ClientConfig) String() string {
	return fmt.Sprintf("client %q (%s)", c.Name, c.Address)
}

// GoString returns the fields of the block with the secret elided.
func (c ClientConfig) GoString() string {
	return fmt.Sprintf("radius.ClientConfig{Name:%q, Address:%q, Secret:<%d octets>, "+
		"SecretFile:%q, Legacy:%t, TunnelTag:%d}",
		c.Name, c.Address, len(c.Secret), c.SecretFile, c.Legacy, c.TunnelTag)
}

// ConfigError is an invalid field of a client block. Its message names the
// file, line, client and field and never contains a secret.
type ConfigError struct {
	Client string
	Field  string
	Range  hcl.Range
	Err    error
}

func (e *ConfigError) Error() string {
	pos := ""
	if e.Range.Filename != "" {
		pos = fmt.Sprintf("%s:%d: ", e.Range.Filename, e.Range.Start.Line)
	}
	return fmt.Sprintf("radius: %sclient %q: %s: %v", pos, e.Client, e.Field, e.Err)
}

func (e *ConfigError) Unwrap() error { return e.Err }

// clientsFile is a file that contains only client blocks.
type clientsFile struct {
	Clients []ClientConfig `hcl:"client,block"`
}

// ParseClientsHCL decodes client blocks from HCL source. filename is used in
// error messages only.
func ParseClientsHCL(src []byte, filename string) ([]ClientConfig, error) {
	f, diags := hclcheck.ParseHCL(hclparse.NewParser(), src, filename)
	if diags.HasErrors() {
		return nil, fmt.Errorf("radius: parse clients: %w", diags)
	}
	var out clientsFile
	if diags := gohcl.DecodeBody(f.Body, nil, &out); diags.HasErrors() {
		return nil, fmt.Errorf("radius: decode clients: %w", diags)
	}
	return out.Clients, nil
}

// Validate checks the block without reading the secret file: a name,
// exactly one of secret and secret_file, a parsable address and a tag from
// 0 to 31. It changes nothing.
func (c ClientConfig) Validate() error {
	fail := func(field, format string, args ...any) error {
		return &ConfigError{Client: c.Name, Field: field, Range: c.DefRange,
			Err: fmt.Errorf(format, args...)}
	}
	switch {
	case c.Name == "":
		return fail("name", "empty label, name the client block")
	case c.Secret != "" && c.SecretFile != "":
		return fail("secret", "both secret and secret_file are set, keep one")
	case c.Secret == "" && c.SecretFile == "":
		return fail("secret", "missing, set secret or secret_file")
	case c.TunnelTag < 0 || c.TunnelTag > 31:
		return fail("tunnel_tag", "%d out of range 0-31", c.TunnelTag)
	}
	if _, err := parseClientAddress(c.Address); err != nil {
		return fail("address", "%w", err)
	}
	return nil
}

// parseClientAddress accepts an IP address or a CIDR prefix.
func parseClientAddress(s string) (netip.Prefix, error) {
	if s == "" {
		return netip.Prefix{}, errors.New("missing, set an IP address or CIDR prefix")
	}
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR prefix", s)
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// BuildClientTable validates the client blocks, reads their secret files
// and builds the table. dir resolves relative secret_file paths; empty
// means the working directory.
func BuildClientTable(cfgs []ClientConfig, dir string) (*ClientTable, error) {
	clients := make([]NAS, 0, len(cfgs))
	for _, c := range cfgs {
		n, err := c.nas(dir)
		if err != nil {
			return nil, err
		}
		clients = append(clients, n)
	}
	t, err := NewClientTable(clients...)
	if err != nil {
		return nil, err
	}
	return t, nil
}

func (c ClientConfig) nas(dir string) (NAS, error) {
	if err := c.Validate(); err != nil {
		return NAS{}, err
	}
	prefix, _ := parseClientAddress(c.Address)
	secret, _, err := c.readSecret(dir)
	if err != nil {
		return NAS{}, err
	}
	return NAS{Name: c.Name, Prefix: prefix, Secret: secret, Legacy: c.Legacy,
		TunnelTag: byte(c.TunnelTag)}, nil
}

// readSecret returns the shared secret of a valid block and the path of
// its secret file, which is empty for an inline secret.
func (c ClientConfig) readSecret(dir string) (secret []byte, path string, err error) {
	if c.SecretFile == "" {
		return []byte(c.Secret), "", nil
	}
	path = c.SecretFile
	if !filepath.IsAbs(path) && dir != "" {
		path = filepath.Join(dir, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", &ConfigError{Client: c.Name, Field: "secret_file",
			Range: c.DefRange, Err: err}
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	secret = bytes.TrimSuffix(b, []byte("\r"))
	if len(secret) == 0 {
		return nil, "", &ConfigError{Client: c.Name, Field: "secret_file", Range: c.DefRange,
			Err: fmt.Errorf("%s is empty, write the secret into it", path)}
	}
	return secret, path, nil
}
