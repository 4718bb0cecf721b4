package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/brski-eap/brski/masa"
	"github.com/brski-eap/brski/pledge"
)

func init() {
	register(command{
		Name:    "pledge",
		Summary: "bootstrap this device: request a voucher and enroll an LDevID",
		Run:     runPledge,
	})
}

// pledgeFlags are the flags of "brski pledge". Transports other than HTTPS
// add their own flags in register and choose themselves in run.
type pledgeFlags struct {
	idevid    string
	key       string
	masaTrust string
	registrar string
	out       string
	timeout   time.Duration
	// 802.1X on the device's own interfaces; see runPledgeEAPOL.
	interfaces string
	reset      bool
	// The RADIUS transport through a simulated NAS; see demo.go.
	radius     string
	secretFile string
	mac        string
	identity   string
	eapTLS     bool
}

func (f *pledgeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.idevid, "idevid", "",
		"PEM `file` with the IDevID certificate, optionally followed by its chain")
	fs.StringVar(&f.key, "key", "", "PEM `file` with the IDevID private key")
	fs.StringVar(&f.masaTrust, "masa-trust", "",
		"PEM `file` with the manufacturer's MASA trust anchors")
	fs.StringVar(&f.registrar, "registrar", "",
		"registrar `URL`, such as https://registrar.example:8443")
	fs.StringVar(&f.out, "out", "", "`directory` for "+pledge.LDevIDFile+", "+
		pledge.LDevIDKeyFile+" and "+pledge.DomainCAFile)
	fs.StringVar(&f.interfaces, "interface", "", "comma-separated `interfaces` to try "+
		"802.1X on before --registrar; once enrolled, EAP-TLS with the LDevID on them")
	fs.DurationVar(&f.timeout, "timeout", defaultPledgeTimeout, "maximum `duration` of "+
		"the whole attempt, such as 90s or 10m, including the waits for a registrar "+
		"that responds 202")
	fs.BoolVar(&f.reset, "reset", false, "forget the enrollment recorded in --out, "+
		"so the device bootstraps again")
	f.registerRADIUS(fs)
}

func (f *pledgeFlags) validate() error {
	if f.timeout <= 0 {
		return &exitError{code: 2, err: fmt.Errorf("brski pledge: --timeout %v must be "+
			"positive", f.timeout)}
	}
	if err := f.checkConflicts(); err != nil {
		return err
	}
	if f.radius != "" {
		return f.validateRADIUS()
	}
	for _, req := range []struct{ name, value string }{
		{"--idevid", f.idevid}, {"--key", f.key}, {"--masa-trust", f.masaTrust},
		{"--registrar or --interface", f.registrar + f.interfaces}, {"--out", f.out},
	} {
		if req.value == "" {
			return &exitError{code: 2, err: fmt.Errorf("brski pledge: %s is required",
				req.name)}
		}
	}
	return checkInterfaces(f.interfaces)
}

// checkInterfaces returns a usage error when a name in the comma-separated
// list is not a network interface of this host, and lists those that are.
func checkInterfaces(list string) error {
	if list == "" {
		return nil
	}
	for _, name := range strings.Split(list, ",") {
		if _, err := net.InterfaceByName(name); err == nil {
			continue
		}
		var names []string
		if ifaces, err := net.Interfaces(); err == nil {
			for _, ifc := range ifaces {
				names = append(names, ifc.Name)
			}
		}
		return &exitError{code: 2, err: fmt.Errorf("brski pledge: --interface %q is not a "+
			"network interface of this host; the interfaces are: %s", name,
			strings.Join(names, ", "))}
	}
	return nil
}

func runPledge(args []string, stdout, stderr io.Writer) error {
	ctx, stop := interruptContext(context.Background())
	defer stop()
	return runPledgeContext(ctx, args, stdout, stderr)
}

// runPledgeContext runs "brski pledge" until ctx ends. A ctx canceled with
// an *interruptError cause returns that error.
func runPledgeContext(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("pledge", stderr)
	var f pledgeFlags
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := f.validate(); err != nil {
		return err
	}
	if f.reset {
		if err := pledge.ResetEnrollment(f.out); err != nil {
			return err
		}
	}
	removeOut, err := createOutDir(f.out)
	if err != nil {
		return err
	}
	err = f.run(ctx, stdout, stderr)
	if err != nil {
		removeOut()
	}
	var ie *interruptError
	if errors.As(context.Cause(ctx), &ie) {
		return ie
	}
	if err != nil {
		return &pledgeError{err}
	}
	return nil
}

// pledgeError is an error of "brski pledge" without the "pledge: " prefix
// of the pledge package, which the command's own "brski pledge: " repeats.
type pledgeError struct{ err error }

func (e *pledgeError) Error() string { return strings.TrimPrefix(e.err.Error(), "pledge: ") }

func (e *pledgeError) Unwrap() error { return e.err }

// unreachableError is a registrar that the pledge could not reach until
// --timeout, with the flag to check.
type unreachableError struct{ ue *pledge.UnreachableError }

func (e *unreachableError) Error() string {
	last := e.ue.Err.Error()
	var errno syscall.Errno
	if errors.As(e.ue.Err, &errno) {
		last = errno.Error()
	}
	return fmt.Sprintf("no registrar listens at %s after %s in %s; check --registrar and "+
		"that the registrar runs (last attempt: %s)", e.ue.URL, e.ue.AttemptsText(),
		e.ue.Elapsed.Round(100*time.Millisecond), last)
}

func (e *unreachableError) Unwrap() error { return e.ue }

// run bootstraps over the transport that the flags choose.
func (f *pledgeFlags) run(ctx context.Context, stdout, stderr io.Writer) error {
	if f.interfaces != "" {
		return runPledgeEAPOL(ctx, f, stdout, stderr)
	}
	if f.radius != "" {
		return runPledgeOverRADIUS(ctx, f, stdout, stderr)
	}
	p, err := f.load()
	if err != nil {
		return err
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "pledge", Output: stderr})
	p.Trace = progress(stdout, log)
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	res, err := p.Bootstrap(ctx, f.registrar)
	var ue *pledge.UnreachableError
	if errors.As(err, &ue) {
		return &unreachableError{ue}
	}
	if err != nil {
		return f.timeoutError(ctx, err)
	}
	if err := res.WriteFiles(f.out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s, %s and %s\n", filepath.Join(f.out, pledge.LDevIDFile),
		filepath.Join(f.out, pledge.LDevIDKeyFile), filepath.Join(f.out, pledge.DomainCAFile))
	return nil
}

// runPledgeOverRADIUS runs runPledgeRADIUS once an --eap-tls run has
// found its LDevID, and names where the reason of a reject is logged.
func runPledgeOverRADIUS(ctx context.Context, f *pledgeFlags, stdout, stderr io.Writer) error {
	if f.eapTLS {
		// Fail before the outcome line, which would report a RADIUS reply
		// that never came.
		if _, _, err := pledge.LoadLDevID(f.out); err != nil {
			return fmt.Errorf("%w; bootstrap first, without --eap-tls", err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	err := f.timeoutError(ctx, runPledgeRADIUS(ctx, f, stdout, stderr))
	if errors.Is(err, pledge.ErrEAPFailure) {
		return fmt.Errorf("%w; the registrar's log line for this device gives the "+
			"reason", err)
	}
	return err
}

// defaultPledgeTimeout is the default of --timeout. It covers a registrar
// that responds 202 for several minutes while the MASA is slow.
const defaultPledgeTimeout = 5 * time.Minute

// interruptContext returns a context that SIGINT or SIGTERM cancels with
// an *interruptError cause, and the function that stops the signal
// delivery.
//
// NOTE: a single HTTP request has no deadline of its own, so a registrar
// that trickles one response holds an attempt until --timeout.
func interruptContext(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-signals:
			sig, _ := s.(syscall.Signal)
			cancel(&interruptError{signal: sig})
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		signal.Stop(signals)
		cancel(nil)
	}
}

// timeoutError names --timeout in err when the attempt ran out of time,
// unless a registrar responded with an error status, which is the cause.
func (f *pledgeFlags) timeoutError(ctx context.Context, err error) error {
	var se *pledge.StatusError
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && !errors.As(err, &se) {
		return fmt.Errorf("timed out after %v (--timeout): %w", f.timeout, err)
	}
	return err
}

// createOutDir creates dir and writes and removes a probe file in it, so
// that an unwritable --out fails before the registrar issues an LDevID
// whose key could not be saved. It returns the function that removes the
// directories it created, which leaves no empty --out after a failure.
func createOutDir(dir string) (func(), error) {
	var created []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); !errors.Is(err, os.ErrNotExist) {
			break
		}
		created = append(created, d)
	}
	remove := func() {
		// os.Remove keeps a directory that is not empty.
		for _, d := range created {
			os.Remove(d)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("--out %s: %w", dir, err)
	}
	probe, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		remove()
		return nil, fmt.Errorf("--out %s is not writable: %w", dir, err)
	}
	_, err = probe.WriteString("probe\n")
	err = errors.Join(err, probe.Close(), os.Remove(probe.Name()))
	if err != nil {
		remove()
		return nil, fmt.Errorf("--out %s is not writable: %w", dir, err)
	}
	return remove, nil
}

// load reads the IDevID and the MASA trust anchors named by the flags.
func (f *pledgeFlags) load() (*pledge.Pledge, error) {
	id, err := tls.LoadX509KeyPair(f.idevid, f.key)
	if err != nil {
		return nil, fmt.Errorf("load IDevID %s with key %s: %w", f.idevid, f.key, err)
	}
	anchors, err := masa.ReadCertificates(f.masaTrust)
	if err != nil {
		return nil, fmt.Errorf("load MASA trust anchors: %w", err)
	}
	pool := x509.NewCertPool()
	for _, c := range anchors {
		pool.AddCert(c)
	}
	return &pledge.Pledge{IDevID: id, MASATrust: pool}, nil
}

// progress returns the Trace hook that prints one line per step to stdout
// and logs failed telemetry, which does not stop the attempt.
func progress(stdout io.Writer, log hclog.Logger) func(pledge.Event) {
	return func(e pledge.Event) {
		switch e.Kind {
		case pledge.EventVoucherRequested:
			fmt.Fprintf(stdout, "voucher requested from %s\n", e.Path)
		case pledge.EventRetry:
			reason := ""
			if e.Reason != "" {
				reason = fmt.Sprintf(" (%q)", e.Reason)
			}
			fmt.Fprintf(stdout, "registrar is processing %s%s; retrying in %s\n", e.Path,
				reason, e.Wait)
		case pledge.EventVoucherVerified:
			fmt.Fprintf(stdout, "voucher received and verified: assertion %s, "+
				"pinned domain %q\n", e.Voucher.Assertion, e.Cert.Subject.String())
		case pledge.EventCACerts:
			fmt.Fprintf(stdout, "domain CA certificates received: %d\n", len(e.Certs))
		case pledge.EventEnrolled:
			fmt.Fprintf(stdout, "enrolled: LDevID serial %s, subject %q, issuer %q\n",
				e.Cert.SerialNumber.Text(16), e.Cert.Subject.String(), e.Cert.Issuer.String())
		case pledge.EventTelemetryFailed:
			log.Warn("status report failed", "path", e.Path, "error", e.Err)
		case pledge.EventConnectRetry:
			log.Warn("registrar unreachable; retrying", "path", e.Path, "wait", e.Wait,
				"error", e.Err)
		}
	}
}

// runPledgeEAPOL bootstraps over 802.1X on the interfaces of --interface,
// then over HTTPS with --registrar when it is set. A device that --out
// records as enrolled authenticates with EAP-TLS and its LDevID instead.
func runPledgeEAPOL(ctx context.Context, f *pledgeFlags, stdout, stderr io.Writer) error {
	log := hclog.New(&hclog.LoggerOptions{Name: "pledge", Output: stderr})
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	ifaces := strings.Split(f.interfaces, ",")
	_, err := pledge.ReadEnrollment(f.out)
	if err == nil {
		return reauthenticateEAPOL(ctx, ifaces, f.out, stdout)
	}
	if !errors.Is(err, pledge.ErrNotEnrolled) {
		return err
	}
	p, err := f.load()
	if err != nil {
		return err
	}
	p.Trace = progress(stdout, log)
	d := pledge.Discovery{Interfaces: ifaces, Trace: func(a pledge.Attempt) {
		log.Warn("bootstrapping attempt failed", "attempt", a.String(), "error", a.Err)
	}}
	if f.registrar != "" {
		d.RegistrarURLs = []string{f.registrar}
	}
	res, via, err := p.Discover(ctx, d)
	if err != nil {
		return f.timeoutError(ctx, err)
	}
	if err := pledge.WriteEnrollment(f.out, res, via, time.Now()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "enrolled over %s; wrote the LDevID and %s to %s\n", via,
		pledge.EnrolledFile, f.out)
	return nil
}

// reauthenticateEAPOL runs EAP-TLS with the enrolled LDevID on the first
// interface whose authenticator accepts it.
func reauthenticateEAPOL(ctx context.Context, ifaces []string, dir string,
	stdout io.Writer) error {
	cert, roots, err := pledge.LoadLDevID(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range ifaces {
		tr, err := pledge.DialEAPOL(name, pledge.EAPOLConfig{})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		_, err = pledge.AuthenticateTLS(ctx, tr, cert, roots, pledge.EAPConfig{})
		tr.Close()
		if err == nil {
			fmt.Fprintf(stdout, "authenticated with EAP-TLS on %s\n", name)
			return nil
		}
		errs = append(errs, fmt.Errorf("EAP-TLS on %s: %w", name, err))
	}
	return errors.Join(errs...)
}
