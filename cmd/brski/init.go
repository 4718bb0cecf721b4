package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
	positional, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("brski init: %w", err)}
	}
	switch {
	case len(positional) == 0:
		fs.Usage()
		return &exitError{code: 2, err: errors.New("brski init: missing DIR")}
	case len(positional) > 1:
		fs.Usage()
		return &exitError{code: 2, err: fmt.Errorf("brski init: unexpected argument %q "+
			"after DIR %q; give one DIR", positional[1], positional[0])}
	}
	dir := positional[0]
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
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory; choose a new directory", dir)
	}
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
	fmt.Fprintf(w, "created lab in %s with %d %s\n\n", l.Dir, len(l.Serials),
		plural(len(l.Serials), "device"))
	fmt.Fprintln(w, "next, in separate terminals:")
	fmt.Fprintf(w, "  brski masa --config %s\n", quotedPath(l.Dir, "masa.hcl"))
	fmt.Fprintf(w, "  brski registrar --config %s\n", quotedPath(l.Dir, "registrar.hcl"))
	if len(l.Serials) > 0 {
		fmt.Fprintln(w, "\na device bootstraps over HTTPS:")
		printPledge(w, l, l.Serials[0],
			"--registrar "+shellQuote("https://"+dialAddr(l.Addrs.Registrar)))

		// The MASA issues one voucher per device per rate_interval, so
		// RADIUS gets another device when there is one.
		serial := l.Serials[len(l.Serials)-1]
		radius := "--radius " + shellQuote(dialAddr(l.Addrs.RADIUS)) + " --secret-file " +
			quotedPath(l.Dir, "radius-secret")
		device := "another device"
		if len(l.Serials) == 1 {
			device = "or, instead, the same device"
		}
		fmt.Fprintf(w, "\n%s bootstraps over RADIUS through a simulated NAS and\n"+
			"then authenticates with EAP-TLS and its LDevID:\n", device)
		printPledge(w, l, serial, radius)
		fmt.Fprintf(w, "  brski pledge %s --eap-tls \\\n      --out %s\n", radius,
			quotedPath(l.Dir, "pledges", serial))
	}
	fmt.Fprintln(w, "\nthe expected-devices list, from any directory:")
	fmt.Fprintf(w, "  brski devices list --data %s\n", quotedPath(l.Dir, "data"))
}

// printPledge prints the "brski pledge" command that bootstraps the device
// with serial over the transport that the transport flags select.
func printPledge(w io.Writer, l *lab, serial, transport string) {
	dev := filepath.Join(l.Dir, "factory", "devices", serial)
	fmt.Fprintf(w, "  brski pledge %s \\\n", transport)
	fmt.Fprintf(w, "      --idevid %s \\\n", quotedPath(dev, "idevid.pem"))
	fmt.Fprintf(w, "      --key %s \\\n", quotedPath(dev, "key.pem"))
	fmt.Fprintf(w, "      --masa-trust %s --out %s\n", quotedPath(l.Dir, "masa-trust.pem"),
		quotedPath(l.Dir, "pledges", serial))
}

// quotedPath joins elem with filepath.Join and quotes the result for a
// POSIX shell.
func quotedPath(elem ...string) string {
	return shellQuote(filepath.Join(elem...))
}

// shellQuote returns word as one word of a POSIX shell command: unchanged
// when it contains only characters that no shell treats specially, and in
// single quotes otherwise. Brackets need the quotes too, because a shell
// expands "[::1]:8443" to a file named "1:8443" when one exists, and zsh
// fails the command when none does.
func shellQuote(word string) string {
	const plain = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-"
	if word != "" && strings.Trim(word, plain) == "" {
		return word
	}
	return "'" + strings.ReplaceAll(word, "'", `'\''`) + "'"
}
