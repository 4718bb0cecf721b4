// Package masa is a Manufacturer Authorized Signing Authority (RFC 8995,
// Sections 5.5 to 5.8) together with the virtual factory whose devices it
// serves. The factory mints IDevIDs that carry the MASA URL extension. The
// MASA checks registrar voucher requests, issues vouchers signed by the
// factory's voucher-signing key, and keeps the audit log of every voucher in
// SQLite.
package masa

import (
	"context"
	"crypto/tls"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// RequestLog describes one handled request for Config.OnRequest.
type RequestLog struct {
	Method, Path, RemoteAddr string
	// Status is the HTTP status code of the response.
	Status int
	// Outcome is "voucher issued", "voucher repeated", "audit log sent" or
	// "rejected".
	Outcome string
	// SerialNumber is the device's serial number once the request named one.
	SerialNumber string
	// Reason is the message sent to the client for a rejection.
	Reason string
	// Err is the internal cause of a 500, or of a failed body read, which
	// is never sent to the client.
	Err error
	// Duration is the time from the start of the request to the response.
	Duration time.Duration
}

// Server is a MASA HTTPS server.
type Server struct {
	cfg         Config
	factory     *Factory
	db          *sql.DB
	tlsConfig   *tls.Config
	tlsCertFile string
	httpServer  *http.Server

	claimMu   sync.Mutex // serializes the rate check and the voucher log insert
	closeOnce sync.Once
}

// New opens the factory and the database of cfg and loads or issues the TLS
// certificate. Close releases them.
func New(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	factory, err := OpenFactory(cfg.FactoryDir)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, factory: factory}
	if err := s.loadTLS(); err != nil {
		return nil, err
	}
	db, err := openStore(context.Background(), filepath.Join(cfg.DataDir, "masa.db"))
	if err != nil {
		return nil, err
	}
	s.db = db
	s.httpServer = &http.Server{
		Handler:           s.Handler(),
		TLSConfig:         s.tlsConfig,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
	}
	return s, nil
}

// TLSCertFile returns the file of the server certificate chain, which New
// wrote into the data directory when the config named none.
func (s *Server) TLSCertFile() string { return s.tlsCertFile }

// Factory returns the factory whose devices the server serves.
func (s *Server) Factory() *Factory { return s.factory }

// Serve accepts TLS connections on l until Shutdown or Close. It returns
// http.ErrServerClosed after Shutdown or Close.
func (s *Server) Serve(l net.Listener) error {
	return s.httpServer.Serve(tls.NewListener(l, s.tlsConfig))
}

// ListenAndServe listens on Config.Listen and calls Serve.
func (s *Server) ListenAndServe() error {
	l, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("masa: listen on %s: %w", s.cfg.Listen, err)
	}
	return s.Serve(l)
}

// Shutdown stops accepting connections and waits for active requests until
// ctx is done, then closes the database.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.httpServer.Shutdown(ctx)
	return errors.Join(err, s.closeDB())
}

// Close closes the listeners, active connections and the database. Calling
// it again, or after Shutdown, returns nil.
func (s *Server) Close() error {
	err := s.httpServer.Close()
	return errors.Join(err, s.closeDB())
}

func (s *Server) closeDB() error {
	var err error
	s.closeOnce.Do(func() { err = s.db.Close() })
	return err
}

// loadTLS reads the configured server certificate or issues one from the
// factory CA into DataDir/tls, and reuses that one while it is valid for at
// least another day.
func (s *Server) loadTLS() error {
	certFile, keyFile := s.cfg.TLSCertFile, s.cfg.TLSKeyFile
	if certFile == "" {
		dir := filepath.Join(s.cfg.DataDir, "tls")
		certFile = filepath.Join(dir, "masa-tls.pem")
		keyFile = filepath.Join(dir, "masa-tls-key.pem")
		if err := s.issueTLSCert(dir, certFile, keyFile); err != nil {
			return err
		}
	} else if err := checkKeyMode(keyFile); err != nil {
		return err
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return fmt.Errorf("masa: load TLS certificate: %w", err)
	}
	s.tlsCertFile = certFile
	s.tlsConfig = &tls.Config{Certificates: []tls.Certificate{pair},
		MinVersion: tls.VersionTLS12}
	return nil
}

func (s *Server) issueTLSCert(dir, certFile, keyFile string) error {
	if certs, err := ReadCertificates(certFile); err == nil {
		if time.Until(certs[0].NotAfter) > 24*time.Hour &&
			certs[0].CheckSignatureFrom(s.factory.CA) == nil {
			return nil
		}
	}
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if u, err := urlHost(s.factory.MASAURL); err == nil {
		hosts = append(hosts, u)
	}
	if h, _, err := net.SplitHostPort(s.cfg.Listen); err == nil && h != "" &&
		!net.ParseIP(h).IsUnspecified() {
		hosts = append(hosts, h)
	}
	certPEM, keyPEM, err := s.factory.IssueServerCert(dedupe(hosts), 365*24*time.Hour)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("masa: create %s: %w", dir, err)
	}
	for _, f := range []string{certFile, keyFile} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("masa: replace TLS certificate: %w", err)
		}
	}
	if err := writeFileExclusive(keyFile, keyPEM, 0o600); err != nil {
		return err
	}
	return writeFileExclusive(certFile, certPEM, 0o644)
}

func dedupe(list []string) []string {
	seen := map[string]bool{}
	out := list[:0]
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
