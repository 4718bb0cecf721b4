package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"

	"github.com/brski-eap/brski/eapest"
	"github.com/brski-eap/brski/eapserver"
	"github.com/brski-eap/brski/policies"
	"github.com/brski-eap/brski/radius"
	"github.com/brski-eap/brski/registrar"
)

// radiusListener is the RADIUS server of "brski registrar": EAP-TLS and
// EAP-EST through eapserver, on the address of the radius block.
type radiusListener struct {
	addr   net.Addr
	srv    *radius.Server
	served chan error
	logger hclog.Logger
	// endSweep stops the session sweeper, which closes the conversations
	// left over and sends their number on swept.
	endSweep context.CancelFunc
	swept    chan int
}

// checkRADIUSBlock validates the radius block of a registrar file and reads
// its secret files, for "brski config check".
func checkRADIUSBlock(cfg *registrar.Config) hcl.Diagnostics {
	if cfg.RADIUS == nil {
		return nil
	}
	fc, diags := eapserver.DecodeFileConfig(cfg.RADIUS.Body, cfg.RADIUS.DefRange)
	if diags.HasErrors() {
		return diags
	}
	dir := filepath.Dir(cfg.Filename)
	if _, err := fc.ClientTable(dir); err != nil {
		return hcl.Diagnostics{clientDiagnostic(err, cfg.RADIUS.DefRange)}
	}
	return secretWarnings(fc, dir)
}

// clientDiagnostic turns an error of the client table into a diagnostic.
// A *radius.ConfigError is reported at its client block with its client
// and field, so that the location appears once; other errors at block.
func clientDiagnostic(err error, block hcl.Range) *hcl.Diagnostic {
	var ce *radius.ConfigError
	if errors.As(err, &ce) && ce.Range.Filename != "" {
		return &hcl.Diagnostic{Severity: hcl.DiagError,
			Summary: fmt.Sprintf("radius: invalid client %q", ce.Client),
			Detail:  fmt.Sprintf("%s: %v", ce.Field, ce.Err), Subject: ce.Range.Ptr()}
	}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "radius: invalid client",
		Detail: err.Error(), Subject: block.Ptr()}
}

// secretWarnings returns the weak shared secrets of the client blocks as
// warnings, which "brski config check" prints and "brski registrar" logs.
// They do not stop the server, so deployments that worked keep working.
func secretWarnings(fc *eapserver.FileConfig, dir string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, w := range radius.CheckClientSecrets(fc.Clients, dir) {
		d := &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "radius: weak shared secret",
			Detail: w.Error()}
		var ce *radius.ConfigError
		if errors.As(w, &ce) {
			d.Summary = fmt.Sprintf("radius: client %q: weak %s", ce.Client, ce.Field)
			d.Detail = strings.TrimPrefix(ce.Err.Error(), "radius: ")
			d.Subject = ce.Range.Ptr()
		}
		diags = append(diags, d)
	}
	return diags
}

// radiusServerConfig builds the eapserver configuration of a registrar.
func radiusServerConfig(fc *eapserver.FileConfig, opts registrar.Options,
	r *registrar.Registrar, st eapserver.Store) (eapserver.Config, error) {
	typ, err := fc.ESTType()
	if err != nil {
		return eapserver.Config{}, err
	}
	profile, err := fc.Profile()
	if err != nil {
		return eapserver.Config{}, err
	}
	var pledgeCAs []*x509.Certificate
	for _, m := range opts.Manufacturers {
		pledgeCAs = append(pledgeCAs, m.CA...)
	}
	return eapserver.Config{Registrar: r, RegistrarTLS: r.TLSConfig(), PledgeCAs: pledgeCAs,
		VerifyPledge: r.VerifyPeerChain,
		DomainCAs:    opts.DomainCA.Chain, Store: st, Policy: opts.Policy, ESTType: typ,
		FragmentSize: fc.FragmentSize, ESTRealms: fc.ESTRealms, TLSProfile: profile}, nil
}

// startRADIUS starts the RADIUS server when the configuration has a radius
// block, and returns nil otherwise: without client blocks a listener
// would drop every request. The returned context ends when ctx does or
// when the RADIUS server fails, so that the HTTPS server stops too.
func startRADIUS(ctx context.Context, cfg *registrar.Config, opts registrar.Options,
	r *registrar.Registrar, st eapserver.Store,
	logger hclog.Logger) (context.Context, *radiusListener, error) {
	return startRADIUSAt(ctx, "", cfg, opts, r, st, logger)
}

// startRADIUSAt is startRADIUS on listen instead of the configured address
// when listen is not empty.
func startRADIUSAt(ctx context.Context, listen string, cfg *registrar.Config,
	opts registrar.Options, r *registrar.Registrar, st eapserver.Store,
	logger hclog.Logger) (context.Context, *radiusListener, error) {
	conn, err := listenRADIUS(cfg, listen)
	if err != nil {
		return ctx, nil, err
	}
	return startRADIUSOn(ctx, conn, cfg, opts, r, st, logger)
}

// listenRADIUS opens the UDP socket of the radius block on listen, or on
// the block's own address when listen is empty. Without a radius block it
// returns nil.
func listenRADIUS(cfg *registrar.Config, listen string) (net.PacketConn, error) {
	if cfg.RADIUS == nil {
		return nil, nil
	}
	if listen == "" {
		fc, diags := eapserver.DecodeFileConfig(cfg.RADIUS.Body, cfg.RADIUS.DefRange)
		if diags.HasErrors() {
			return nil, &registrar.ConfigError{Diagnostics: diags}
		}
		listen = fc.ListenAddr()
	}
	conn, err := net.ListenPacket("udp", listen)
	if err != nil {
		return nil, fmt.Errorf("radius: listen on %s: %w; change radius.listen", listen, err)
	}
	return conn, nil
}

// startRADIUSOn is startRADIUS on a socket that listenRADIUS opened. A nil
// conn means that the configuration has no radius block. It closes conn
// when it fails.
func startRADIUSOn(ctx context.Context, conn net.PacketConn, cfg *registrar.Config,
	opts registrar.Options, r *registrar.Registrar, st eapserver.Store,
	logger hclog.Logger) (context.Context, *radiusListener, error) {
	if conn == nil {
		logger.Info("no radius block: RADIUS is off")
		return ctx, nil, nil
	}
	log := logger.Named("radius")
	fc, handler, err := newRADIUSHandler(cfg, opts, r, st, log)
	if err != nil {
		conn.Close()
		return ctx, nil, err
	}
	clients, err := fc.ClientTable(filepath.Dir(cfg.Filename))
	if err != nil {
		conn.Close()
		return ctx, nil, err
	}
	for _, d := range secretWarnings(fc, filepath.Dir(cfg.Filename)) {
		log.Warn(policies.FormatDiagnostic(d))
	}
	rl := &radiusListener{addr: conn.LocalAddr(), served: make(chan error, 1), logger: log,
		srv: &radius.Server{Clients: clients, Handler: handler, Workers: radiusWorkers,
			DropHookRate: radiusDropHookRate, OnDrop: dropLogger(log, clients)}}
	names := make([]string, 0, len(clients.Clients()))
	for _, c := range clients.Clients() {
		names = append(names, c.String())
	}
	log.Info("starting", "listen", conn.LocalAddr().String(), "clients", names,
		"eap_est_type", handler.ESTType().String(), "tls_profile", handler.TLSProfile().String())
	if handler.TLSProfile() == eapest.ProfileLegacy {
		log.Warn("legacy TLS profile is on: EAP-TLS and EAP-EST accept TLS 1.0 and 1.1, " +
			"TLS without Extended Master Secret and, with an RSA certificate, RSA key exchange")
	}
	sweepCtx, endSweep := context.WithCancel(context.Background())
	rl.endSweep, rl.swept = endSweep, make(chan int, 1)
	go func() { rl.swept <- handler.SweepSessions(sweepCtx, eapserver.DefaultSweepInterval) }()
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		err := rl.srv.Serve(conn)
		rl.served <- err
		if !errors.Is(err, radius.ErrServerClosed) {
			log.Error("RADIUS server failed", "error", err)
			cancel()
		}
	}()
	return ctx, rl, nil
}

// radiusWorkers is the number of RADIUS requests served at once. An
// EAP-EST round may wait up to eapest.DefaultRoundBudget for the registrar
// while it asks a MASA, so the pool is larger than the CPU count that the
// radius package's default follows.
const radiusWorkers = 64

// radiusDropHookRate bounds the OnDrop calls per second and drop reason. It
// is well above the radius package's default, so that the counts of drops
// held back between two log lines are close to the real ones, while
// dropLogger still writes one line per source and reason a minute.
const radiusDropHookRate = 1000

// dropLogger returns the OnDrop hook of the RADIUS server. Drops that point
// at a misconfiguration or an overload get a WARN line, at most one per
// source address and reason in radius.DefaultDropLogInterval, naming the
// client block that matched and the fix. Routine drops, and the repeats
// that the limit holds back, are logged at DEBUG. The wire stays silent
// either way (RFC 3579, Section 3.2).
func dropLogger(log hclog.Logger, clients *radius.ClientTable) func(radius.DropReason,
	net.Addr, error) {
	limit := &radius.DropLog{}
	return func(reason radius.DropReason, addr net.Addr, err error) {
		msg := "datagram dropped: " + reason.Description()
		var report radius.DropReport
		ok := false
		if !reason.Routine() {
			report, ok = limit.Record(reason, addr, err)
		}
		if !ok {
			log.Debug(msg, withError([]any{"reason", reason.String(), "from",
				addrString(addr)}, err)...)
			return
		}
		fields := []any{"reason", reason.String(), "from", addrString(addr)}
		client := ""
		if nas, found := clients.Lookup(report.Source); found {
			client = nas.Name
			fields = append(fields, "client", client)
		}
		fields = append(fields, "fix", reason.Fix(client, report.Source))
		if report.Unreported > 0 {
			fields = append(fields, "unreported_other_sources", report.Unreported)
		}
		if report.Suppressed > 0 {
			fields = append(fields, "suppressed_since_last", report.Suppressed)
		}
		log.Warn(msg, withError(fields, err)...)
	}
}

// withError appends the error field to fields when err is not nil.
func withError(fields []any, err error) []any {
	if err == nil {
		return fields
	}
	return append(fields, "error", err)
}

// newRADIUSHandler decodes the radius block and creates the EAP server
// that logs one line per conversation to log.
func newRADIUSHandler(cfg *registrar.Config, opts registrar.Options, r *registrar.Registrar,
	st eapserver.Store, log hclog.Logger) (*eapserver.FileConfig, *eapserver.Server, error) {
	fc, diags := eapserver.DecodeFileConfig(cfg.RADIUS.Body, cfg.RADIUS.DefRange)
	if diags.HasErrors() {
		return nil, nil, &registrar.ConfigError{Diagnostics: diags}
	}
	ecfg, err := radiusServerConfig(fc, opts, r, st)
	if err != nil {
		return nil, nil, err
	}
	ecfg.OnResult = func(res eapserver.Result) { logConversation(log, res) }
	handler, err := eapserver.New(ecfg)
	if err != nil {
		return nil, nil, err
	}
	return fc, handler, nil
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// stop shuts the RADIUS server down, letting conversation rounds in
// progress reply, and then closes the conversations that remain. A nil
// listener does nothing.
func (rl *radiusListener) stop() error {
	if rl == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), registrarShutdownTimeout)
	defer cancel()
	err := rl.srv.Shutdown(ctx)
	if serveErr := <-rl.served; !errors.Is(serveErr, radius.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	rl.endSweep()
	closed := <-rl.swept
	if err != nil {
		return fmt.Errorf("radius shutdown: %w", err)
	}
	if closed > 0 {
		// A NAS that retries after the restart gets an unknown State and
		// an Access-Reject, so the devices start over.
		rl.logger.Warn("stopped; closed conversations in progress", "conversations", closed)
		return nil
	}
	rl.logger.Info("stopped")
	return nil
}

// logConversation writes one line per RADIUS conversation, at a level set
// by the outcome, with CR and LF removed from the peer-controlled values.
func logConversation(log hclog.Logger, r eapserver.Result) {
	fields := []any{"mac", clean(r.CallingStationID), "nas", r.NAS,
		"identity", clean(r.Identity), "method", r.MethodName(), "outcome", r.Outcome,
		"rounds", r.Rounds, "duration", r.Duration}
	if r.VLAN != "" {
		fields = append(fields, "vlan", r.VLAN)
	}
	if r.Serial != "" {
		fields = append(fields, "serial", clean(r.Serial))
	}
	if r.Rule != "" {
		fields = append(fields, "rule", r.Rule)
	}
	if r.Reason != "" {
		fields = append(fields, "reason", clean(r.Reason))
	}
	if r.LegacyTLS != 0 {
		fields = append(fields, "legacy_tls", r.LegacyTLS.String())
	}
	switch {
	case r.Err != nil:
		log.Warn("conversation rejected", append(fields, "error", clean(r.Err.Error()))...)
	case r.Outcome == eapserver.OutcomeReject:
		log.Warn("conversation rejected", fields...)
	case r.Outcome != "accept":
		log.Warn("conversation admitted", fields...)
	default:
		log.Info("conversation admitted", fields...)
	}
}
