package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brski-eap/brski/masa"
	"github.com/brski-eap/brski/pledge"
	"github.com/brski-eap/brski/registrar"
)

func TestInitLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lab")
	code, stdout, stderr := runBrski("init", dir, "--devices", "2")
	if code != 0 {
		t.Fatalf("init exit %d, stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "brski registrar --config") {
		t.Errorf("init output names no next command:\n%s", stdout)
	}
	if want := "brski devices list --data " + filepath.Join(dir, "data"); !strings.Contains(stdout,
		want) {
		t.Errorf("init output lacks %q:\n%s", want, stdout)
	}
	registrarHCL, err := os.ReadFile(filepath.Join(dir, "registrar.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(registrarHCL), "is not in the expected-devices list") {
		t.Errorf("the default block blames the expected-devices list for every reject:\n%s",
			registrarHCL)
	}
	files := map[string]os.FileMode{
		"registrar.hcl":                        0o644,
		"masa.hcl":                             0o644,
		"radius-secret":                        0o600,
		"masa-trust.pem":                       0o644,
		"factory/ca.pem":                       0,
		"factory/devices/LAB-0001/idevid.pem":  0,
		"factory/devices/LAB-0001/key.pem":     0o600,
		"factory/devices/LAB-0002/key.pem":     0o600,
		"domain/" + registrar.DomainCACertFile: 0,
		"domain/" + registrar.DomainCAKeyFile:  0o600,
		"data/registrar.db":                    0,
	}
	for name, mode := range files {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("missing %s: %v", name, err)
			continue
		}
		if mode != 0 && info.Mode().Perm() != mode {
			t.Errorf("%s mode = %v, want %v", name, info.Mode().Perm(), mode)
		}
	}

	for _, name := range []string{"registrar.hcl", "masa.hcl"} {
		code, _, stderr = runBrski("config", "check", filepath.Join(dir, name))
		if code != 0 {
			t.Errorf("config check %s exit %d:\n%s", name, code, stderr)
		}
	}
	code, stdout, stderr = runBrski("devices", "list", "--data", filepath.Join(dir, "data"))
	if code != 0 {
		t.Fatalf("devices list exit %d:\n%s", code, stderr)
	}
	for _, serial := range []string{"LAB-0001", "LAB-0002"} {
		if !strings.Contains(stdout, serial) {
			t.Errorf("devices list lacks %s:\n%s", serial, stdout)
		}
	}
}

func TestInitRejectsNonEmptyDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runBrski("init", dir); code == 0 {
		t.Errorf("init into a non-empty directory succeeded; stderr:\n%s", stderr)
	}
	if code, _, _ := runBrski("init"); code != 2 {
		t.Errorf("init without DIR exit %d, want 2", code)
	}
}

// TestInitPrintsAbsolutePaths creates a lab by a relative path and checks
// that the printed commands name it by its absolute path, so that they
// work from another directory.
func TestInitPrintsAbsolutePaths(t *testing.T) {
	parent := t.TempDir()
	t.Chdir(parent)
	code, stdout, stderr := runBrski("init", "lab", "--devices", "1")
	if code != 0 {
		t.Fatalf("init exit %d; stderr:\n%s", code, stderr)
	}
	want := "brski devices list --data " + filepath.Join(parent, "lab", "data")
	if !strings.Contains(stdout, want) {
		t.Errorf("init output lacks %q:\n%s", want, stdout)
	}
}

// TestInitLabBootstraps runs the MASA and the registrar from the files that
// init wrote, on loopback ports chosen by the kernel, and bootstraps one of
// the lab's devices over HTTPS.
func TestInitLabBootstraps(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lab")
	if code, _, stderr := runBrski("init", dir, "--devices", "1"); code != 0 {
		t.Fatalf("init exit %d:\n%s", code, stderr)
	}
	masaURL := serveLabMASA(t, filepath.Join(dir, "masa.hcl"))
	registrarURL := serveLabRegistrar(t, filepath.Join(dir, "registrar.hcl"), masaURL)

	device := filepath.Join(dir, "factory", "devices", "LAB-0001")
	idevid, err := tls.LoadX509KeyPair(filepath.Join(device, "idevid.pem"),
		filepath.Join(device, "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	trustPEM, err := os.ReadFile(filepath.Join(dir, "masa-trust.pem"))
	if err != nil {
		t.Fatal(err)
	}
	trust := x509.NewCertPool()
	if !trust.AppendCertsFromPEM(trustPEM) {
		t.Fatal("masa-trust.pem holds no certificate")
	}
	p := &pledge.Pledge{IDevID: idevid, MASATrust: trust}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	result, err := p.Bootstrap(ctx, registrarURL)
	if err != nil {
		t.Fatalf("Bootstrap: %v", err)
	}
	if got := result.LDevID.Subject.SerialNumber; got != "LAB-0001" {
		t.Errorf("LDevID serialNumber = %q, want LAB-0001", got)
	}
}

func serveLabMASA(t *testing.T, path string) string {
	return serveLabMASAAt(t, path, "127.0.0.1:0")
}

// serveLabMASAAt serves the MASA of the configuration file at path on
// listen, or on its configured address when listen is empty, until the
// test ends, and returns its URL.
func serveLabMASAAt(t *testing.T, path, listen string) string {
	t.Helper()
	cfg, err := masa.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := masa.New(*cfg)
	if err != nil {
		t.Fatal(err)
	}
	if listen == "" {
		listen = cfg.Listen
	}
	l, err := net.Listen("tcp", listen)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return "https://" + l.Addr().String()
}

func serveLabRegistrar(t *testing.T, path, masaURL string) string {
	return serveLabRegistrarAt(t, path, "127.0.0.1:0", masaURL).URL
}

// labRegistrar is a lab's registrar that serves HTTPS until the test ends.
type labRegistrar struct {
	URL       string
	Config    *registrar.Config
	Options   registrar.Options
	Registrar *registrar.Registrar
	Store     *registrar.SQLStore
}

// serveLabRegistrarAt serves the registrar of the configuration file at
// path over HTTPS on listen, or on its configured address when listen is
// empty. A masaURL that is not empty replaces the MASA URL of the IDevIDs.
func serveLabRegistrarAt(t *testing.T, path, listen, masaURL string) *labRegistrar {
	t.Helper()
	cfg, err := registrar.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := registrar.OpenStore(context.Background(), cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	opts, err := cfg.Options(st, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// The test's MASA may listen on a port that the kernel chose instead of
	// the port in the IDevIDs.
	for i := range opts.Manufacturers {
		if masaURL != "" {
			opts.Manufacturers[i].MASAURL = masaURL
		}
	}
	reg, err := registrar.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if listen == "" {
		listen = cfg.Listen
	}
	l, err := net.Listen("tcp", listen)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: reg, ConnContext: reg.ConnContext,
		ReadHeaderTimeout: 10 * time.Second}
	go func() {
		err := srv.Serve(tls.NewListener(l, reg.TLSConfig()))
		if !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("registrar Serve: %v", err)
		}
	}()
	t.Cleanup(func() { srv.Close() })
	return &labRegistrar{URL: "https://" + l.Addr().String(), Config: cfg, Options: opts,
		Registrar: reg, Store: st}
}
