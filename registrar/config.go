package registrar

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/brski-eap/brski/internal/hclcheck"
	"github.com/brski-eap/brski/policies"
)

// Defaults of Config.
const (
	DefaultListen  = "127.0.0.1:8443"
	DefaultDataDir = "data"
)

// DefaultHostnames are the names in a generated registrar certificate.
func DefaultHostnames() []string { return []string{"localhost", "127.0.0.1", "::1"} }

// Config is a registrar configuration file in HCL. docs/configuration.md
// describes every field. Relative paths are relative to the directory of
// the file.
type Config struct {
	// Listen is the HTTPS address, default 127.0.0.1:8443.
	Listen string `hcl:"listen,optional"`
	// DataDir holds the store, the generated domain CA and the generated
	// registrar certificate, default "data" as for "brski devices".
	DataDir string `hcl:"data_dir,optional"`
	// Hostnames are the DNS names and IP addresses of a generated
	// registrar certificate, default localhost, 127.0.0.1 and ::1.
	Hostnames []string `hcl:"hostnames,optional"`
	// VoucherWait, RetryAfter, PendingTTL and LDevIDValidity are Go
	// durations such as "2s" or "8760h"; see Options for the defaults.
	VoucherWait    string `hcl:"voucher_wait,optional"`
	RetryAfter     string `hcl:"retry_after,optional"`
	PendingTTL     string `hcl:"pending_ttl,optional"`
	LDevIDValidity string `hcl:"ldevid_validity,optional"`
	// PolicyFiles are policy files to load instead of policy blocks in
	// this file.
	PolicyFiles []string `hcl:"policy_files,optional"`

	DomainCA      *KeyPairConfig       `hcl:"domain_ca,block"`
	RegistrarCert *KeyPairConfig       `hcl:"registrar_cert,block"`
	Manufacturers []ManufacturerConfig `hcl:"manufacturer,block"`
	MASAClient    *MASAClientConfig    `hcl:"masa_client,block"`
	// RADIUS is the radius block, kept undecoded for the RADIUS server.
	RADIUS *BlockConfig `hcl:"radius,block"`

	// Remain contains the policy blocks (rule and default).
	Remain hcl.Body `hcl:",remain"`

	ListenRange         hcl.Range `hcl:"listen,attr_range"`
	HostnamesRange      hcl.Range `hcl:"hostnames,attr_range"`
	VoucherWaitRange    hcl.Range `hcl:"voucher_wait,attr_range"`
	RetryAfterRange     hcl.Range `hcl:"retry_after,attr_range"`
	PendingTTLRange     hcl.Range `hcl:"pending_ttl,attr_range"`
	LDevIDValidityRange hcl.Range `hcl:"ldevid_validity,attr_range"`
	PolicyFilesRange    hcl.Range `hcl:"policy_files,attr_range"`

	// The fields below have no hcl tag, so that gohcl leaves them alone.
	// A tag of "-" would declare an attribute named "-".

	// Filename is the path of the file that LoadConfig read.
	Filename string
	// Policy is the decoded policy, from the blocks or PolicyFiles.
	Policy *policies.Policy
}

// KeyPairConfig names a PEM certificate file and its PEM private key file.
type KeyPairConfig struct {
	Cert     string    `hcl:"cert"`
	Key      string    `hcl:"key"`
	DefRange hcl.Range `hcl:",def_range"`
}

// ManufacturerConfig is a manufacturer block: a trusted factory.
type ManufacturerConfig struct {
	Name string `hcl:"name,label"`
	// CA is the PEM file of the factory CA certificates.
	CA string `hcl:"ca"`
	// MASATrust is the PEM file of the MASA's voucher signing anchors.
	MASATrust string `hcl:"masa_trust"`
	// MASAURL overrides the MASA URL extension of the IDevIDs.
	MASAURL  string    `hcl:"masa_url,optional"`
	DefRange hcl.Range `hcl:",def_range"`
}

// MASAClientConfig configures the HTTPS client for MASAs.
type MASAClientConfig struct {
	// Trust is a PEM file of the roots for the MASA's TLS certificate;
	// empty means the host's roots.
	Trust string `hcl:"trust,optional"`
	// Timeout bounds one attempt, a Go duration; default 30s.
	Timeout string `hcl:"timeout,optional"`
	// MaxAttempts is the number of attempts per request; default 3.
	MaxAttempts int       `hcl:"max_attempts,optional"`
	DefRange    hcl.Range `hcl:",def_range"`
}

// BlockConfig is a block whose content another package decodes.
type BlockConfig struct {
	Body     hcl.Body  `hcl:",remain"`
	DefRange hcl.Range `hcl:",def_range"`
}

// ConfigError lists the problems of a configuration file, each with the
// file, line and field.
type ConfigError struct {
	Diagnostics hcl.Diagnostics
}

// Error returns one line per problem.
func (e *ConfigError) Error() string {
	var lines []string
	for _, d := range e.Diagnostics {
		if d.Severity == hcl.DiagError {
			lines = append(lines, policies.FormatDiagnostic(d))
		}
	}
	return "registrar: " + strings.Join(lines, "\nregistrar: ")
}

// defaultConfig is the configuration without a file: a generated domain CA
// in DefaultDataDir, no manufacturer, and a policy that accepts only the
// devices in the expected-devices list that have no history in another
// domain.
const defaultConfig = `
rule "expected-devices" {
  expected = true
  outcome  = "accept"
  reason   = "device is in the expected-devices list"
  audit_log {
    other_domains = 0
  }
}
default {
  outcome = "reject"
  reason  = "needs an expected-devices entry and an IDevID of a configured manufacturer"
}
`

// DefaultConfig returns the configuration that applies without a file. Its
// relative data directory is relative to the working directory.
func DefaultConfig() (*Config, error) {
	return ParseConfig("default.hcl", []byte(defaultConfig))
}

// LoadConfig reads, decodes and validates a configuration file. Errors are
// a *ConfigError or a *policies.LoadError.
func LoadConfig(path string) (*Config, error) {
	return ParseConfig(path, nil)
}

// ParseConfig decodes configuration source, or reads path when src is
// nil. Relative paths in it are made relative to the directory of path.
func ParseConfig(path string, src []byte) (*Config, error) {
	p := hclparse.NewParser()
	var f *hcl.File
	var diags hcl.Diagnostics
	switch {
	case src == nil:
		f, diags = hclcheck.ParseHCLFile(p, path)
	default:
		f, diags = hclcheck.ParseHCL(p, src, path)
	}
	if diags.HasErrors() {
		return nil, &ConfigError{Diagnostics: diags}
	}
	cfg := &Config{Filename: path}
	if diags := gohcl.DecodeBody(f.Body, nil, cfg); diags.HasErrors() {
		// The attributes that failed keep their zero value, which Validate
		// accepts, so the other problems are reported as well.
		diags = hclcheck.SuggestTopLevel(f, diags, topLevelNames())
		return nil, &ConfigError{Diagnostics: append(diags, cfg.Validate()...)}
	}
	cfg.Filename = path
	cfg.resolvePaths(filepath.Dir(path))
	if err := cfg.loadPolicy(); err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			ce.Diagnostics = hclcheck.SuggestTopLevel(f, ce.Diagnostics, topLevelNames())
		}
		return nil, err
	}
	if diags := cfg.Validate(); diags.HasErrors() {
		return nil, &ConfigError{Diagnostics: diags}
	}
	return cfg, nil
}

// topLevelNames returns the names of the blocks and arguments that a
// registrar file may have at its top level, the policy blocks included.
func topLevelNames() []string {
	schema, _ := gohcl.ImpliedBodySchema(&Config{})
	var names []string
	for _, a := range schema.Attributes {
		names = append(names, a.Name)
	}
	for _, b := range append(schema.Blocks, policies.BodySchema.Blocks...) {
		names = append(names, b.Type)
	}
	return names
}

func (c *Config) resolvePaths(dir string) {
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	abs(&c.DataDir)
	for i := range c.PolicyFiles {
		abs(&c.PolicyFiles[i])
	}
	for _, kp := range []*KeyPairConfig{c.DomainCA, c.RegistrarCert} {
		if kp != nil {
			abs(&kp.Cert)
			abs(&kp.Key)
		}
	}
	for i := range c.Manufacturers {
		abs(&c.Manufacturers[i].CA)
		abs(&c.Manufacturers[i].MASATrust)
	}
	if c.MASAClient != nil {
		abs(&c.MASAClient.Trust)
	}
}

// loadPolicy decodes the embedded policy blocks or loads PolicyFiles.
func (c *Config) loadPolicy() error {
	content, _, _ := c.Remain.PartialContent(policies.BodySchema)
	embedded := len(content.Blocks) > 0
	switch {
	case embedded && len(c.PolicyFiles) > 0:
		return &ConfigError{Diagnostics: hcl.Diagnostics{errorAt(c.PolicyFilesRange,
			"policy_files is set, but the file also has rule or default blocks; "+
				"keep the policy in one place")}}
	case len(c.PolicyFiles) > 0:
		p, err := policies.LoadFiles(c.PolicyFiles...)
		if err != nil {
			return err
		}
		c.Policy = p
		return nil
	}
	p, diags := policies.Decode(c.Remain, c.Filename)
	if diags.HasErrors() {
		return &ConfigError{Diagnostics: diags}
	}
	c.Policy = p
	return nil
}

// Validate checks the values that decoding cannot: durations, the listen
// address, hostnames, manufacturer names and URLs. It changes nothing.
func (c *Config) Validate() hcl.Diagnostics {
	var diags hcl.Diagnostics
	if c.Listen != "" {
		if err := checkListen(c.Listen); err != nil {
			diags = append(diags, errorAt(c.ListenRange, "listen %q: %v", c.Listen, err))
		}
	}
	diags = append(diags, c.validateHostnames()...)
	durations := []struct {
		name, value string
		rng         hcl.Range
	}{
		{"voucher_wait", c.VoucherWait, c.VoucherWaitRange},
		{"retry_after", c.RetryAfter, c.RetryAfterRange},
		{"pending_ttl", c.PendingTTL, c.PendingTTLRange},
		{"ldevid_validity", c.LDevIDValidity, c.LDevIDValidityRange},
	}
	for _, d := range durations {
		if _, err := parseDuration(d.value); err != nil {
			diags = append(diags, errorAt(d.rng, "%s: %v", d.name, err))
		}
	}
	if v, err := parseDuration(c.LDevIDValidity); err == nil && v != 0 && v < MinLDevIDValidity {
		diags = append(diags, errorAt(c.LDevIDValidityRange,
			"ldevid_validity %q is shorter than the minimum %v", c.LDevIDValidity,
			MinLDevIDValidity))
	}
	seen := map[string]bool{}
	for _, m := range c.Manufacturers {
		if seen[m.Name] {
			diags = append(diags, errorAt(m.DefRange,
				"manufacturer %q is declared twice; merge the blocks", m.Name))
		}
		seen[m.Name] = true
		if m.Name == "" {
			diags = append(diags, errorAt(m.DefRange, "manufacturer name is empty"))
		}
	}
	if mc := c.MASAClient; mc != nil {
		if _, err := parseDuration(mc.Timeout); err != nil {
			diags = append(diags, errorAt(mc.DefRange, "masa_client: timeout: %v", err))
		}
		if mc.MaxAttempts < 0 {
			diags = append(diags, errorAt(mc.DefRange,
				"masa_client: max_attempts %d is negative; use 1 for no retries", mc.MaxAttempts))
		}
	}
	return diags
}

// MinLDevIDValidity is the shortest ldevid_validity that Validate accepts.
// A shorter lifetime expires before a device could use its LDevID.
const MinLDevIDValidity = time.Hour

// checkListen checks that listen is host:port with a port number 1-65535.
func checkListen(listen string) error {
	_, port, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("not host:port: %w", err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %q is not a number 1-65535", port)
	}
	return nil
}

// validateHostnames checks that each hostname is a DNS name or an IP
// address. An empty list is an error, because the certificate needs a name.
func (c *Config) validateHostnames() hcl.Diagnostics {
	if c.HostnamesRange.Filename != "" && len(c.Hostnames) == 0 {
		return hcl.Diagnostics{errorAt(c.HostnamesRange, "hostnames is empty; name at "+
			"least one DNS name or IP address, or remove it for the defaults %s",
			strings.Join(DefaultHostnames(), ", "))}
	}
	var diags hcl.Diagnostics
	for _, h := range c.Hostnames {
		if _, err := netip.ParseAddr(h); err == nil || validDNSName(h) {
			continue
		}
		diags = append(diags, errorAt(c.HostnamesRange, "hostnames: %q is neither a DNS "+
			"name nor an IP address", h))
	}
	return diags
}

// validDNSName reports whether name is a DNS name of letters, digits and
// hyphens in labels of 1-63 characters, as RFC 1123, Section 2.1 allows
// for host names.
func validDNSName(name string) bool {
	if name == "" || len(name) > 253 {
		return false
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// parseDuration parses a positive Go duration; "" is zero, the default.
func parseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as \"2s\" or \"8760h\"", s)
	}
	if d <= 0 {
		return 0, errors.New("the duration must be positive")
	}
	return d, nil
}

func errorAt(rng hcl.Range, format string, args ...any) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: fmt.Sprintf(format, args...),
		Subject: rng.Ptr()}
}
