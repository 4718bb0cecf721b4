package masa

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/brski-eap/brski/internal/hclcheck"
	"github.com/brski-eap/brski/voucher"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// Defaults of the Config fields.
const (
	DefaultListen            = "127.0.0.1:9443"
	DefaultRateInterval      = time.Minute
	DefaultAssertion         = voucher.AssertionLogged
	DefaultNoncelessLifetime = 20 * time.Minute // RFC 8995, Section 5.6 recommends about 20 min
	DefaultMaxClockSkew      = 10 * time.Minute
	DefaultReadTimeout       = 30 * time.Second
	// DefaultWriteMargin is how much longer than ReadTimeout the default
	// WriteTimeout is, so that the 400 for a body that stalled until
	// ReadTimeout still reaches the client.
	DefaultWriteMargin = 30 * time.Second
)

// AnyDevice is the Owners key that applies to every device.
const AnyDevice = "*"

// Config configures a MASA Server. Zero fields take the defaults above.
type Config struct {
	// Listen is the TCP address of ListenAndServe, default 127.0.0.1:9443.
	Listen string
	// FactoryDir is the directory of the factory whose devices the MASA
	// serves (see InitFactory). Required.
	FactoryDir string
	// DataDir holds the MASA database and a generated TLS certificate.
	// Required.
	DataDir string
	// TLSCertFile and TLSKeyFile are the server certificate chain and key
	// in PEM. When both are empty, New issues a certificate from the
	// factory CA into DataDir.
	TLSCertFile, TLSKeyFile string
	// RateInterval is the minimum time between two vouchers for the same
	// device, default 1 min. A claim within it gets 503 with Retry-After.
	RateInterval time.Duration
	// Assertion is the assertion of issued vouchers, default "logged".
	// With "proximity" the pledge's proximity-registrar-cert must be the
	// certificate of the registrar that signed the request, or its domain CA.
	Assertion voucher.Assertion
	// Owners maps a serial number, or AnyDevice, to the domain CAs that may
	// receive nonceless vouchers for that device.
	Owners map[string][]*x509.Certificate
	// NoncelessLifetime is the validity of a nonceless voucher, default
	// 20 min, shortened to the expiry of the domain CA or the registrar
	// certificate.
	NoncelessLifetime time.Duration
	// MaxClockSkew bounds how far the created-on of a registrar voucher
	// request may lie in the past or the future, default 10 min. Older
	// requests are replays or come from a registrar with a wrong clock.
	MaxClockSkew time.Duration
	// ReadTimeout bounds reading one request, headers and body, default
	// 30 s. WriteTimeout bounds the time from the end of the headers to the
	// end of the response; its default is ReadTimeout plus 30 s, so that a
	// client whose body stalled still gets the 400.
	ReadTimeout, WriteTimeout time.Duration
	// OnRequest, when set, is called once per request after the response
	// was written, so the program can log it.
	OnRequest func(RequestLog)
	// Now returns the current time, default time.Now.
	Now func() time.Time
}

// hclConfig is the HCL schema of a MASA configuration file; docs/masa.md
// describes it.
type hclConfig struct {
	Listen            string     `hcl:"listen,optional"`
	FactoryDir        string     `hcl:"factory_dir"`
	DataDir           string     `hcl:"data_dir"`
	RateInterval      string     `hcl:"rate_interval,optional"`
	Assertion         string     `hcl:"assertion,optional"`
	NoncelessLifetime string     `hcl:"nonceless_voucher_lifetime,optional"`
	MaxClockSkew      string     `hcl:"max_clock_skew,optional"`
	TLS               *hclTLS    `hcl:"tls,block"`
	Owners            []hclOwner `hcl:"owner,block"`

	ListenRange     hcl.Range `hcl:"listen,attr_range"`
	RateRange       hcl.Range `hcl:"rate_interval,attr_range"`
	AssertionRange  hcl.Range `hcl:"assertion,attr_range"`
	LifetimeRange   hcl.Range `hcl:"nonceless_voucher_lifetime,attr_range"`
	SkewRange       hcl.Range `hcl:"max_clock_skew,attr_range"`
	FactoryDirRange hcl.Range `hcl:"factory_dir,attr_range"`
	DataDirRange    hcl.Range `hcl:"data_dir,attr_range"`
}

type hclTLS struct {
	CertFile string    `hcl:"cert_file"`
	KeyFile  string    `hcl:"key_file"`
	Range    hcl.Range `hcl:",def_range"`
}

type hclOwner struct {
	Serial       string    `hcl:"serial,label"`
	DomainCAFile string    `hcl:"domain_ca_file"`
	SerialRange  hcl.Range `hcl:"serial,label_range"`
	FileRange    hcl.Range `hcl:"domain_ca_file,attr_range"`
}

// LoadConfig reads a MASA configuration file in HCL. Relative paths in it
// are relative to the file's directory. The error of an invalid file is an
// hcl.Diagnostics that names the file, line and field of each problem.
func LoadConfig(path string) (*Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("masa: %w", err)
	}
	return ParseConfig(src, path)
}

// ParseConfig parses the HCL configuration src that was read from filename.
func ParseConfig(src []byte, filename string) (*Config, error) {
	file, diags := hclcheck.ParseHCL(hclparse.NewParser(), src, filename)
	if diags.HasErrors() {
		return nil, diags
	}
	var raw hclConfig
	if diags := gohcl.DecodeBody(file.Body, nil, &raw); diags.HasErrors() {
		return nil, diags
	}
	base := filepath.Dir(filename)
	cfg := &Config{Listen: raw.Listen, FactoryDir: resolve(base, raw.FactoryDir),
		DataDir: resolve(base, raw.DataDir), Assertion: voucher.Assertion(raw.Assertion)}
	diags = raw.validate(cfg)
	if raw.TLS != nil {
		cfg.TLSCertFile = resolve(base, raw.TLS.CertFile)
		cfg.TLSKeyFile = resolve(base, raw.TLS.KeyFile)
	}
	diags = append(diags, raw.loadOwners(cfg, base)...)
	if diags.HasErrors() {
		return nil, diags
	}
	return cfg, nil
}

func resolve(base, path string) string {
	if path == "" || filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(base, path)
}

func errorAt(rng hcl.Range, summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail,
		Subject: rng.Ptr()}
}

// validate checks the plain fields and fills cfg with their parsed values.
func (raw *hclConfig) validate(cfg *Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if raw.Listen != "" {
		_, port, err := net.SplitHostPort(raw.Listen)
		if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 1 || n > 65535 {
			diags = append(diags, errorAt(raw.ListenRange, "Invalid listen address",
				fmt.Sprintf("listen %q must be host:port with a port 1-65535.", raw.Listen)))
		}
	}
	if raw.FactoryDir == "" {
		diags = append(diags, errorAt(raw.FactoryDirRange, "Empty factory_dir",
			"factory_dir must name the directory of \"brski factory init\"."))
	}
	if raw.DataDir == "" {
		diags = append(diags, errorAt(raw.DataDirRange, "Empty data_dir",
			"data_dir must name a directory for the MASA database."))
	}
	durations := []struct {
		name  string
		value string
		rng   hcl.Range
		dst   *time.Duration
	}{
		{"rate_interval", raw.RateInterval, raw.RateRange, &cfg.RateInterval},
		{"nonceless_voucher_lifetime", raw.NoncelessLifetime, raw.LifetimeRange,
			&cfg.NoncelessLifetime},
		{"max_clock_skew", raw.MaxClockSkew, raw.SkewRange, &cfg.MaxClockSkew},
	}
	for _, d := range durations {
		if d.value == "" {
			continue
		}
		v, err := time.ParseDuration(d.value)
		if err != nil || v <= 0 {
			diags = append(diags, errorAt(d.rng, "Invalid duration", fmt.Sprintf(
				"%s %q must be a positive duration such as \"90s\" or \"20m\".", d.name, d.value)))
			continue
		}
		*d.dst = v
	}
	if cfg.Assertion != "" && !cfg.Assertion.Valid() {
		diags = append(diags, errorAt(raw.AssertionRange, "Invalid assertion", fmt.Sprintf(
			"assertion %q must be \"verified\", \"logged\" or \"proximity\".", raw.Assertion)))
	}
	if raw.TLS != nil && (raw.TLS.CertFile == "") != (raw.TLS.KeyFile == "") {
		diags = append(diags, errorAt(raw.TLS.Range, "Incomplete tls block",
			"Set both cert_file and key_file, or remove the tls block to let the MASA "+
				"issue its own certificate."))
	}
	return diags
}

// loadOwners reads the domain CA files of the owner blocks into cfg.Owners.
func (raw *hclConfig) loadOwners(cfg *Config, base string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	seen := map[string]bool{}
	for _, o := range raw.Owners {
		if o.Serial != AnyDevice {
			if err := ValidateSerialNumber(o.Serial); err != nil {
				diags = append(diags, errorAt(o.SerialRange, "Invalid owner serial number",
					err.Error()+"; or use \"*\" for every device."))
				continue
			}
		}
		if seen[o.Serial] {
			diags = append(diags, errorAt(o.SerialRange, "Duplicate owner block", fmt.Sprintf(
				"Device %q has a second owner block; put all its domain CAs in one PEM file.",
				o.Serial)))
			continue
		}
		seen[o.Serial] = true
		certs, err := ReadCertificates(resolve(base, o.DomainCAFile))
		if err != nil {
			diags = append(diags, errorAt(o.FileRange, "Invalid domain_ca_file", err.Error()))
			continue
		}
		if cfg.Owners == nil {
			cfg.Owners = map[string][]*x509.Certificate{}
		}
		cfg.Owners[o.Serial] = certs
	}
	return diags
}

// withDefaults returns a copy of cfg with the defaults filled in, or an error
// for a field that no default can fix.
func (cfg Config) withDefaults() (Config, error) {
	setDefault(&cfg.Listen, DefaultListen)
	setDefault(&cfg.RateInterval, DefaultRateInterval)
	setDefault(&cfg.Assertion, DefaultAssertion)
	setDefault(&cfg.NoncelessLifetime, DefaultNoncelessLifetime)
	setDefault(&cfg.MaxClockSkew, DefaultMaxClockSkew)
	setDefault(&cfg.ReadTimeout, DefaultReadTimeout)
	setDefault(&cfg.WriteTimeout, cfg.ReadTimeout+DefaultWriteMargin)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	switch {
	case cfg.FactoryDir == "":
		return cfg, errors.New("masa: config has no factory directory")
	case cfg.DataDir == "":
		return cfg, errors.New("masa: config has no data directory")
	case !cfg.Assertion.Valid():
		return cfg, fmt.Errorf("masa: invalid assertion %q; use verified, logged or proximity",
			cfg.Assertion)
	case cfg.RateInterval < 0 || cfg.NoncelessLifetime < 0 || cfg.MaxClockSkew < 0:
		return cfg, errors.New("masa: negative rate interval, nonceless voucher lifetime " +
			"or clock skew")
	case cfg.ReadTimeout < 0 || cfg.WriteTimeout <= cfg.ReadTimeout:
		return cfg, fmt.Errorf("masa: write timeout %v must be longer than read timeout %v",
			cfg.WriteTimeout, cfg.ReadTimeout)
	case (cfg.TLSCertFile == "") != (cfg.TLSKeyFile == ""):
		return cfg, errors.New("masa: set both TLS certificate and key files, or neither")
	}
	return cfg, nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}
