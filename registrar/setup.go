package registrar

import (
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
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
// missing or invalid at its block. It checks that the registrar_cert
// chains to the domain CA of domain_ca, or to the generated domain CA in
// DataDir when there is one.
func (c *Config) CheckFiles() hcl.Diagnostics {
	var diags hcl.Diagnostics
	ca, err := c.existingDomainCA()
	if err != nil {
		diags = append(diags, fileError(c.DomainCA.DefRange, "domain_ca", err))
	}
	if kp := c.RegistrarCert; kp != nil {
		rc, err := LoadRegistrarCert(kp.Cert, kp.Key)
		if err == nil && ca != nil {
			_, err = linkDomainCA(rc, ca, kp.Cert)
		}
		if err != nil {
			diags = append(diags, fileError(kp.DefRange, "registrar_cert", err))
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

// existingDomainCA loads the domain_ca files, or the generated domain CA in
// DataDir. Without domain_ca, it returns nil and no error when DataDir has
// no domain CA that loads.
func (c *Config) existingDomainCA() (*DomainCA, error) {
	if c.DomainCA != nil {
		return LoadDomainCA(c.DomainCA.Cert, c.DomainCA.Key)
	}
	certFile := filepath.Join(c.DataDir, DomainCACertFile)
	if _, err := os.Stat(certFile); err != nil {
		return nil, nil
	}
	ca, err := LoadDomainCA(certFile, filepath.Join(c.DataDir, DomainCAKeyFile))
	if err != nil {
		// Options reports a broken generated CA at start; CheckFiles checks
		// only the files that the configuration names.
		return nil, nil
	}
	return ca, nil
}

func fileError(rng hcl.Range, block string, err error) *hcl.Diagnostic {
	return errorAt(rng, "%s: %s", block, strings.TrimPrefix(err.Error(), "registrar: "))
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
	if kp := c.RegistrarCert; kp != nil {
		rc, err := LoadRegistrarCert(kp.Cert, kp.Key)
		if err != nil {
			return nil, err
		}
		return linkDomainCA(rc, ca, kp.Cert)
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
	mcfg := masaclient.Config{Certificates: []tls.Certificate{rc.TLSCertificate()}}
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
