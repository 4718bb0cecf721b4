package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/brski-eap/brski/authenticator"
	"github.com/brski-eap/brski/authenticator/pae"
	"github.com/brski-eap/brski/internal/hclcheck"
	"github.com/brski-eap/brski/radius"
)

func init() {
	registerConfigKind(configKind{
		Name:    "authenticator",
		Markers: []string{"interface", "nas_identifier", "nas_ip", "unauthenticated_bridge"},
		Check:   checkAuthenticatorConfig,
	})
	register(command{
		Name:    "authenticator",
		Summary: "run the 802.1X authenticator on bridge ports, relaying EAPOL to RADIUS",
		Run:     runAuthenticator,
	})
}

// checkAuthenticatorConfig decodes an authenticator file and warns about
// weak shared secrets of the server blocks whose secret files it can read.
func checkAuthenticatorConfig(path string, file *hcl.File) hcl.Diagnostics {
	cfg, diags := authenticator.DecodeConfig(file.Body)
	if diags.HasErrors() {
		return diags
	}
	dir := filepath.Dir(path)
	setup, err := authenticator.NewSetup(cfg, dir)
	if err != nil {
		// NOTE: an unreadable secret file is reported by "brski authenticator" at
		// start, as before, and not here.
		return diags
	}
	defer setup.Client.Close()
	for _, w := range serverSecretWarnings(cfg, setup, dir) {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning,
			Summary: w.Error()})
	}
	return diags
}

func runAuthenticator(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("authenticator", stderr)
	configFile := fs.String("config", "", "HCL configuration `file` (see docs/lab.md)")
	level := fs.String("log-level", "info", "log level: trace, debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *configFile == "" {
		return &exitError{code: 2, err: errors.New("brski authenticator: --config is required")}
	}
	logger, err := newLogger("authenticator", *level, stderr)
	if err != nil {
		return err
	}
	setup, warnings, err := loadAuthenticatorConfig(*configFile)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		logger.Warn(w.Error())
	}
	badReplies := &logLimiter{every: time.Minute, last: map[string]time.Time{}}
	setup.Client.OnBadResponse = func(server radius.ServerAddr, err error) {
		logBadResponse(logger, badReplies, server, err)
	}
	defer setup.Client.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	names := make([]string, len(setup.Ports))
	for i, p := range setup.Ports {
		names[i] = p.Name
	}
	logger.Info("starting", "ports", names, "radius_servers", len(setup.Client.Servers))
	err = authenticator.Run(ctx, setup, authenticatorHooks(logger))
	st := setup.Client.Stats()
	logger.Info("stopped; every port is locked", "radius_bad_responses", st.BadResponses,
		"radius_retransmissions", st.Retransmissions, "radius_failovers", st.Failovers)
	return err
}

// loadAuthenticatorConfig parses and validates the file and reads the
// secret files, which are relative to the file's directory. It also returns
// the weaknesses of the shared secrets, which do not stop the authenticator.
func loadAuthenticatorConfig(path string) (*authenticator.Setup, []error, error) {
	file, diags := hclcheck.ParseHCLFile(hclparse.NewParser(), path)
	if diags.HasErrors() {
		return nil, nil, diags
	}
	cfg, diags := authenticator.DecodeConfig(file.Body)
	if diags.HasErrors() {
		return nil, nil, diags
	}
	dir := filepath.Dir(path)
	setup, err := authenticator.NewSetup(cfg, dir)
	if err != nil {
		return nil, nil, err
	}
	return setup, serverSecretWarnings(cfg, setup, dir), nil
}

// serverSecretWarnings checks the shared secret of each server block, which
// setup has read, with the rules of the registrar's client blocks.
func serverSecretWarnings(cfg *authenticator.Config, setup *authenticator.Setup,
	dir string) []error {
	var warnings []error
	for i, s := range cfg.RADIUS.Servers {
		if i >= len(setup.Client.Servers) {
			break
		}
		path := s.SecretFile
		if path != "" && !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		for _, w := range radius.CheckSecret(setup.Client.Servers[i].Secret, path) {
			warnings = append(warnings, fmt.Errorf("authenticator: RADIUS server %q: %w",
				s.Name, w))
		}
	}
	return warnings
}

// logBadResponse writes at most one WARN line a minute per RADIUS server
// about replies that failed their checks, and the others at DEBUG. Without
// a valid reply every session of the ports times out.
func logBadResponse(logger hclog.Logger, limit *logLimiter, server radius.ServerAddr,
	err error) {
	if !limit.allow("bad response " + server.Addr) {
		logger.Debug("RADIUS reply ignored", "server", server.Addr, "error", err)
		return
	}
	fields := []any{"server", server.Addr}
	if errors.Is(err, radius.ErrResponseAuthenticatorInvalid) ||
		errors.Is(err, radius.ErrMessageAuthenticatorInvalid) {
		fields = append(fields, "fix", "check that the secret of this server block "+
			"matches the client block of the RADIUS server; a wrong secret makes every "+
			"Response Authenticator fail")
	}
	logger.Warn("RADIUS reply ignored", append(fields, "error", err)...)
}

// authenticatorHooks logs one line per session outcome and rate-limits the
// lines about frames, whose volume a peer controls.
func authenticatorHooks(logger hclog.Logger) authenticator.Hooks {
	limit := &logLimiter{every: time.Second, last: map[string]time.Time{}}
	return authenticator.Hooks{
		Event: func(e pae.Event) { logPAEEvent(logger, limit, e) },
		Malformed: func(port string, err *authenticator.MalformedFrameError) {
			if limit.allow("malformed " + port) {
				logger.Warn("malformed EAPOL frame dropped", "port", port, "error", err)
			}
		},
		Error: func(port string, err error) {
			logger.Error("port failed", "port", port, "error", err)
		},
		Ready: func() { logger.Info("serving: every port is locked until it authenticates") },
	}
}

func logPAEEvent(logger hclog.Logger, limit *logLimiter, e pae.Event) {
	fields := []any{"port", e.Port, "mac", e.MAC.String(), "session", e.SessionID}
	switch e.Kind {
	case pae.EventAuthorized:
		vlan := e.VLAN
		if vlan == "" {
			vlan = "unauthenticated"
		}
		logger.Info("session authorized", append(fields, "vlan", vlan)...)
	case pae.EventRejected:
		logger.Warn("session rejected", append(fields, "reason", "Access-Reject")...)
	case pae.EventSessionEnded:
		fields = append(fields, "reason", e.Reason)
		if e.Err != nil {
			logger.Warn("session ended", append(fields, "error", e.Err)...)
			return
		}
		logger.Info("session ended", fields...)
	case pae.EventReauthenticating:
		logger.Debug("session reauthenticating", fields...)
	case pae.EventPortError, pae.EventSendError:
		logger.Error(e.Kind.String(), append(fields, "error", e.Err)...)
	case pae.EventFrameDropped:
		if limit.allow("dropped " + e.Port + " " + e.Reason) {
			logger.Debug("EAPOL frame dropped", append(fields, "reason", clean(e.Reason))...)
		}
	}
}

// logLimiter allows one line per key and interval.
type logLimiter struct {
	every time.Duration
	mu    sync.Mutex
	last  map[string]time.Time
}

func (l *logLimiter) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if t, ok := l.last[key]; ok && now.Sub(t) < l.every {
		return false
	}
	if len(l.last) > 1024 {
		clear(l.last) // bound the map; keys come from ports and fixed reasons
	}
	l.last[key] = now
	return true
}
