package authenticator

import (
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"

	"github.com/brski-eap/brski/authenticator/pae"
)

// Config is the HCL configuration of "brski authenticator":
//
//	nas_identifier         = "lab-switch"
//	nas_ip                 = "192.0.2.1"   # optional
//	mode                   = "single-host" # or multi-host, multi-auth
//	unauthenticated_bridge = "br-unauth"
//	reject_vlan            = "quarantine"  # optional auth-fail VLAN
//
//	radius {
//	  timeout        = "3s"
//	  retries        = 2
//	  failback_after = "60s"
//	  server "primary" {
//	    address     = "127.0.0.1:1812"
//	    secret_file = "radius-secret"
//	  }
//	}
//
//	vlan "staff" {
//	  id     = 10
//	  bridge = "br-vlan10"
//	}
//
//	interface "swp1" {
//	  nas_port = 1
//	}
//
//	timers {
//	  quiet_period = "60s"
//	}
type Config struct {
	// NASIdentifier is the NAS-Identifier of every Access-Request.
	NASIdentifier string `hcl:"nas_identifier,optional"`
	// NASIP is the NAS-IP-Address or NAS-IPv6-Address. One of
	// NASIdentifier and NASIP is required (RFC 2865, Section 4.1).
	NASIP string `hcl:"nas_ip,optional"`
	// Mode is the host mode of ports that set none: "single-host" (the
	// default), "multi-host" or "multi-auth".
	Mode string `hcl:"mode,optional"`
	// UnauthenticatedBridge is the bridge of ports that are not
	// authorized. Empty leaves each port in the bridge it is in.
	UnauthenticatedBridge string `hcl:"unauthenticated_bridge,optional"`
	// RejectVLAN, when set, opens the port of a rejected supplicant in this
	// VLAN, a vlan block label or ID, in place of keeping it closed.
	RejectVLAN string `hcl:"reject_vlan,optional"`

	RADIUS     RADIUSConfig      `hcl:"radius,block"`
	VLANs      []VLANConfig      `hcl:"vlan,block"`
	Interfaces []InterfaceConfig `hcl:"interface,block"`
	Timers     *TimersConfig     `hcl:"timers,block"`
}

// RADIUSConfig is the radius block: the servers in order of preference and
// the client's retransmission settings.
type RADIUSConfig struct {
	// Timeout is the wait after each transmission. Default "3s".
	Timeout string `hcl:"timeout,optional"`
	// Retries is the number of retransmissions per server. Default 2.
	Retries *int `hcl:"retries,optional"`
	// FailbackAfter is how long the client stays on a backup server.
	// Default "60s".
	FailbackAfter string         `hcl:"failback_after,optional"`
	Servers       []ServerConfig `hcl:"server,block"`

	DefRange hcl.Range `hcl:",def_range"`
}

// ServerConfig is one server block. Exactly one of secret and secret_file
// is set.
type ServerConfig struct {
	Name    string `hcl:"name,label"`
	Address string `hcl:"address"` // host and UDP port
	Secret  string `hcl:"secret,optional"`
	// SecretFile is a file whose content, less one trailing newline, is the
	// shared secret. A relative path is resolved against the directory of
	// the configuration file.
	SecretFile string `hcl:"secret_file,optional"`

	DefRange hcl.Range `hcl:",def_range"`
}

// VLANConfig is one vlan block. The label is the VLAN's name or its ID.
type VLANConfig struct {
	Name string `hcl:"name,label"`
	// ID is the VLAN ID from 1 to 4094. It may be left out when the label
	// is the ID.
	ID int `hcl:"id,optional"`
	// Bridge is the bridge that carries the VLAN.
	Bridge string `hcl:"bridge"`

	DefRange hcl.Range `hcl:",def_range"`
}

// InterfaceConfig is one interface block, a port under 802.1X. The label is
// the interface name, which is also the NAS-Port-Id.
type InterfaceConfig struct {
	Name string `hcl:"name,label"`
	// Mode overrides the top-level mode for this port.
	Mode string `hcl:"mode,optional"`
	// NASPort is the NAS-Port. Zero numbers the ports from 1 in the
	// order of the blocks.
	NASPort int `hcl:"nas_port,optional"`

	DefRange hcl.Range `hcl:",def_range"`
}

// TimersConfig is the timers block. Durations are Go durations such as
// "30s". Each attribute left out keeps the default of pae.Config.
type TimersConfig struct {
	TxPeriod          string `hcl:"tx_period,optional"`
	SupplicantTimeout string `hcl:"supplicant_timeout,optional"`
	ServerTimeout     string `hcl:"server_timeout,optional"`
	QuietPeriod       string `hcl:"quiet_period,optional"`
	ReauthPeriod      string `hcl:"reauth_period,optional"`
	StartInterval     string `hcl:"start_interval,optional"`
	MaxRequests       int    `hcl:"max_requests,optional"`
	MaxSessions       int    `hcl:"max_sessions,optional"`

	DefRange hcl.Range `hcl:",def_range"`
}

// DecodeConfig decodes body into a Config and validates it. The
// diagnostics name the file, line and field of every problem.
func DecodeConfig(body hcl.Body) (*Config, hcl.Diagnostics) {
	var c Config
	if diags := gohcl.DecodeBody(body, nil, &c); diags.HasErrors() {
		return nil, diags
	}
	if diags := c.Validate(); diags.HasErrors() {
		return nil, diags
	}
	return &c, nil
}

// Validate reports every invalid field of c and changes nothing.
func (c *Config) Validate() hcl.Diagnostics {
	var diags hcl.Diagnostics
	fail := func(r hcl.Range, field, format string, args ...any) {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError,
			Summary: "invalid " + field, Detail: fmt.Sprintf(format, args...), Subject: r.Ptr()})
	}
	top := c.RADIUS.DefRange
	if c.NASIdentifier == "" && c.NASIP == "" {
		fail(top, "nas_identifier", "set nas_identifier, nas_ip or both (RFC 2865, Section 4.1)")
	}
	if c.NASIP != "" {
		if _, err := netip.ParseAddr(c.NASIP); err != nil {
			fail(top, "nas_ip", "%q is not an IP address", c.NASIP)
		}
	}
	if _, err := parseMode(c.Mode); err != nil {
		fail(top, "mode", "%v", err)
	}
	c.validateRADIUS(fail)
	names := c.validateVLANs(fail)
	if c.RejectVLAN != "" && !names[c.RejectVLAN] {
		fail(top, "reject_vlan", "%q is not the label or ID of a vlan block", c.RejectVLAN)
	}
	c.validateInterfaces(fail)
	if c.Timers != nil {
		if _, err := c.Timers.apply(pae.Config{}); err != nil {
			fail(c.Timers.DefRange, "timers", "%v", err)
		}
	}
	return diags
}

type failFunc func(r hcl.Range, field, format string, args ...any)

func (c *Config) validateRADIUS(fail failFunc) {
	r := c.RADIUS
	if len(r.Servers) == 0 {
		fail(r.DefRange, "radius", "add at least one server block")
	}
	for _, d := range []struct{ field, value string }{
		{"timeout", r.Timeout}, {"failback_after", r.FailbackAfter},
	} {
		if _, err := parseDuration(d.value); err != nil {
			fail(r.DefRange, "radius."+d.field, "%v", err)
		}
	}
	if r.Retries != nil && *r.Retries < 0 {
		fail(r.DefRange, "radius.retries", "%d is negative", *r.Retries)
	}
	for _, s := range r.Servers {
		field := fmt.Sprintf("radius.server %q", s.Name)
		if (s.Secret == "") == (s.SecretFile == "") {
			fail(s.DefRange, field, "set exactly one of secret and secret_file")
		}
		if _, port, err := splitHostPort(s.Address); err != nil || port == 0 {
			fail(s.DefRange, field+".address", "%q is not host:port", s.Address)
		}
	}
}

// validateVLANs checks the vlan blocks and returns the set of their labels
// and IDs.
func (c *Config) validateVLANs(fail failFunc) map[string]bool {
	names := map[string]bool{}
	for _, v := range c.VLANs {
		field := fmt.Sprintf("vlan %q", v.Name)
		id, err := v.vlanID()
		if err != nil {
			fail(v.DefRange, field+".id", "%v", err)
		}
		if names[v.Name] {
			fail(v.DefRange, field, "the label appears twice")
		}
		if v.Bridge == "" {
			fail(v.DefRange, field+".bridge", "name the bridge of the VLAN")
		}
		names[v.Name] = true
		names[strconv.Itoa(id)] = true
	}
	return names
}

func (c *Config) validateInterfaces(fail failFunc) {
	if len(c.Interfaces) == 0 {
		fail(c.RADIUS.DefRange, "interface", "add at least one interface block")
	}
	seen := map[string]bool{}
	for _, in := range c.Interfaces {
		field := fmt.Sprintf("interface %q", in.Name)
		if seen[in.Name] {
			fail(in.DefRange, field, "the interface appears twice")
		}
		seen[in.Name] = true
		if in.Mode != "" {
			if _, err := parseMode(in.Mode); err != nil {
				fail(in.DefRange, field+".mode", "%v", err)
			}
		}
		if in.NASPort < 0 {
			fail(in.DefRange, field+".nas_port", "%d is negative", in.NASPort)
		}
	}
}

// vlanID returns the configured ID, or the label when it is an ID.
func (v VLANConfig) vlanID() (int, error) {
	id := v.ID
	if id == 0 {
		n, err := strconv.Atoi(v.Name)
		if err != nil {
			return 0, fmt.Errorf("label %q is not a VLAN ID, so set id", v.Name)
		}
		id = n
	}
	if id < 1 || id > 4094 {
		return 0, fmt.Errorf("VLAN ID %d is not from 1 to 4094", id)
	}
	return id, nil
}

func parseMode(s string) (pae.HostMode, error) {
	for _, m := range []pae.HostMode{pae.SingleHost, pae.MultiHost, pae.MultiAuth} {
		if s == m.String() {
			return m, nil
		}
	}
	if s == "" {
		return pae.SingleHost, nil
	}
	return 0, fmt.Errorf("mode %q is not single-host, multi-host or multi-auth", s)
}

// parseDuration parses a Go duration. The empty string is zero, the default.
func parseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as \"30s\"", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return d, nil
}

// apply sets the timers of t on cfg and validates the result.
func (t *TimersConfig) apply(cfg pae.Config) (pae.Config, error) {
	for _, d := range []struct {
		field string
		value string
		dst   *time.Duration
	}{
		{"tx_period", t.TxPeriod, &cfg.TxPeriod},
		{"supplicant_timeout", t.SupplicantTimeout, &cfg.SupplicantTimeout},
		{"server_timeout", t.ServerTimeout, &cfg.ServerTimeout},
		{"quiet_period", t.QuietPeriod, &cfg.QuietPeriod},
		{"reauth_period", t.ReauthPeriod, &cfg.ReauthPeriod},
		{"start_interval", t.StartInterval, &cfg.StartInterval},
	} {
		v, err := parseDuration(d.value)
		if err != nil {
			return cfg, fmt.Errorf("%s: %w", d.field, err)
		}
		*d.dst = v
	}
	cfg.MaxRequests = t.MaxRequests
	cfg.MaxSessions = t.MaxSessions
	return cfg, cfg.Validate()
}
