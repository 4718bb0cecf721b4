package main

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brski-eap/brski/registrar"
)

// holdTCP listens on a loopback port that the kernel chooses, until the
// test ends, and returns its address.
func holdTCP(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l.Addr().String()
}

// holdUDP is holdTCP for a UDP socket.
func holdUDP(t *testing.T) string {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn.LocalAddr().String()
}

func TestBindErrorNamesAttribute(t *testing.T) {
	tests := []struct {
		name    string
		command string
		taken   string // "masa", "registrar" or "radius"
		want    string // in stderr, after the address
	}{
		{"registrar HTTPS", "registrar", "registrar", "; change listen in "},
		{"registrar RADIUS", "registrar", "radius", "; change radius.listen"},
		{"MASA HTTPS", "masa", "masa", "; change listen in "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The registrar binds its HTTPS port before the RADIUS one, so
			// that port has to be free.
			addrs := map[string]string{}
			for _, name := range []string{"masa", "registrar", "radius"} {
				network := "tcp"
				if name == "radius" {
					network = "udp"
				}
				addrs[name] = "127.0.0.1:" + freePort(t, network, "127.0.0.1")
			}
			if tt.taken == "radius" {
				addrs[tt.taken] = holdUDP(t)
			} else {
				addrs[tt.taken] = holdTCP(t)
			}
			dir := filepath.Join(t.TempDir(), "lab")
			code, _, stderr := runBrski("init", dir, "--devices", "1",
				"--masa-listen", addrs["masa"], "--registrar-listen", addrs["registrar"],
				"--radius-listen", addrs["radius"])
			if code != 0 {
				t.Fatalf("init exit %d:\n%s", code, stderr)
			}
			configFile := filepath.Join(dir, tt.command+".hcl")
			code, _, stderr = runBrski(tt.command, "--config", configFile)
			if code != 1 {
				t.Fatalf("exit %d, want 1:\n%s", code, stderr)
			}
			want := addrs[tt.taken] + ": bind: address already in use" + tt.want
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, stderr)
			}
			if tt.taken != "radius" && !strings.Contains(stderr, configFile) {
				t.Errorf("stderr does not name %s:\n%s", configFile, stderr)
			}
		})
	}
}

// TestDefaultRegistrarBindFailsClean runs "brski registrar" without
// --config while the default HTTPS port is taken, and expects a hint and
// no data directory.
func TestDefaultRegistrarBindFailsClean(t *testing.T) {
	l, err := net.Listen("tcp", registrar.DefaultListen)
	if err != nil {
		// Another program holds the port. It may release the port at any
		// time, so the test cannot count on the registrar's bind failing.
		t.Skipf("cannot hold %s for the test: %v", registrar.DefaultListen, err)
	}
	defer l.Close()
	t.Chdir(t.TempDir())
	code, _, stderr := runBrski("registrar")
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, stderr)
	}
	for _, want := range []string{registrar.DefaultListen + ": bind: address already in use",
		"pass --config with a file that sets listen"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if _, err := os.Stat(registrar.DefaultDataDir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stat ./%s: %v, want it not to exist", registrar.DefaultDataDir, err)
	}
}
