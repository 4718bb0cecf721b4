package eapserver

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"

	"github.com/brski-eap/brski/eap"
	"github.com/brski-eap/brski/eapest"
	"github.com/brski-eap/brski/radius"
)

// DefaultListen is the RADIUS address of a radius block without listen.
// It is loopback, so a FreeRADIUS proxy on the same host can reach it and
// nothing else can until the operator says so.
const DefaultListen = "127.0.0.1:1812"

// Limits of FileConfig.FragmentSize. The upper one keeps an
// Access-Challenge with its State and Message-Authenticator within the
// 4096 octets of RFC 2865, Section 3.
const (
	minFragmentSize = eapest.MinFragmentSize
	maxFragmentSize = 3000
)

// FileConfig is the radius block of a registrar configuration file:
//
//	radius {
//	  listen        = "127.0.0.1:1812"
//	  fragment_size = 1024
//	  method_type   = 255
//	  tls_profile   = "default"
//	  client "switch-1" {
//	    address     = "192.0.2.10"
//	    secret_file = "switch-1.secret"
//	    tunnel_tag  = 0
//	  }
//	}
//
// method_type 254 (Expanded, RFC 3748, Section 5.7) needs vendor_id and
// vendor_type.
type FileConfig struct {
	// Listen is the UDP address. Default DefaultListen.
	Listen string `hcl:"listen,optional"`
	// FragmentSize is the TLS data per EAP Request; 0 means
	// eapest.DefaultFragmentSize.
	FragmentSize int `hcl:"fragment_size,optional"`
	// MethodType is the EAP-EST type: 255 (the default) or 254.
	MethodType int `hcl:"method_type,optional"`
	// VendorID and VendorType name an expanded EAP-EST type.
	VendorID   int `hcl:"vendor_id,optional"`
	VendorType int `hcl:"vendor_type,optional"`
	// ESTRealms are NAI realms whose identities are offered EAP-EST before
	// EAP-TLS; see Config.ESTRealms.
	ESTRealms []string `hcl:"est_realms,optional"`
	// TLSProfile names the TLS rules of EAP-TLS and EAP-EST: "default"
	// (also when empty) or "legacy", see eapest.ProfileLegacy.
	TLSProfile string `hcl:"tls_profile,optional"`
	// Clients are the NASes and proxies allowed to send requests.
	Clients []radius.ClientConfig `hcl:"client,block"`

	ListenRange       hcl.Range `hcl:"listen,attr_range"`
	FragmentSizeRange hcl.Range `hcl:"fragment_size,attr_range"`
	MethodTypeRange   hcl.Range `hcl:"method_type,attr_range"`
	VendorIDRange     hcl.Range `hcl:"vendor_id,attr_range"`
	VendorTypeRange   hcl.Range `hcl:"vendor_type,attr_range"`
	ESTRealmsRange    hcl.Range `hcl:"est_realms,attr_range"`
	TLSProfileRange   hcl.Range `hcl:"tls_profile,attr_range"`
	// DefRange is the position of the block header, if the caller sets it.
	DefRange hcl.Range
}

// DecodeFileConfig decodes and validates the content of a radius block.
// def is the block's position, for errors about the block as a whole.
func DecodeFileConfig(body hcl.Body, def hcl.Range) (*FileConfig, hcl.Diagnostics) {
	var c FileConfig
	if diags := gohcl.DecodeBody(body, nil, &c); diags.HasErrors() {
		return nil, diags
	}
	c.DefRange = def
	if diags := c.Validate(); diags.HasErrors() {
		return nil, diags
	}
	return &c, nil
}

// Validate checks the values that decoding cannot and changes nothing.
// Each problem names the file, line and field.
func (c *FileConfig) Validate() hcl.Diagnostics {
	var diags hcl.Diagnostics
	bad := func(field string, r hcl.Range, format string, args ...any) {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError,
			Summary: "radius: invalid " + field, Detail: fmt.Sprintf(format, args...),
			Subject: r.Ptr()})
	}
	if c.Listen != "" {
		_, port, err := net.SplitHostPort(c.Listen)
		switch {
		case err != nil:
			bad("listen", c.ListenRange, "%q is not host:port; use an address such as %q",
				c.Listen, DefaultListen)
		case !validPort(port):
			bad("listen", c.ListenRange, "port %q of %q is not a number from 0 to 65535; "+
				"use an address such as %q", port, c.Listen, DefaultListen)
		}
	}
	if c.FragmentSize != 0 && (c.FragmentSize < minFragmentSize ||
		c.FragmentSize > maxFragmentSize) {
		bad("fragment_size", c.FragmentSizeRange, "%d is out of range; use %d to %d",
			c.FragmentSize, minFragmentSize, maxFragmentSize)
	}
	if _, err := c.ESTType(); err != nil {
		bad("method_type", firstRange(c.MethodTypeRange, c.VendorIDRange,
			c.VendorTypeRange, c.DefRange), "%v", err)
	}
	for _, realm := range c.ESTRealms {
		if realm == "" || strings.ContainsAny(realm, "@ \t") {
			bad("est_realms", c.ESTRealmsRange, "realm %q is not a realm name; "+
				"write the part after the @ of an identity, such as \"pledges.example\"",
				realm)
		}
	}
	if _, err := c.Profile(); err != nil {
		bad("tls_profile", c.TLSProfileRange, "%v", err)
	}
	names := map[string]bool{}
	for _, cl := range c.Clients {
		if err := cl.Validate(); err != nil {
			bad("client", cl.DefRange, "%v", err)
		}
		if names[cl.Name] {
			bad("client", cl.DefRange, "client %q is declared twice; rename one", cl.Name)
		}
		names[cl.Name] = true
	}
	if len(c.Clients) == 0 {
		bad("radius block", c.DefRange, "no client block; declare the switches or "+
			"the FreeRADIUS proxy that may send requests")
	}
	return diags
}

// firstRange returns the first range that names a file.
func firstRange(rs ...hcl.Range) hcl.Range {
	for _, r := range rs {
		if r.Filename != "" {
			return r
		}
	}
	return hcl.Range{}
}

func validPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 0 && n <= 65535
}

// ESTType returns the configured EAP-EST method type.
func (c *FileConfig) ESTType() (eap.MethodType, error) {
	switch c.MethodType {
	case 0, int(eap.TypeExperimental):
		if c.VendorID != 0 || c.VendorType != 0 {
			return eap.MethodType{}, fmt.Errorf("vendor_id and vendor_type need " +
				"method_type = 254")
		}
		return eapest.TypeEST, nil
	case int(eap.TypeExpanded):
		if c.VendorID <= 0 || c.VendorID > eap.MaxVendorID || c.VendorType <= 0 ||
			int64(c.VendorType) > 1<<32-1 {
			return eap.MethodType{}, fmt.Errorf("method_type 254 needs vendor_id from 1 "+
				"to %d and a non-zero 32-bit vendor_type", eap.MaxVendorID)
		}
		return eap.MethodType{Type: eap.TypeExpanded, VendorID: uint32(c.VendorID),
			VendorType: uint32(c.VendorType)}, nil
	}
	return eap.MethodType{}, fmt.Errorf("%d is not supported; use 255 (Experimental, "+
		"RFC 3748, Section 5.8) or 254 with vendor_id and vendor_type", c.MethodType)
}

// Profile returns the configured TLS profile: eapest.ProfileDefault when
// tls_profile is absent, or an error that wraps eapest.ErrUnknownTLSProfile
// for any name but "default" and "legacy".
func (c *FileConfig) Profile() (eapest.TLSProfile, error) {
	if c.TLSProfile == "" && c.TLSProfileRange.Filename == "" {
		return eapest.ProfileDefault, nil
	}
	return eapest.ParseTLSProfile(c.TLSProfile)
}

// ListenAddr returns Listen, or DefaultListen when it is empty.
func (c *FileConfig) ListenAddr() string {
	if c.Listen == "" {
		return DefaultListen
	}
	return c.Listen
}

// ClientTable reads the secret files and builds the client table. dir
// resolves relative secret_file paths, normally the directory of the
// configuration file.
func (c *FileConfig) ClientTable(dir string) (*radius.ClientTable, error) {
	t, err := radius.BuildClientTable(c.Clients, dir)
	if err != nil {
		return nil, fmt.Errorf("eapserver: %w", err)
	}
	return t, nil
}
