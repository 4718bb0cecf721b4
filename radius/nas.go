package radius

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
)

// NAS is a RADIUS client that the server accepts requests from: a switch,
// an access point or our own authenticator (RFC 2865, Section 1 calls it
// the Network Access Server).
type NAS struct {
	// Name identifies the client in policies, logs and counters.
	Name string
	// Prefix contains the source addresses of the client. A single
	// address is a /32 or /128 prefix.
	Prefix netip.Prefix
	// Secret is the shared secret. String and GoString never show it.
	Secret []byte
	// Legacy accepts Access-Requests without a Message-Authenticator
	// when they carry no EAP-Message. Requests with EAP-Message and
	// Status-Server always need one (RFC 3579, Section 3.2).
	Legacy bool
	// TunnelTag is the tag, 0 to 31, for the RFC 3580 tunnel attributes
	// of VLAN assignment. 0 sends the attributes untagged.
	TunnelTag byte
}

// String returns the name and prefix of the client, never the secret.
func (n NAS) String() string {
	return fmt.Sprintf("%s (%s)", n.Name, n.Prefix)
}

// GoString returns the fields of the client with the secret elided, so that
// %#v never prints it.
func (n NAS) GoString() string {
	return fmt.Sprintf("radius.NAS{Name:%q, Prefix:%s, Secret:<%d octets>, "+
		"Legacy:%t, TunnelTag:%d}", n.Name, n.Prefix, len(n.Secret), n.Legacy, n.TunnelTag)
}

// ClientTable finds the client for a source address. The most specific
// prefix wins, and the source port is never used.
type ClientTable struct {
	bits     []int // prefix lengths in use, longest first
	prefixes map[netip.Prefix]*NAS
	clients  []*NAS
}

// NewClientTable builds a table of clients. Each needs a name, a valid
// prefix and a non-empty secret. Names and prefixes must be unique.
func NewClientTable(clients ...NAS) (*ClientTable, error) {
	t := &ClientTable{prefixes: make(map[netip.Prefix]*NAS, len(clients))}
	names := make(map[string]bool, len(clients))
	for i := range clients {
		n := clients[i]
		switch {
		case n.Name == "":
			return nil, fmt.Errorf("radius: client %d (%s) has no name", i, n.Prefix)
		case !n.Prefix.IsValid():
			return nil, fmt.Errorf("radius: client %q has no valid address prefix", n.Name)
		case len(n.Secret) == 0:
			return nil, fmt.Errorf("radius: client %q has an empty secret", n.Name)
		case n.TunnelTag > 31:
			return nil, fmt.Errorf("radius: client %q: tunnel tag %d out of range 0-31",
				n.Name, n.TunnelTag)
		case names[n.Name]:
			return nil, fmt.Errorf("radius: client name %q declared twice", n.Name)
		}
		n.Prefix = netip.PrefixFrom(n.Prefix.Addr().Unmap(), n.Prefix.Bits()).Masked()
		if n.Prefix.Bits() > n.Prefix.Addr().BitLen() {
			return nil, fmt.Errorf("radius: client %q: invalid prefix %s", n.Name, n.Prefix)
		}
		if other, ok := t.prefixes[n.Prefix]; ok {
			return nil, fmt.Errorf("radius: clients %q and %q both declare %s",
				other.Name, n.Name, n.Prefix)
		}
		n.Secret = slices.Clone(n.Secret)
		names[n.Name] = true
		t.prefixes[n.Prefix] = &n
		t.clients = append(t.clients, &n)
		if !slices.Contains(t.bits, n.Prefix.Bits()) {
			t.bits = append(t.bits, n.Prefix.Bits())
		}
	}
	slices.Sort(t.bits)
	slices.Reverse(t.bits)
	return t, nil
}

// Lookup returns the client whose prefix contains ip most specifically.
// IPv4-mapped IPv6 addresses match IPv4 prefixes.
func (t *ClientTable) Lookup(ip netip.Addr) (*NAS, bool) {
	if t == nil || !ip.IsValid() {
		return nil, false
	}
	ip = ip.Unmap()
	for _, bits := range t.bits {
		if bits > ip.BitLen() {
			continue
		}
		p, err := ip.Prefix(bits)
		if err != nil {
			continue
		}
		if n, ok := t.prefixes[p]; ok {
			return n, true
		}
	}
	return nil, false
}

// Clients returns the clients of the table in declaration order. They must
// not be modified.
func (t *ClientTable) Clients() []*NAS {
	return slices.Clone(t.clients)
}

// addrPort returns the IP address and port of a packet source. It handles
// *net.UDPAddr without allocating and falls back to parsing addr.String.
func addrPort(addr net.Addr) netip.AddrPort {
	if u, ok := addr.(*net.UDPAddr); ok {
		ap := u.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
