package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"

	"github.com/brski-eap/brski/devid"
	"github.com/brski-eap/brski/masaclient"
	"github.com/brski-eap/brski/registrar"
)

func init() {
	register(command{
		Name:    "registrar",
		Summary: "run the BRSKI registrar and EST server over HTTPS, and RADIUS with EAP-EST and EAP-TLS",
		Run:     runRegistrar,
	})
	registerConfigKind(configKind{
		Name: "registrar",
		Markers: []string{"manufacturer", "masa_client", "domain_ca", "registrar_cert",
			"voucher_wait", "retry_after", "pending_ttl", "ldevid_validity", "policy_files",
			"hostnames"},
		Embeds:        []string{"policy"},
		SharedMarkers: []string{"listen", "data_dir"},
		Check:         checkRegistrarConfig,
	})
}

// checkRegistrarConfig decodes a registrar file with its policy and reads
// the certificate files that it names.
func checkRegistrarConfig(path string, file *hcl.File) hcl.Diagnostics {
	cfg, err := registrar.ParseConfig(path, file.Bytes)
	if diags := configDiagnostics(err); diags != nil {
		return diags
	}
	if err != nil {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: err.Error()}}
	}
	return append(cfg.CheckFiles(), checkRADIUSBlock(cfg)...)
}

// registrarShutdownTimeout bounds the wait for active requests at shutdown.
const registrarShutdownTimeout = 10 * time.Second

func runRegistrar(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("registrar", stderr)
	configFile := fs.String("config", "", "registrar configuration file in HCL; without it "+
		"the registrar uses ./"+registrar.DefaultDataDir+", listens on "+
		registrar.DefaultListen+" and accepts only expected devices "+
		"(see docs/configuration.md)")
	level := fs.String("log-level", "info", "log level: trace, debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &exitError{code: 2, err: fmt.Errorf("brski registrar: unexpected argument %q; "+
			"run \"brski registrar -h\"", fs.Arg(0))}
	}
	logger, err := newLogger("registrar", *level, stderr)
	if err != nil {
		return err
	}
	percent, limit := tuneRegistrarGC()
	logger.Debug("garbage collector", "gc_percent", percent, "memory_limit_bytes", limit)
	cfg, err := loadRegistrarConfig(*configFile, logger)
	if err != nil {
		return err
	}
	// Bind first, so that a port in use leaves no store or domain CA behind.
	l, conn, err := bindRegistrar(cfg, *configFile)
	if err != nil {
		return err
	}
	// The servers close them too, and a second Close is harmless.
	defer l.Close()
	if conn != nil {
		defer conn.Close()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := registrar.OpenStore(ctx, cfg.DataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	opts, err := cfg.Options(st, time.Now())
	if err != nil {
		return err
	}
	opts.OnRequest = func(l registrar.RequestLog) { logRegistrarRequest(logger, l) }
	opts.OnMASARetry = func(serial string, r masaclient.Retry) {
		logMASARetry(logger, serial, r)
	}
	r, err := registrar.New(opts)
	if err != nil {
		return err
	}
	ctx, rad, err := startRADIUSOn(ctx, conn, cfg, opts, r, st.DB, logger)
	if err != nil {
		return err
	}
	return errors.Join(serveRegistrar(ctx, l, cfg, opts, r, logger), rad.stop())
}

// bindRegistrar opens the HTTPS listener and, when the configuration has a
// radius block, the RADIUS socket. A bind error names the attribute to
// change, in configFile or, without one, in a file passed with --config.
func bindRegistrar(cfg *registrar.Config, configFile string) (net.Listener,
	net.PacketConn, error) {
	listen := cfg.Listen
	if listen == "" {
		listen = registrar.DefaultListen
	}
	l, err := net.Listen("tcp", listen)
	if err != nil {
		if configFile == "" {
			return nil, nil, fmt.Errorf("%w; stop the process that uses the port, or pass "+
				"--config with a file that sets listen", err)
		}
		return nil, nil, fmt.Errorf("%w; change listen in %s", err, configFile)
	}
	conn, err := listenRADIUS(cfg, "")
	if err != nil {
		l.Close()
		return nil, nil, err
	}
	return l, conn, nil
}

// loadRegistrarConfig reads the configuration file, or returns the
// embedded default when path is empty.
func loadRegistrarConfig(path string, logger hclog.Logger) (*registrar.Config, error) {
	if path != "" {
		cfg, err := registrar.LoadConfig(path)
		return cfg, plainConfigError(err)
	}
	cfg, err := registrar.DefaultConfig()
	if err != nil {
		return nil, err
	}
	logger.Warn("no --config given: using the embedded default configuration",
		"data_dir", cfg.DataDir, "listen", registrar.DefaultListen,
		"policy", "accept only devices in the expected-devices list",
		"manufacturers", "none, so no IDevID is trusted until a configuration adds one")
	return cfg, nil
}

// serveRegistrar serves HTTPS on l until ctx ends.
func serveRegistrar(ctx context.Context, l net.Listener, cfg *registrar.Config,
	opts registrar.Options, r *registrar.Registrar, logger hclog.Logger) error {
	names := make([]string, 0, len(opts.Manufacturers))
	for _, m := range opts.Manufacturers {
		names = append(names, m.Name)
	}
	logger.Info("starting", "listen", l.Addr().String(), "data_dir", cfg.DataDir,
		"domain_ca", opts.DomainCA.Cert.Subject.String(),
		"domain_ca_sha256", devid.Fingerprint(opts.DomainCA.Cert),
		"registrar_cert_sha256", devid.Fingerprint(opts.Cert.Leaf()),
		"manufacturers", strings.Join(names, ","),
		"rules", strings.Join(cfg.Policy.RuleNames(), ","))
	readTimeout, writeTimeout := r.ServerTimeouts()
	srv := &http.Server{
		Handler:           r,
		TLSConfig:         r.TLSConfig(),
		ConnContext:       r.ConnContext,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          logger.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}),
	}
	return serveUntilDone(ctx, logger, registrarShutdownTimeout,
		func() error { return srv.ServeTLS(l, "", "") }, srv.Shutdown)
}

// logMASARetry writes one line per failed MASA attempt that the client
// retries, so that a voucher that stays pending has its cause in the log,
// such as a 503 with Retry-After from the MASA's rate limit.
func logMASARetry(logger hclog.Logger, serial string, r masaclient.Retry) {
	logger.Warn("MASA request failed; retrying", "serial", clean(serial), "url", r.URL,
		"attempt", fmt.Sprintf("%d of %d", r.Attempt, r.MaxAttempts), "retry_in", r.Delay,
		"error", r.Err)
}

// logRegistrarRequest writes one line per request, at a level set by the
// outcome, with CR and LF removed from the peer-controlled values.
func logRegistrarRequest(logger hclog.Logger, l registrar.RequestLog) {
	fields := []any{"route", clean(l.Route), "remote", l.Remote, "peer", l.PeerKind.String(),
		"serial", clean(l.PeerSerial), "status", l.Status, "duration", l.Duration}
	if l.Outcome != "" {
		fields = append(fields, "outcome", l.Outcome)
	}
	if len(l.Modes) > 0 {
		fields = append(fields, "reduced_security", strings.Join(l.Modes, ","))
	}
	if l.Reason != "" {
		fields = append(fields, "reason", clean(l.Reason))
	}
	switch {
	case l.Err != nil:
		logger.Error("request failed", append(fields, "error", l.Err)...)
	case l.Status >= 400 || l.Outcome == "reject":
		logger.Warn("request rejected", fields...)
	case l.Outcome == "quarantine" || len(l.Modes) > 0:
		logger.Warn("request served", fields...)
	case l.Status == http.StatusAccepted:
		logger.Info("voucher pending", fields...)
	default:
		logger.Info("request served", fields...)
	}
}
