package masa_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/brski-eap/brski/masa"
)

func TestGeneratedTLSCertificateReused(t *testing.T) {
	f, err := masa.InitFactory(t.TempDir(), "Example Devices", "https://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	cfg := masa.Config{FactoryDir: f.Dir, DataDir: t.TempDir()}
	var pems [][]byte
	for range 2 {
		srv, err := masa.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if dir := filepath.Dir(srv.TLSCertFile()); dir != filepath.Join(cfg.DataDir, "tls") {
			t.Errorf("certificate written to %s, want the data directory", dir)
		}
		data, err := os.ReadFile(srv.TLSCertFile())
		if err != nil {
			t.Fatal(err)
		}
		pems = append(pems, data)
		if err := srv.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(pems[0], pems[1]) {
		t.Error("second start issued a new TLS certificate")
	}
	certs, err := masa.ReadCertificates(filepath.Join(cfg.DataDir, "tls", "masa-tls.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if err := certs[0].VerifyHostname("127.0.0.1"); err != nil {
		t.Errorf("certificate is not valid for 127.0.0.1: %v", err)
	}
}

func TestConfiguredTLSKeyMode(t *testing.T) {
	f, err := masa.InitFactory(t.TempDir(), "Example Devices", "https://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := f.IssueServerCert([]string{"127.0.0.1"}, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.pem"), filepath.Join(dir, "tls-key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := masa.Config{FactoryDir: f.Dir, DataDir: dir, TLSCertFile: certFile,
		TLSKeyFile: keyFile}
	if _, err := masa.New(cfg); err == nil {
		t.Fatal("New accepted a TLS key with mode 0644")
	}
	if err := os.Chmod(keyFile, 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := masa.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if srv.TLSCertFile() != certFile {
		t.Errorf("TLSCertFile = %s, want %s", srv.TLSCertFile(), certFile)
	}
}

func TestNewInvalidConfig(t *testing.T) {
	f, err := masa.InitFactory(t.TempDir(), "Example Devices", "https://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  masa.Config
	}{
		{"no factory", masa.Config{DataDir: t.TempDir()}},
		{"no data dir", masa.Config{FactoryDir: f.Dir}},
		{"missing factory", masa.Config{FactoryDir: t.TempDir(), DataDir: t.TempDir()}},
		{"bad assertion", masa.Config{FactoryDir: f.Dir, DataDir: t.TempDir(),
			Assertion: "trusted"}},
		{"half TLS", masa.Config{FactoryDir: f.Dir, DataDir: t.TempDir(),
			TLSCertFile: "x.pem"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if srv, err := masa.New(tt.cfg); err == nil {
				srv.Close()
				t.Fatal("New succeeded")
			}
		})
	}
}

func TestShutdown(t *testing.T) {
	e := newEnv(t, nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := e.factory
	srv, err := masa.New(masa.Config{FactoryDir: f.Dir, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	if _, err := e.client.RequestVoucher(context.Background(), "https://"+l.Addr().String(),
		e.claim([]byte("shutdown-nonce01"))); err != nil {
		t.Fatal(err)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve returned %v, want http.ErrServerClosed", err)
	}
}
