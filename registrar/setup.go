package registrar

import (
	"crypto/tls"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/brski-eap/brski/masaclient"
)

// Options turns a validated configuration into registrar Options with st as
// the store. It loads or generates the domain CA and the registrar
// certificate in DataDir, reads the manufacturer files and creates the MASA
// client. The caller adds hooks such as OnRequest.
func (c *Config) Options(st Store, now time.Time) (Options, error) {
	opts := Options{Store: st, Policy: c.Policy}
	var err error
	if opts.DomainCA, err = c.domainCA(now); err != nil {
		return opts, err
	}
	if opts.Cert, err = c.registrarCert(opts.DomainCA, now); err != nil {
		return opts, err
	}
	for _, mc := range c.Manufacturers {
		m, err := mc.load()
		if err != nil {
			return opts, err
		}
		opts.Manufacturers = append(opts.Manufacturers, m)
	}
	if opts.MASA, err = c.masaClient(opts.Cert); err != nil {
		return opts, err
	}
	// Validate has checked the durations, so the errors are nil here.
	opts.VoucherWait, _ = parseDuration(c.VoucherWait)
	opts.RetryAfter, _ = parseDuration(c.RetryAfter)
	opts.PendingTTL, _ = parseDuration(c.PendingTTL)
	opts.LDevIDValidity, _ = parseDuration(c.LDevIDValidity)
	return opts, nil
}

// CheckFiles reads the certificate and key files that the configuration
// names, without generating anything, and reports each file that is
// missing or invalid at its block.
func (c *Config) CheckFiles() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, kp := range []struct {
		name string
		cfg  *KeyPairConfig
	}{{"domain_ca", c.DomainCA}, {"registrar_cert", c.RegistrarCert}} {
		if kp.cfg == nil {
			continue
		}
		var err error
		if kp.name == "domain_ca" {
			_, err = LoadDomainCA(kp.cfg.Cert, kp.cfg.Key)
		} else {
			_, err = LoadRegistrarCert(kp.cfg.Cert, kp.cfg.Key)
		}
		if err != nil {
			diags = append(diags, errorAt(kp.cfg.DefRange, "%s: %s", kp.name,
				strings.TrimPrefix(err.Error(), "registrar: ")))
		}
	}
	for _, mc := range c.Manufacturers {
		if _, err := mc.load(); err != nil {
			diags = append(diags, errorAt(mc.DefRange, "%s",
				strings.TrimPrefix(err.Error(), "registrar: ")))
		}
	}
	if mc := c.MASAClient; mc != nil && mc.Trust != "" {
		if _, err := readCertificates(mc.Trust); err != nil {
			diags = append(diags, errorAt(mc.DefRange, "masa_client: trust: %v", err))
		}
	}
	return diags
}

func (c *Config) domainCA(now time.Time) (*DomainCA, error) {
	if c.DomainCA != nil {
		return LoadDomainCA(c.DomainCA.Cert, c.DomainCA.Key)
	}
	return GenerateDomainCA(c.DataDir, now)
}

// registrarCert loads the configured registrar certificate or generates
// one in DataDir. A generated certificate needs the domain CA's key.
func (c *Config) registrarCert(ca *DomainCA, now time.Time) (*RegistrarCert, error) {
	if c.RegistrarCert != nil {
		return LoadRegistrarCert(c.RegistrarCert.Cert, c.RegistrarCert.Key)
	}
	hosts := c.Hostnames
	if len(hosts) == 0 {
		hosts = DefaultHostnames()
	}
	return GenerateRegistrarCert(c.DataDir, ca, hosts, now)
}

// load reads the manufacturer's files and applies the key rule of the
// domain CA to each of their certificates.
func (mc ManufacturerConfig) load() (Manufacturer, error) {
	m := Manufacturer{Name: mc.Name, MASAURL: mc.MASAURL}
	var err error
	if m.CA, err = readCertificates(mc.CA); err != nil {
		return m, fmt.Errorf("registrar: manufacturer %q: ca: %w", mc.Name, err)
	}
	role := fmt.Sprintf("manufacturer %q ca certificate", mc.Name)
	if err := checkCertKeys(m.CA, mc.CA, role); err != nil {
		return m, err
	}
	if m.MASATrust, err = readCertificates(mc.MASATrust); err != nil {
		return m, fmt.Errorf("registrar: manufacturer %q: masa_trust: %w", mc.Name, err)
	}
	role = fmt.Sprintf("manufacturer %q masa_trust certificate", mc.Name)
	if err := checkCertKeys(m.MASATrust, mc.MASATrust, role); err != nil {
		return m, err
	}
	return m, nil
}

// masaClient creates the MASA client. The registrar presents its own
// certificate as the TLS client certificate (RFC 8995, Section 5.4.1).
func (c *Config) masaClient(rc *RegistrarCert) (*masaclient.Client, error) {
	mcfg := masaclient.Config{Certificates: []tls.Certificate{rc.TLSCertificate()},
		OnRetry: c.OnMASARetry}
	if mc := c.MASAClient; mc != nil {
		if mc.Trust != "" {
			roots, err := readCertificates(mc.Trust)
			if err != nil {
				return nil, fmt.Errorf("registrar: masa_client: trust: %w", err)
			}
			mcfg.RootCAs = chainPool(roots)
		}
		mcfg.Timeout, _ = parseDuration(mc.Timeout)
		mcfg.MaxAttempts = mc.MaxAttempts
	}
	client, err := masaclient.New(mcfg)
	if err != nil {
		return nil, fmt.Errorf("registrar: %w", err)
	}
	return client, nil
}
