package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/brski-eap/brski/masa"
	"github.com/brski-eap/brski/registrar"
	"github.com/brski-eap/brski/store"
)

// Lab layout written by "brski init". Later commands and the docs rely on
// these names. The listen addresses are the defaults of the --*-listen
// flags.
const (
	labManufacturer    = "labvendor"
	labMASAListen      = "127.0.0.1:9443"
	labRegistrarListen = "127.0.0.1:8443"
	labRADIUSListen    = "127.0.0.1:1812"
	labEnrolledVLAN    = 100
)

func init() {
	register(command{
		Name:    "init",
		Summary: "create a complete lab: factory, devices, MASA, registrar and policy",
		Run:     runInit,
	})
}

func runInit(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("init", stderr)
	devices := fs.Int("devices", 3, "number of IDevIDs to mint")
	masaListen := fs.String("masa-listen", labMASAListen, "listen address `HOST:PORT` of "+
		"the MASA's HTTPS server; the MASA URL in every IDevID names its port")
	registrarListen := fs.String("registrar-listen", labRegistrarListen,
		"listen address `HOST:PORT` of the registrar's HTTPS server")
	radiusListen := fs.String("radius-listen", labRADIUSListen,
		"listen address `HOST:PORT` of the registrar's RADIUS server (UDP)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: brski init DIR [--devices N] [--masa-listen HOST:PORT]\n"+
			"                  [--registrar-listen HOST:PORT] [--radius-listen HOST:PORT]")
		fs.PrintDefaults()
	}
	dir, rest := splitPositional(args)
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if dir == "" && fs.NArg() == 1 {
		dir = fs.Arg(0)
	}
	if dir == "" {
		fs.Usage()
		return &exitError{code: 2, err: errors.New("brski init: missing DIR")}
	}
	if *devices < 0 || *devices > 10000 {
		return fmt.Errorf("--devices %d is out of range; use 0 to 10000", *devices)
	}
	addrs, err := parseLabAddrs(*masaListen, *registrarListen, *radiusListen)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	lab, err := createLabAt(dir, *devices, addrs)
	if err != nil {
		return err
	}
	printNextSteps(stdout, lab)
	return nil
}

// splitPositional takes the first argument that is not a flag, so that both
// "init DIR --devices 2" and "init --devices 2 DIR" work.
func splitPositional(args []string) (string, []string) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:]
	}
	return "", args
}

// lab describes the files that createLab wrote.
type lab struct {
	Dir     string
	Serials []string
	Addrs   labAddrs
}

// createLab creates a lab whose servers listen on the default addresses.
func createLab(dir string, devices int) (*lab, error) {
	return createLabAt(dir, devices, labAddrs{MASA: labMASAListen,
		Registrar: labRegistrarListen, RADIUS: labRADIUSListen})
}

// createLabAt creates a lab in dir whose configuration files and printed
// commands name the listen addresses in addrs.
func createLabAt(dir string, devices int, addrs labAddrs) (*lab, error) {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("directory %s is not empty; choose a new directory", dir)
	}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		return nil, err
	}
	serials, err := createFactory(dir, devices, addrs.MASAURL())
	if err != nil {
		return nil, err
	}

	if _, err := registrar.GenerateDomainCA(filepath.Join(dir, "domain"), time.Now()); err != nil {
		return nil, err
	}
	if err := writeSecret(filepath.Join(dir, "radius-secret")); err != nil {
		return nil, err
	}
	if err := writeLabConfigs(dir, addrs); err != nil {
		return nil, err
	}
	if err := registerLabDevices(filepath.Join(dir, "data", "registrar.db"), serials); err != nil {
		return nil, err
	}
	// The printed commands name the lab by its absolute path, so that they
	// work from any directory.
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return &lab{Dir: dir, Serials: serials, Addrs: addrs}, nil
}

// createFactory creates DIR/factory with the given number of devices, whose
// IDevIDs carry masaURL, and DIR/masa-trust.pem. It returns the devices'
// serial numbers.
func createFactory(dir string, devices int, masaURL string) ([]string, error) {
	factory, err := masa.InitFactory(filepath.Join(dir, "factory"), labManufacturer, masaURL)
	if err != nil {
		return nil, err
	}
	var serials []string
	for i := 1; i <= devices; i++ {
		serial := fmt.Sprintf("LAB-%04d", i)
		if _, err := factory.Mint(serial, "lab-switch"); err != nil {
			return nil, err
		}
		serials = append(serials, serial)
	}

	// Pledges trust the factory CA, which issues the MASA's voucher-signing
	// certificate.
	caPEM, err := os.ReadFile(filepath.Join(dir, "factory", masa.FactoryCAFile))
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "masa-trust.pem"), caPEM, 0o644); err != nil {
		return nil, err
	}
	return serials, nil
}

func writeSecret(path string) error {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(hex.EncodeToString(b)+"\n"), 0o600)
}

func writeLabConfigs(dir string, addrs labAddrs) error {
	masaHCL := fmt.Sprintf(`# MASA of the lab's virtual factory. docs/masa.md describes each field.
listen        = %q
factory_dir   = "factory"
data_dir      = "data/masa"
rate_interval = "1m"
assertion     = "logged"
`, addrs.MASA)
	registrarHCL := fmt.Sprintf(`# Registrar of the lab domain. docs/configuration.md describes each field.
listen   = %q
data_dir = "data"

domain_ca {
  cert = "domain/%s"
  key  = "domain/%s"
}

# The lab's factory. Its CA issues the IDevIDs, the MASA voucher-signing
# certificate and the MASA's TLS certificate.
manufacturer %q {
  ca         = "factory/%s"
  masa_trust = "masa-trust.pem"
}

masa_client {
  trust = "factory/%s"
}

radius {
  listen = %q

  # The NAS of "brski pledge --radius" on this host.
  client "localhost" {
    address     = %q
    secret_file = "radius-secret"
  }
}

# The lab's devices are in the expected-devices list (brski devices list).
rule "lab-devices" {
  manufacturer = %q
  expected     = true
  audit_log {
    other_domains = 0
  }
  outcome = "accept"
  vlan    = %d
  reason  = "lab device in the expected-devices list"
}

default {
  outcome = "reject"
  reason  = "no rule accepted the device"
}
`, addrs.Registrar, registrar.DomainCACertFile, registrar.DomainCAKeyFile,
		labManufacturer, masa.FactoryCAFile, masa.FactoryCAFile, addrs.RADIUS,
		addrs.RADIUSClient(), labManufacturer, labEnrolledVLAN)
	if err := os.WriteFile(filepath.Join(dir, "masa.hcl"), []byte(masaHCL), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "registrar.hcl"), []byte(registrarHCL), 0o644)
}

func registerLabDevices(path string, serials []string) error {
	ctx := context.Background()
	st, err := store.Open(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, serial := range serials {
		d := store.ExpectedDevice{Serial: serial, Manufacturer: labManufacturer,
			Tags: []string{"lab"}}
		if err := st.AddExpectedDevice(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

func printNextSteps(w io.Writer, l *lab) {
	fmt.Fprintf(w, "created lab in %s with %d devices\n\n", l.Dir, len(l.Serials))
	fmt.Fprintln(w, "next, in separate terminals:")
	fmt.Fprintf(w, "  brski masa --config %s\n", filepath.Join(l.Dir, "masa.hcl"))
	fmt.Fprintf(w, "  brski registrar --config %s\n", filepath.Join(l.Dir, "registrar.hcl"))
	if len(l.Serials) > 0 {
		fmt.Fprintln(w, "\na device bootstraps over HTTPS:")
		printPledge(w, l, l.Serials[0], "--registrar https://"+dialAddr(l.Addrs.Registrar))

		// The MASA issues one voucher per device per rate_interval, so
		// RADIUS gets another device when there is one.
		serial := l.Serials[len(l.Serials)-1]
		radius := "--radius " + dialAddr(l.Addrs.RADIUS) + " --secret-file " +
			filepath.Join(l.Dir, "radius-secret")
		device := "another device"
		if len(l.Serials) == 1 {
			device = "or, instead, the same device"
		}
		fmt.Fprintf(w, "\n%s bootstraps over RADIUS through a simulated NAS and\n"+
			"then authenticates with EAP-TLS and its LDevID:\n", device)
		printPledge(w, l, serial, radius)
		fmt.Fprintf(w, "  brski pledge %s --eap-tls \\\n      --out %s\n", radius,
			filepath.Join(l.Dir, "pledges", serial))
	}
	fmt.Fprintln(w, "\nthe expected-devices list, from any directory:")
	fmt.Fprintf(w, "  brski devices list --data %s\n", filepath.Join(l.Dir, "data"))
}

// printPledge prints the "brski pledge" command that bootstraps the device
// with serial over the transport that the transport flags select.
func printPledge(w io.Writer, l *lab, serial, transport string) {
	dev := filepath.Join(l.Dir, "factory", "devices", serial)
	fmt.Fprintf(w, "  brski pledge %s \\\n", transport)
	fmt.Fprintf(w, "      --idevid %s \\\n", filepath.Join(dev, "idevid.pem"))
	fmt.Fprintf(w, "      --key %s \\\n", filepath.Join(dev, "key.pem"))
	fmt.Fprintf(w, "      --masa-trust %s --out %s\n", filepath.Join(l.Dir, "masa-trust.pem"),
		filepath.Join(l.Dir, "pledges", serial))
}

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
// IPv4-mapped IPv6 address as IPv4, and a DNS name unchanged.
func canonicalHost(host string) (string, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" {
			return "", fmt.Errorf("host %q has an IPv6 zone, which the lab's URLs and RADIUS "+
				"client entry cannot carry; use an address without %%%s", host, ip.Zone())
		}
		return ip.Unmap().String(), nil
	}
	if !validHostName(host) {
		return "", fmt.Errorf("host %q is neither an IP address nor a DNS name; use an IP "+
			"address such as 127.0.0.1, or a name such as localhost", host)
	}
	return host, nil
}

// validHostName reports whether name is a DNS host name of at most 253
// characters: labels of 1-63 letters, digits and hyphens that do not start
// or end with a hyphen (RFC 1123, Section 2.1). The last label must not be
// all digits, so that a malformed IPv4 address such as 127.1 is no name.
func validHostName(name string) bool {
	const hostNameChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"
	labels := strings.Split(strings.TrimSuffix(name, "."), ".")
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
