package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"
	layeh "layeh.com/radius"

	"github.com/brski-eap/brski/masa"
	"github.com/brski-eap/brski/pledge"
	"github.com/brski-eap/brski/radius"
	"github.com/brski-eap/brski/registrar"
)

func init() {
	register(command{
		Name: "demo",
		Summary: "run a whole lab in one process: pledges bootstrap over RADIUS " +
			"with EAP-EST, then authenticate with EAP-TLS",
		Run: runDemo,
	})
}

// demoRow is one line of the final table.
type demoRow struct {
	device, method, outcome, vlan string
	trips                         int
	took                          time.Duration
	err                           error
}

func runDemo(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", stderr)
	devices := fs.Int("devices", 3, "number of pledges, 1 to 100")
	keep := fs.String("keep", "", "write the lab to this new or empty `directory` and keep "+
		"it, instead of a temporary directory that is removed at the end")
	level := fs.String("log-level", "warn", "log level of the servers: trace, debug, info, "+
		"warn or error; info shows one line per RADIUS conversation")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *devices < 1 || *devices > 100 {
		return &exitError{code: 2, err: fmt.Errorf("brski demo: --devices %d is out of "+
			"range; use 1 to 100", *devices)}
	}
	logLevel := hclog.LevelFromString(*level)
	if logLevel == hclog.NoLevel {
		return &exitError{code: 2, err: fmt.Errorf("brski demo: invalid --log-level %q",
			*level)}
	}
	dir, cleanup, err := demoDir(*keep)
	if err != nil {
		return err
	}
	defer cleanup()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	logger := hclog.New(&hclog.LoggerOptions{Name: "demo", Output: stderr, Level: logLevel})
	rows, err := runDemoLab(ctx, dir, *devices, stdout, logger)
	if err != nil {
		return err
	}
	printDemoTable(stdout, rows)
	if *keep != "" {
		fmt.Fprintf(stdout, "\nlab kept in %s\n", dir)
	}
	for _, r := range rows {
		if r.err != nil {
			return fmt.Errorf("brski demo: %s %s failed: %w", r.device, r.method, r.err)
		}
	}
	return nil
}

// demoDir returns the lab directory and the function that removes it,
// unless keep names it.
func demoDir(keep string) (string, func(), error) {
	if keep == "" {
		dir, err := os.MkdirTemp("", "brski-demo-")
		if err != nil {
			return "", nil, err
		}
		return dir, func() { os.RemoveAll(dir) }, nil
	}
	if entries, err := os.ReadDir(keep); err == nil && len(entries) > 0 {
		return "", nil, fmt.Errorf("brski demo: --keep %s is not empty; choose a new "+
			"directory", keep)
	}
	return keep, func() {}, os.MkdirAll(keep, 0o700)
}

// runDemoLab creates the lab of "brski init" in dir, starts its MASA and
// its registrar with RADIUS on loopback ports that the system chooses, and
// runs the pledges.
func runDemoLab(ctx context.Context, dir string, n int, stdout io.Writer,
	logger hclog.Logger) ([]demoRow, error) {
	start := time.Now()
	l, err := createLab(dir, n)
	if err != nil {
		return nil, err
	}
	masaSrv, masaURL, err := startDemoMASA(dir, logger)
	if err != nil {
		return nil, err
	}
	defer masaSrv.Close()
	fmt.Fprintf(stdout, "lab in %s: factory %q with %d IDevIDs, MASA at %s\n", dir,
		labManufacturer, n, masaURL)
	rad, st, err := startDemoRegistrar(ctx, dir, masaURL, logger)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	defer rad.stop()
	fmt.Fprintf(stdout, "registrar with RADIUS at %s (ready in %s)\n\n", rad.addr,
		time.Since(start).Round(time.Millisecond))
	secret, err := readSecret(filepath.Join(dir, "radius-secret"))
	if err != nil {
		return nil, err
	}
	client := &radius.Client{Servers: []radius.ServerAddr{{Addr: rad.addr.String(),
		Secret: secret}}}
	defer client.Close()
	var rows []demoRow
	for i, serial := range l.Serials {
		devDir := filepath.Join(dir, "factory", "devices", serial)
		out := filepath.Join(dir, "pledges", serial)
		fmt.Fprintf(stdout, "[%d/%d] %s: EAP-EST bootstrap through the NAS\n", i+1, n, serial)
		rows = append(rows, demoBootstrap(ctx, client, serial, devDir,
			filepath.Join(dir, "masa-trust.pem"), out))
	}
	for i, serial := range l.Serials {
		fmt.Fprintf(stdout, "[%d/%d] %s: EAP-TLS with the new LDevID\n", i+1, n, serial)
		out := filepath.Join(dir, "pledges", serial)
		rows = append(rows, demoReauth(ctx, client, serial, out))
	}
	fmt.Fprintln(stdout)
	return rows, nil
}

// startDemoMASA serves the lab's MASA from its masa.hcl, on a loopback port
// instead of the configured one, and returns its URL.
func startDemoMASA(dir string, logger hclog.Logger) (*masa.Server, string, error) {
	cfg, err := masa.LoadConfig(filepath.Join(dir, "masa.hcl"))
	if err != nil {
		return nil, "", err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	log := logger.Named("masa")
	cfg.Listen = l.Addr().String()
	cfg.OnRequest = func(r masa.RequestLog) { logRequest(log, r) }
	srv, err := masa.New(*cfg)
	if err != nil {
		l.Close()
		return nil, "", err
	}
	go func() {
		if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			log.Error("MASA failed", "error", err)
		}
	}()
	return srv, "https://" + cfg.Listen, nil
}

// startDemoRegistrar loads the lab's registrar.hcl, as "brski registrar
// --config" does, with the MASA URL of the demo MASA in place of the one in
// the IDevIDs, and starts its RADIUS server on a loopback port.
func startDemoRegistrar(ctx context.Context, dir, masaURL string,
	logger hclog.Logger) (*radiusListener, *registrar.SQLStore, error) {
	cfg, err := registrar.LoadConfig(filepath.Join(dir, "registrar.hcl"))
	if err != nil {
		return nil, nil, err
	}
	for i := range cfg.Manufacturers {
		cfg.Manufacturers[i].MASAURL = masaURL
	}
	st, err := registrar.OpenStore(ctx, cfg.DataDir)
	if err != nil {
		return nil, nil, err
	}
	rad, err := startDemoRADIUS(ctx, cfg, st, logger.Named("registrar"))
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return rad, st, nil
}

func startDemoRADIUS(ctx context.Context, cfg *registrar.Config, st *registrar.SQLStore,
	logger hclog.Logger) (*radiusListener, error) {
	opts, err := cfg.Options(st, time.Now())
	if err != nil {
		return nil, err
	}
	opts.OnRequest = func(l registrar.RequestLog) { logRegistrarRequest(logger, l) }
	r, err := registrar.New(opts)
	if err != nil {
		return nil, err
	}
	_, rad, err := startRADIUSAt(ctx, "127.0.0.1:0", cfg, opts, r, st.DB, logger)
	return rad, err
}

// demoBootstrap bootstraps one device over EAP-EST and writes its files.
func demoBootstrap(ctx context.Context, client *radius.Client, serial, devDir,
	trust, out string) demoRow {
	row := demoRow{device: serial, method: "EAP-EST", outcome: "error"}
	start := time.Now()
	defer func() { row.took = time.Since(start) }()
	f := pledgeFlags{idevid: filepath.Join(devDir, "idevid.pem"),
		key: filepath.Join(devDir, "key.pem"), masaTrust: trust, out: out}
	p, err := f.load()
	if err != nil {
		row.err = err
		return row
	}
	nas := newPledgeNAS(client, serial)
	res, _, err := p.BootstrapEAP(ctx, nas, pledge.EAPConfig{})
	if err == nil {
		err = res.WriteFiles(out)
	}
	row.outcome, row.vlan, row.trips = finalOutcome(nas)
	row.err = err
	if err == nil && row.outcome != "accept" {
		row.err = fmt.Errorf("Access-%s", row.outcome)
	}
	row.took = time.Since(start)
	return row
}

// demoReauth authenticates one enrolled device with EAP-TLS.
func demoReauth(ctx context.Context, client *radius.Client, serial, out string) demoRow {
	start := time.Now()
	nas := newPledgeNAS(client, serial)
	err := authenticateLDevID(ctx, nas, out, "")
	row := demoRow{device: serial, method: "EAP-TLS", err: err}
	row.outcome, row.vlan, row.trips = finalOutcome(nas)
	if err == nil && row.outcome != "accept" {
		row.err = fmt.Errorf("Access-%s", row.outcome)
	}
	row.took = time.Since(start)
	return row
}

func printDemoTable(w io.Writer, rows []demoRow) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DEVICE\tMETHOD\tOUTCOME\tVLAN\tROUND TRIPS\tTIME\tERROR")
	for _, r := range rows {
		vlan, errText := r.vlan, ""
		if vlan == "" {
			vlan = "-"
		}
		if r.err != nil {
			errText = r.err.Error()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", r.device, r.method, r.outcome, vlan,
			r.trips, r.took.Round(time.Millisecond), errText)
	}
	tw.Flush()
}

// newPledgeNAS returns a simulated NAS for the device, with a locally
// administered MAC address derived from its name.
func newPledgeNAS(client *radius.Client, name string) *pledge.NAS {
	sum := sha256.Sum256([]byte(name))
	mac := fmt.Sprintf("02-%02X-%02X-%02X-%02X-%02X", sum[0], sum[1], sum[2], sum[3], sum[4])
	return &pledge.NAS{Client: client, Identifier: "brski-pledge", CallingStationID: mac,
		PortID: "port-1"}
}

// finalOutcome returns "accept", "reject" or "none", the VLAN of the
// Access-Accept and the round trips of the last conversation of nas.
func finalOutcome(nas *pledge.NAS) (string, string, int) {
	reply, _ := nas.Final()
	switch {
	case reply == nil:
		return "none", "", nas.RoundTrips()
	case reply.Code == layeh.CodeAccessAccept:
		vlan, _ := radius.ParseVLAN(reply)
		return "accept", vlan.Group, nas.RoundTrips()
	}
	return "reject", "", nas.RoundTrips()
}

// authenticateLDevID runs EAP-TLS with the LDevID that a bootstrap wrote
// to dir, trusting the domain CA file next to it.
func authenticateLDevID(ctx context.Context, nas *pledge.NAS, dir, identity string) error {
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, pledge.LDevIDFile),
		filepath.Join(dir, pledge.LDevIDKeyFile))
	if err != nil {
		return fmt.Errorf("load LDevID from %s: %w; bootstrap first", dir, err)
	}
	cas, err := masa.ReadCertificates(filepath.Join(dir, pledge.DomainCAFile))
	if err != nil {
		return fmt.Errorf("load domain CA: %w", err)
	}
	roots := x509.NewCertPool()
	for _, c := range cas {
		roots.AddCert(c)
	}
	_, err = pledge.AuthenticateTLS(ctx, nas, cert, roots, pledge.EAPConfig{Identity: identity})
	return err
}

func readSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read RADIUS secret: %w", err)
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if s == "" {
		return nil, fmt.Errorf("RADIUS secret file %s is empty", path)
	}
	return []byte(s), nil
}

// registerRADIUS adds the flags of "brski pledge --radius".
func (f *pledgeFlags) registerRADIUS(fs *flag.FlagSet) {
	fs.StringVar(&f.radius, "radius", "", "bootstrap over RADIUS instead of HTTPS: the "+
		"`host:port` of the registrar's RADIUS server, reached through a simulated NAS")
	fs.StringVar(&f.secretFile, "secret-file", "", "`file` with the RADIUS shared secret "+
		"of the simulated NAS (with --radius)")
	fs.StringVar(&f.mac, "mac", "", "Calling-Station-Id of the simulated port (with "+
		"--radius); default: a locally administered MAC derived from --out")
	fs.BoolVar(&f.eapTLS, "eap-tls", false, "with --radius: authenticate with EAP-TLS "+
		"using the LDevID in --out, and print the VLAN, instead of bootstrapping")
	fs.StringVar(&f.identity, "identity", "", "EAP identity (with --radius); default: the "+
		"serial number of the certificate. SERIAL@REALM with a realm of the registrar's "+
		"est_realms starts EAP-EST without a Nak, one round trip less")
}

func (f *pledgeFlags) validateRADIUS() error {
	req := []struct{ name, value string }{{"--secret-file", f.secretFile}, {"--out", f.out}}
	if !f.eapTLS {
		req = append(req, struct{ name, value string }{"--idevid", f.idevid},
			struct{ name, value string }{"--key", f.key},
			struct{ name, value string }{"--masa-trust", f.masaTrust})
	}
	if f.registrar != "" {
		return &exitError{code: 2, err: errors.New("brski pledge: choose --registrar or " +
			"--radius, not both")}
	}
	for _, r := range req {
		if r.value == "" {
			return &exitError{code: 2, err: fmt.Errorf("brski pledge: %s is required "+
				"with --radius", r.name)}
		}
	}
	if err := checkIdentity(f.identity); err != nil {
		return &exitError{code: 2, err: fmt.Errorf("brski pledge: invalid --identity: %w", err)}
	}
	return nil
}

// maxIdentity is the longest EAP identity that brski pledge sends, the
// most that one User-Name attribute carries (RFC 2865, Section 5.1).
const maxIdentity = 253

// checkIdentity rejects an --identity that is too long, not printable
// UTF-8, or an NAI with an empty realm (RFC 7542, Section 2.2). Printable
// means unicode.IsPrint, so the ASCII space is the only space allowed,
// and format characters such as U+202E are rejected. Empty selects the
// default identity.
func checkIdentity(id string) error {
	switch {
	case len(id) > maxIdentity:
		return fmt.Errorf("%d octets, more than %d; use SERIAL or SERIAL@REALM",
			len(id), maxIdentity)
	case !utf8.ValidString(id):
		return errors.New("invalid UTF-8; use SERIAL or SERIAL@REALM")
	case strings.ContainsFunc(id, unicode.IsControl):
		return fmt.Errorf("%q contains a control character; use SERIAL or SERIAL@REALM", id)
	case strings.HasSuffix(id, "@"):
		return fmt.Errorf("%q has an empty realm after \"@\"; use SERIAL or SERIAL@REALM",
			id)
	}
	if i := strings.IndexFunc(id, notPrintable); i >= 0 {
		r, _ := utf8.DecodeRuneInString(id[i:])
		return fmt.Errorf("%q contains %U, which is not printable; use SERIAL or "+
			"SERIAL@REALM", id, r)
	}
	return nil
}

func notPrintable(r rune) bool { return !unicode.IsPrint(r) }

// runPledgeRADIUS runs "brski pledge --radius": a bootstrap over EAP-EST,
// or with --eap-tls an EAP-TLS authentication, through a simulated NAS.
func runPledgeRADIUS(f *pledgeFlags, stdout, stderr io.Writer) error {
	secret, err := readSecret(f.secretFile)
	if err != nil {
		return err
	}
	client := &radius.Client{Servers: []radius.ServerAddr{{Addr: f.radius, Secret: secret}}}
	defer client.Close()
	nas := newPledgeNAS(client, f.out)
	if f.mac != "" {
		nas.CallingStationID = f.mac
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if f.eapTLS {
		err := authenticateLDevID(ctx, nas, f.out, f.identity)
		return printRADIUSOutcome(stdout, nas, "EAP-TLS", err)
	}
	p, err := f.load()
	if err != nil {
		return err
	}
	p.Trace = progress(stdout, hclog.New(&hclog.LoggerOptions{Name: "pledge",
		Output: stderr}))
	res, _, err := p.BootstrapEAP(ctx, nas, pledge.EAPConfig{Identity: f.identity})
	if err == nil {
		err = res.WriteFiles(f.out)
	}
	if err == nil {
		fmt.Fprintf(stdout, "wrote %s, %s and %s\n", filepath.Join(f.out, pledge.LDevIDFile),
			filepath.Join(f.out, pledge.LDevIDKeyFile), filepath.Join(f.out, pledge.DomainCAFile))
	}
	return printRADIUSOutcome(stdout, nas, "EAP-EST", err)
}

// printRADIUSOutcome prints the final RADIUS reply of nas. A reject is an
// error with exit code 1.
func printRADIUSOutcome(w io.Writer, nas *pledge.NAS, method string, err error) error {
	outcome, vlan, trips := finalOutcome(nas)
	if vlan == "" {
		vlan = "none"
	}
	fmt.Fprintf(w, "%s: Access-%s, VLAN %s, %d RADIUS round trips\n", method,
		strings.ToUpper(outcome[:1])+outcome[1:], vlan, trips)
	if err != nil {
		return err
	}
	if outcome != "accept" {
		return fmt.Errorf("brski pledge: %s ended with Access-%s", method, outcome)
	}
	return nil
}
