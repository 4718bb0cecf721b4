package authenticator

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"

	"github.com/brski-eap/brski/authenticator/pae"
	"github.com/brski-eap/brski/radius"
)

// Setup is a validated Config turned into the parts that run: the RADIUS
// client and Backend, the VLAN backend and the PAE configuration of each
// port. Secrets have been read from their files.
type Setup struct {
	Client  *radius.Client
	Backend *RADIUSBackend
	VLANs   BridgePerVLAN
	Ports   []PortSetup
}

// PortSetup is one port of a Setup.
type PortSetup struct {
	Name string
	PAE  pae.Config
}

// NewSetup validates c and builds its Setup. dir resolves relative
// secret_file paths, and empty means the working directory. The caller
// closes Setup.Client.
func NewSetup(c *Config, dir string) (*Setup, error) {
	if diags := c.Validate(); diags.HasErrors() {
		return nil, fmt.Errorf("authenticator: invalid configuration: %w", diags)
	}
	client, err := c.RADIUS.client(dir)
	if err != nil {
		return nil, err
	}
	s := &Setup{
		Client: client,
		Backend: &RADIUSBackend{
			Client:        client,
			NASIdentifier: c.NASIdentifier,
			Ports:         map[string]PortInfo{},
			VLANNames:     map[string]uint16{},
		},
		VLANs: BridgePerVLAN{Unauthenticated: c.UnauthenticatedBridge,
			Bridges: map[string]string{}},
	}
	if c.NASIP != "" {
		s.Backend.NASIP = netip.MustParseAddr(c.NASIP) // checked by Validate
	}
	for _, v := range c.VLANs {
		id, _ := v.vlanID() // checked by Validate
		s.VLANs.Bridges[strconv.Itoa(id)] = v.Bridge
		if v.Name != strconv.Itoa(id) {
			s.Backend.VLANNames[v.Name] = uint16(id)
		}
	}
	s.Backend.RejectVLAN = c.RejectVLAN
	base := pae.Config{}
	if c.Timers != nil {
		base, _ = c.Timers.apply(base) // checked by Validate
	}
	for i, in := range c.Interfaces {
		cfg := base
		mode := c.Mode
		if in.Mode != "" {
			mode = in.Mode
		}
		cfg.Mode, _ = parseMode(mode) // checked by Validate
		number := uint32(in.NASPort)
		if number == 0 {
			number = uint32(i + 1)
		}
		s.Backend.Ports[in.Name] = PortInfo{Number: number}
		s.Ports = append(s.Ports, PortSetup{Name: in.Name, PAE: cfg})
	}
	return s, nil
}

// SetPortMAC records the address of a port for its Called-Station-Id. It
// must be called before the first Exchange.
func (s *Setup) SetPortMAC(port string, mac net.HardwareAddr) {
	info := s.Backend.Ports[port]
	info.MAC = mac
	s.Backend.Ports[port] = info
}

func (r RADIUSConfig) client(dir string) (*radius.Client, error) {
	c := &radius.Client{}
	if r.Retries != nil {
		c.Retries = *r.Retries
		if c.Retries == 0 {
			c.Retries = -1 // the client's zero is its default; 0 here means send once
		}
	}
	c.Timeout, _ = parseDuration(r.Timeout)             // checked by Validate
	c.FailbackAfter, _ = parseDuration(r.FailbackAfter) // checked by Validate
	for _, s := range r.Servers {
		secret := []byte(s.Secret)
		if s.SecretFile != "" {
			path := s.SecretFile
			if !filepath.IsAbs(path) && dir != "" {
				path = filepath.Join(dir, path)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return nil, fmt.Errorf("authenticator: read secret of RADIUS server %q: %w",
					s.Name, err)
			}
			secret = bytes.TrimSuffix(b, []byte("\n"))
		}
		if len(secret) == 0 {
			return nil, fmt.Errorf("authenticator: secret of RADIUS server %q is empty; "+
				"write the shared secret into %s", s.Name, s.SecretFile)
		}
		c.Servers = append(c.Servers, radius.ServerAddr{Addr: s.Address, Secret: secret})
	}
	return c, nil
}

// splitHostPort splits host:port and parses the port.
func splitHostPort(addr string) (string, uint16, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return "", 0, err
	}
	return host, uint16(n), nil
}
