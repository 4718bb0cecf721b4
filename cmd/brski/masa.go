package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/brski-eap/brski/masa"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"
)

func init() {
	register(command{
		Name:    "masa",
		Summary: "run the MASA HTTPS service for a factory's devices",
		Run:     runMASA,
	})
	registerConfigKind(configKind{
		Name:    "masa",
		Markers: []string{"factory_dir", "rate_interval", "nonceless_voucher_lifetime", "owner"},
		Check:   checkMASAConfig,
	})
}

// checkMASAConfig decodes a MASA file and reads the owner CA files that it
// names, as "brski masa" would at startup.
func checkMASAConfig(path string, file *hcl.File) hcl.Diagnostics {
	cfg, err := masa.ParseConfig(file.Bytes, path)
	var diags hcl.Diagnostics
	switch {
	case errors.As(err, &diags):
		return diags
	case err != nil:
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: err.Error()}}
	}
	if _, err := masa.OpenFactory(cfg.FactoryDir); err != nil {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Subject: attributeRange(file,
			"factory_dir"), Summary: fmt.Sprintf("factory_dir %q: %v; create the factory "+
			"with \"brski factory init\"", cfg.FactoryDir, err)}}
	}
	return nil
}

// masaShutdownTimeout bounds the wait for active requests at shutdown.
const masaShutdownTimeout = 10 * time.Second

func runMASA(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("masa", stderr)
	configFile := fs.String("config", "", "MASA configuration file in HCL (required); "+
		"see docs/masa.md")
	level := fs.String("log-level", "info", "log level: trace, debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *configFile == "" || fs.NArg() > 0 {
		return &exitError{code: 2, err: errors.New("brski masa: --config is required and no " +
			"arguments are allowed; run \"brski masa -h\"")}
	}
	logger, err := newLogger("masa", *level, stderr)
	if err != nil {
		return err
	}
	cfg, err := masa.LoadConfig(*configFile)
	var diags hcl.Diagnostics
	if errors.As(err, &diags) {
		for _, d := range diags {
			fmt.Fprintf(stderr, "%s\n", d.Error())
		}
		return fmt.Errorf("invalid configuration %s: %d error(s)", *configFile, len(diags))
	}
	if err != nil {
		return err
	}
	cfg.OnRequest = func(l masa.RequestLog) { logRequest(logger, l) }
	listen := cfg.Listen
	if listen == "" {
		listen = masa.DefaultListen
	}
	// Bind before masa.New opens the audit log, so that a port in use
	// leaves nothing behind.
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("%w; change listen in %s", err, *configFile)
	}
	srv, err := masa.New(*cfg)
	if err != nil {
		l.Close()
		return err
	}
	logger.Info("starting", "listen", l.Addr().String(), "factory", cfg.FactoryDir,
		"tls_cert", srv.TLSCertFile())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = serveUntilDone(ctx, logger, masaShutdownTimeout,
		func() error { return srv.Serve(l) }, srv.Shutdown)
	if err != nil {
		// Close is safe after Shutdown, and releases the database when Serve
		// failed before any shutdown.
		srv.Close()
	}
	return err
}

// logRequest writes one line per MASA request, at a level set by the
// outcome, with CR and LF removed from the peer-controlled values.
func logRequest(logger hclog.Logger, l masa.RequestLog) {
	fields := []any{"method", l.Method, "path", clean(l.Path), "remote", l.RemoteAddr,
		"status", l.Status, "serial", clean(l.SerialNumber), "duration", l.Duration}
	switch {
	case l.Err != nil:
		logger.Error("request failed", append(fields, "reason", l.Reason, "error", l.Err)...)
	case l.Status >= 400:
		logger.Warn(l.Outcome, append(fields, "reason", clean(l.Reason))...)
	default:
		logger.Info(l.Outcome, fields...)
	}
}

// lineBreaks escapes the line breaks in logged values. It is built once,
// because a strings.Replacer builds its lookup table on first use.
var lineBreaks = strings.NewReplacer("\r", `\r`, "\n", `\n`)

func clean(s string) string {
	return lineBreaks.Replace(s)
}
