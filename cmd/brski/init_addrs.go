package main

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// labAddrs are the listen addresses of a lab's servers in the canonical
// host:port form that parseLabAddrs returns. MASA and Registrar are TCP,
// RADIUS is UDP.
type labAddrs struct {
	MASA, Registrar, RADIUS string
}

// listenError reports an invalid --*-listen value of "brski init". Other
// and OtherValue name the flag whose address Value repeats, when that is
// the problem.
type listenError struct {
	Flag, Value       string
	Other, OtherValue string
	Err               error
}

func (e *listenError) Error() string {
	other := ""
	if e.Other != "" {
		other = fmt.Sprintf(" and --%s %q", e.Other, e.OtherValue)
	}
	return fmt.Sprintf("brski init: --%s %q%s: %v", e.Flag, e.Value, other, e.Err)
}

func (e *listenError) Unwrap() error { return e.Err }

// Errors that a listenError wraps for common mistakes in a host.
var (
	errIPv6Brackets = errors.New("an IPv6 address in HOST:PORT needs brackets")
	errIPv4Form     = errors.New("the host is not an IPv4 address in dotted-decimal form")
	errNonASCIIHost = errors.New("the host name is not ASCII")
)

// parseLabAddrs validates the --*-listen values of "brski init" and returns
// them in canonical form.
func parseLabAddrs(masaListen, registrarListen, radiusListen string) (labAddrs, error) {
	var addrs labAddrs
	var err error
	addrs.MASA, err = parseListen("masa-listen", masaListen, labMASAListen, checkMASAHost)
	if err != nil {
		return labAddrs{}, err
	}
	addrs.Registrar, err = parseListen("registrar-listen", registrarListen, labRegistrarListen,
		nil)
	if err != nil {
		return labAddrs{}, err
	}
	if sameTCPAddress(addrs.MASA, addrs.Registrar) {
		return labAddrs{}, &listenError{Flag: "registrar-listen", Value: registrarListen,
			Other: "masa-listen", OtherValue: masaListen,
			Err: errors.New("the MASA and the registrar cannot share a TCP address; " +
				"give one of them another port")}
	}
	addrs.RADIUS, err = parseListen("radius-listen", radiusListen, labRADIUSListen,
		checkRADIUSHost)
	if err != nil {
		return labAddrs{}, err
	}
	return addrs, nil
}

// parseListen checks that value is host:port with a port number 1-65535
// and a host that is empty, an IP address without a zone or a DNS name,
// and that checkHost, if not nil, accepts the host. It returns the address
// with the port in decimal without leading zeros.
func parseListen(flagName, value, example string, checkHost func(string) error) (string,
	error) {
	fail := func(format string, args ...any) error {
		return &listenError{Flag: flagName, Value: value, Err: fmt.Errorf(format, args...)}
	}
	host, portText, err := net.SplitHostPort(value)
	if err != nil {
		if i := strings.LastIndex(value, ":"); !strings.HasPrefix(value, "[") &&
			strings.Count(value, ":") > 1 {
			return "", fail("%w; write [%s]%s", errIPv6Brackets, value[:i], value[i:])
		}
		var addrErr *net.AddrError
		if errors.As(err, &addrErr) {
			err = errors.New(addrErr.Err)
		}
		return "", fail("%w; use HOST:PORT, such as %s", err, example)
	}
	port, err := strconv.Atoi(portText)
	switch {
	case err != nil || port < 0 || port > 65535:
		return "", fail("port %q is not a number 1-65535", portText)
	case port == 0:
		return "", fail("port 0 lets the system choose a port when the server starts, but " +
			"the configuration files and the printed commands need a fixed one; choose a " +
			"port 1-65535")
	}
	if host != "" {
		if host, err = canonicalHost(host); err != nil {
			return "", fail("%w", err)
		}
	}
	if checkHost != nil {
		if err := checkHost(host); err != nil {
			return "", fail("%w", err)
		}
	}
	return net.JoinHostPort(host, strconv.Itoa(port)), nil
}

// canonicalHost returns an IP address in its standard text form, with an
// IPv4-mapped IPv6 address as IPv4, and a DNS name in lower case without
// a trailing dot. Go's resolver (Go 1.26) does not look up a name with a
// trailing dot in /etc/hosts, so the servers would send "localhost." to DNS.
func canonicalHost(host string) (string, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" {
			return "", fmt.Errorf("host %q has an IPv6 zone, which the lab's URLs and RADIUS "+
				"client entry cannot carry; use an address without %%%s", host, ip.Zone())
		}
		return ip.Unmap().String(), nil
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	labels := strings.Split(name, ".")
	last := labels[len(labels)-1]
	switch {
	case strings.Trim(name, "0123456789abcdefx.") == "" &&
		(strings.Trim(last, "0123456789") == "" || strings.HasPrefix(last, "0x")):
		return "", fmt.Errorf("host %q: %w; write an IPv4 address as four decimal "+
			"numbers 0-255 without leading zeros, such as 127.0.0.1", host, errIPv4Form)
	case strings.ContainsFunc(name, func(r rune) bool { return r >= 0x80 }):
		return "", fmt.Errorf("host %q: %w; write an internationalized name as its "+
			"A-label, which starts with xn--", host, errNonASCIIHost)
	case !validHostName(name):
		return "", fmt.Errorf("host %q is neither an IP address nor a DNS name; use an IP "+
			"address such as 127.0.0.1, or a name such as localhost", host)
	}
	return name, nil
}

// validHostName reports whether name is a DNS host name of at most 253
// characters: labels of 1-63 letters, digits and hyphens that do not start
// or end with a hyphen (RFC 1123, Section 2.1). The last label must not be
// all digits, so that a malformed IPv4 address such as 127.1 is no name.
func validHostName(name string) bool {
	const hostNameChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"
	labels := strings.Split(name, ".")
	for _, label := range labels {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") ||
			strings.HasSuffix(label, "-") || strings.Trim(label, hostNameChars) != "" {
			return false
		}
	}
	return len(name) <= 253 && strings.Trim(labels[len(labels)-1], "0123456789") != ""
}

// checkMASAHost rejects a MASA host that a registrar cannot dial, because
// the host goes into the MASA URL of every IDevID.
func checkMASAHost(host string) error {
	if isUnspecified(host) {
		return errors.New("the MASA URL in every IDevID needs a host that the registrar " +
			"can reach, and an empty or unspecified host is none; use 127.0.0.1:PORT, or " +
			"an IP address or DNS name of this host, which the MASA's TLS certificate then " +
			"names too")
	}
	return nil
}

// checkRADIUSHost rejects a DNS name other than localhost, because the
// lab's RADIUS client entry needs the IP address that the NAS of
// "brski pledge --radius" sends from.
func checkRADIUSHost(host string) error {
	if isUnspecified(host) || isLocalhost(host) {
		return nil
	}
	if _, err := netip.ParseAddr(host); err != nil {
		return fmt.Errorf("host %q is a DNS name, but the lab's RADIUS client entry needs "+
			"the IP address that the pledge sends from; use an IP address of this host, "+
			"such as 127.0.0.1", host)
	}
	return nil
}

// MASAURL returns the MASA URL of the lab's IDevIDs. A MASA on 127.0.0.1 or
// localhost gets https://localhost:PORT, any other host is used as it is.
// The MASA's generated TLS certificate names localhost, 127.0.0.1, ::1, the
// host of this URL and the listen host.
func (a labAddrs) MASAURL() string {
	host, port := splitListen(a.MASA)
	if host == "127.0.0.1" || isLocalhost(host) {
		host = "localhost"
	}
	return "https://" + net.JoinHostPort(host, port)
}

// RADIUSClient returns the address of the lab's RADIUS client entry: the
// source address of a NAS on this host that sends to dialAddr(a.RADIUS).
// Linux picks 127.0.0.1 as the source for any 127.0.0.0/8 destination, and
// a local address itself as the source for traffic to it.
func (a labAddrs) RADIUSClient() string {
	host, _ := splitListen(dialAddr(a.RADIUS))
	if ip, err := netip.ParseAddr(host); isLocalhost(host) || err == nil && ip.Is4() &&
		ip.IsLoopback() {
		return "127.0.0.1"
	}
	return host
}

// dialAddr returns the address at which a client on this host reaches a
// server that listens on addr: an empty or unspecified host becomes the
// loopback address of its family.
func dialAddr(addr string) string {
	host, port := splitListen(addr)
	switch {
	case host == "" || host == "0.0.0.0":
		host = "127.0.0.1"
	case isUnspecified(host):
		host = "::1"
	}
	return net.JoinHostPort(host, port)
}

// sameTCPAddress reports whether two listen addresses from parseListen
// would collide: the same port and the same host, where localhost is
// 127.0.0.1 and an unspecified host collides with every host.
func sameTCPAddress(a, b string) bool {
	hostA, portA := splitListen(a)
	hostB, portB := splitListen(b)
	if portA != portB {
		return false
	}
	if isUnspecified(hostA) || isUnspecified(hostB) {
		return true
	}
	return strings.EqualFold(loopbackIfLocalhost(hostA), loopbackIfLocalhost(hostB))
}

// splitListen splits an address that parseListen accepted.
func splitListen(addr string) (host, port string) {
	host, port, _ = net.SplitHostPort(addr)
	return host, port
}

func isLocalhost(host string) bool {
	return strings.EqualFold(strings.TrimSuffix(host, "."), "localhost")
}

func loopbackIfLocalhost(host string) string {
	if isLocalhost(host) {
		return "127.0.0.1"
	}
	return host
}

func isUnspecified(host string) bool {
	ip, err := netip.ParseAddr(host)
	return host == "" || err == nil && ip.IsUnspecified()
}
