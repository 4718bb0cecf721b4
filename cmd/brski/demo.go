package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

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
	ctx, stop := interruptContext(context.Background())
	defer stop()
	return runDemoContext(ctx, args, stdout, stderr)
}

// runDemoContext runs "brski demo" until ctx ends. When ctx is canceled
// with an *interruptError cause, it starts no more devices, prints the
// table of those that finished and returns that error.
func runDemoContext(ctx context.Context, args []string, stdout, stderr io.Writer) error {
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
	logger := hclog.New(&hclog.LoggerOptions{Name: "demo", Output: stderr, Level: logLevel})
	rows, err := runDemoLab(ctx, dir, *devices, stdout, logger)
	var ie *interruptError
	if err != nil && !errors.As(err, &ie) {
		if errors.As(context.Cause(ctx), &ie) {
			return ie
		}
		return err
	}
	printDemoTable(stdout, rows)
	if *keep != "" {
		fmt.Fprintf(stdout, "\nlab kept in %s\n", dir)
	}
	if ie != nil {
		return err
	}
	for _, r := range rows {
		if r.err != nil {
			return fmt.Errorf("%s %s failed: %w", r.device, r.method, r.err)
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
		return "", nil, fmt.Errorf("--keep %s is not empty; choose a new "+
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
	steps := []struct {
		method, title string
		run           func(serial string) demoRow
	}{
		{"EAP-EST", "EAP-EST bootstrap through the NAS", func(serial string) demoRow {
			return demoBootstrap(ctx, client, serial,
				filepath.Join(dir, "factory", "devices", serial),
				filepath.Join(dir, "masa-trust.pem"), filepath.Join(dir, "pledges", serial))
		}},
		{"EAP-TLS", "EAP-TLS with the new LDevID", func(serial string) demoRow {
			return demoReauth(ctx, client, serial, filepath.Join(dir, "pledges", serial))
		}},
	}
	for _, step := range steps {
		for i, serial := range l.Serials {
			if err := demoInterrupted(ctx, i, n, step.method); err != nil {
				fmt.Fprintln(stdout)
				return rows, err
			}
			fmt.Fprintf(stdout, "[%d/%d] %s: %s\n", i+1, n, serial, step.title)
			row := step.run(serial)
			if err := demoInterrupted(ctx, i, n, step.method); err != nil && row.err != nil {
				// The signal, not the device, ended this row.
				fmt.Fprintln(stdout)
				return rows, err
			}
			rows = append(rows, row)
		}
	}
	fmt.Fprintln(stdout)
	return rows, nil
}

// demoInterrupted returns an error that wraps the *interruptError cause of
// ctx and counts the devices of the step that finished, or nil while ctx
// is not canceled by a signal.
func demoInterrupted(ctx context.Context, finished, n int, method string) error {
	var ie *interruptError
	if !errors.As(context.Cause(ctx), &ie) {
		return nil
	}
	return fmt.Errorf("%w after %d of %d devices with %s", ie, finished, n, method)
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
