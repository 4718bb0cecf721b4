package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"

	"github.com/brski-eap/brski/devid"
	"github.com/brski-eap/brski/masa"
)

// TestInitPortsBootstrap creates a lab on free loopback ports that the test
// chooses and serves the MASA and the registrar on the addresses in the
// generated files. It then runs the pledge commands that init printed: one
// device over HTTPS, another over RADIUS and then over EAP-TLS. Nothing
// replaces the MASA URL in the IDevIDs, so the registrar reaches the MASA
// through the URL that init wrote.
func TestInitPortsBootstrap(t *testing.T) {
	tests := []struct {
		name string
		host string
	}{
		{"IPv4 loopback", "127.0.0.1"},
		{"IPv6 loopback", "::1"},
		{"localhost", "localhost"},
		{"other loopback address", "127.0.0.2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.host == "::1" {
				requireIPv6Loopback(t)
			}
			masaListen := net.JoinHostPort(tt.host, freePort(t, "tcp", tt.host))
			registrarListen := net.JoinHostPort(tt.host, freePort(t, "tcp", tt.host))
			radiusListen := net.JoinHostPort(tt.host, freePort(t, "udp", tt.host))
			dir := filepath.Join(t.TempDir(), "lab")
			code, stdout, stderr := runBrski("init", dir, "--devices", "2",
				"--masa-listen", masaListen, "--registrar-listen", registrarListen,
				"--radius-listen", radiusListen)
			if code != 0 {
				t.Fatalf("init exit %d, stderr:\n%s", code, stderr)
			}
			checkIDevIDMASAURL(t, dir, "LAB-0001", "https://"+net.JoinHostPort(
				masaURLHost(tt.host), portOf(t, masaListen)))

			serveLabMASAAt(t, filepath.Join(dir, "masa.hcl"), "")
			reg := serveLabRegistrarAt(t, filepath.Join(dir, "registrar.hcl"), "", "")
			_, rad, err := startRADIUS(context.Background(), reg.Config, reg.Options,
				reg.Registrar, reg.Store.DB, hclog.NewNullLogger())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { rad.stop() })
			if got := rad.addr.String(); got != radiusListenIP(t, radiusListen) {
				t.Errorf("RADIUS listens on %s, want %s", got, radiusListen)
			}

			pledges := printedPledges(stdout)
			want := []string{`subject "SERIALNUMBER=LAB-0001`, "EAP-EST: Access-Accept, VLAN 100",
				"EAP-TLS: Access-Accept, VLAN 100"}
			if len(pledges) != len(want) {
				t.Fatalf("init printed %d pledge commands, want %d:\n%s", len(pledges),
					len(want), stdout)
			}
			for i, args := range pledges {
				code, out, errOut := runBrski(args...)
				if code != 0 {
					t.Fatalf("%s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
				}
				if !strings.Contains(out, want[i]) {
					t.Errorf("%s: stdout lacks %q:\n%s", strings.Join(args, " "), want[i], out)
				}
			}
		})
	}
}

// TestInitPortsInFiles checks that the generated files and the printed
// commands name the chosen addresses and none of the defaults.
func TestInitPortsInFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lab")
	code, stdout, stderr := runBrski("init", dir, "--devices", "1",
		"--masa-listen", "127.0.0.1:19443", "--registrar-listen", "127.0.0.1:18443",
		"--radius-listen", "[::1]:11812")
	if code != 0 {
		t.Fatalf("init exit %d, stderr:\n%s", code, stderr)
	}
	masaHCL := readFile(t, filepath.Join(dir, "masa.hcl"))
	registrarHCL := readFile(t, filepath.Join(dir, "registrar.hcl"))
	for _, c := range []struct{ name, text, want string }{
		{"masa.hcl", masaHCL, `listen        = "127.0.0.1:19443"`},
		{"registrar.hcl", registrarHCL, `listen   = "127.0.0.1:18443"`},
		{"registrar.hcl", registrarHCL, `listen = "[::1]:11812"`},
		{"registrar.hcl", registrarHCL, `address     = "::1"`},
		{"output", stdout, "--registrar https://127.0.0.1:18443 "},
		{"output", stdout, "--radius '[::1]:11812' "},
	} {
		if !strings.Contains(c.text, c.want) {
			t.Errorf("%s lacks %q:\n%s", c.name, c.want, c.text)
		}
	}
	for _, port := range []string{"9443", "8443", "1812"} {
		for name, text := range map[string]string{"masa.hcl": masaHCL,
			"registrar.hcl": registrarHCL, "output": stdout} {
			if strings.Contains(text, ":"+port) {
				t.Errorf("%s names the default port %s:\n%s", name, port, text)
			}
		}
	}
	checkIDevIDMASAURL(t, dir, "LAB-0001", "https://localhost:19443")
	for _, name := range []string{"registrar.hcl", "masa.hcl"} {
		if code, _, stderr := runBrski("config", "check", filepath.Join(dir, name)); code != 0 {
			t.Errorf("config check %s exit %d:\n%s", name, code, stderr)
		}
	}
}

// TestInitMASACertNamesHost creates labs whose MASA listens on a host that
// is not loopback and checks that the MASA's generated TLS certificate
// names the host of the MASA URL in the IDevIDs. The MASA never listens,
// so no traffic leaves loopback.
func TestInitMASACertNamesHost(t *testing.T) {
	for _, host := range []string{"192.0.2.10", "2001:db8::10", "masa.lab.example"} {
		t.Run(host, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "lab")
			listen := net.JoinHostPort(host, "19443")
			if code, _, stderr := runBrski("init", dir, "--devices", "1", "--masa-listen",
				listen); code != 0 {
				t.Fatalf("init exit %d, stderr:\n%s", code, stderr)
			}
			checkIDevIDMASAURL(t, dir, "LAB-0001", "https://"+listen)
			cfg, err := masa.LoadConfig(filepath.Join(dir, "masa.hcl"))
			if err != nil {
				t.Fatal(err)
			}
			srv, err := masa.New(*cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			certs, err := masa.ReadCertificates(srv.TLSCertFile())
			if err != nil {
				t.Fatal(err)
			}
			if err := certs[0].VerifyHostname(host); err != nil {
				t.Errorf("MASA TLS certificate: %v", err)
			}
			if err := certs[0].VerifyHostname("localhost"); err != nil {
				t.Errorf("MASA TLS certificate: %v", err)
			}
		})
	}
}

func TestInitListenInvalid(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		flag  string
		other string
	}{
		{"port 0", []string{"--masa-listen", "127.0.0.1:0"}, "masa-listen", ""},
		{"no port", []string{"--registrar-listen", "127.0.0.1"}, "registrar-listen", ""},
		{"empty", []string{"--radius-listen", ""}, "radius-listen", ""},
		{"port 70000", []string{"--radius-listen", "127.0.0.1:70000"}, "radius-listen", ""},
		{"negative port", []string{"--masa-listen", "127.0.0.1:-1"}, "masa-listen", ""},
		{"service name", []string{"--registrar-listen", "127.0.0.1:https"},
			"registrar-listen", ""},
		{"equal addresses", []string{"--masa-listen", "127.0.0.1:18443",
			"--registrar-listen", "127.0.0.1:18443"}, "registrar-listen", "masa-listen"},
		{"equal through localhost", []string{"--masa-listen", "localhost:18443",
			"--registrar-listen", "127.0.0.1:18443"}, "registrar-listen", "masa-listen"},
		{"equal through unspecified", []string{"--registrar-listen", "0.0.0.0:9443"},
			"registrar-listen", "masa-listen"},
		{"MASA unspecified IPv4", []string{"--masa-listen", "0.0.0.0:19443"},
			"masa-listen", ""},
		{"MASA unspecified IPv6", []string{"--masa-listen", "[::]:19443"}, "masa-listen", ""},
		{"MASA empty host", []string{"--masa-listen", ":19443"}, "masa-listen", ""},
		{"IPv6 zone", []string{"--registrar-listen", "[fe80::1%eth0]:8443"},
			"registrar-listen", ""},
		{"space in host", []string{"--masa-listen", "masa lab:9443"}, "masa-listen", ""},
		{"short IPv4", []string{"--masa-listen", "127.1:9443"}, "masa-listen", ""},
		{"hyphen label", []string{"--registrar-listen", "-lab:8443"}, "registrar-listen", ""},
		{"RADIUS host name", []string{"--radius-listen", "radius.lab.example:1812"},
			"radius-listen", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "lab")
			var stdout, stderr bytes.Buffer
			err := runInit(append([]string{dir}, tt.args...), &stdout, &stderr)
			var ee *exitError
			if !errors.As(err, &ee) || ee.code != 2 {
				t.Errorf("error = %v, want exit code 2", err)
			}
			var le *listenError
			if !errors.As(err, &le) {
				t.Fatalf("error = %v, want a listenError", err)
			}
			if le.Flag != tt.flag || le.Other != tt.other {
				t.Errorf("listenError names --%s and --%s, want --%s and --%s", le.Flag,
					le.Other, tt.flag, tt.other)
			}
			if !strings.Contains(err.Error(), "--"+le.Flag+" "+strconv.Quote(le.Value)) {
				t.Errorf("error %q does not name the flag and its value", err)
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("init created %s after a rejected value: %v", dir, err)
			}
		})
	}
}

func TestLabAddrs(t *testing.T) {
	type derived struct {
		MASAURL, RegistrarDial, RADIUSDial, RADIUSClient string
	}
	tests := []struct {
		name                    string
		masa, registrar, radius string
		want                    derived
	}{
		{"defaults", labMASAListen, labRegistrarListen, labRADIUSListen,
			derived{"https://localhost:9443", "127.0.0.1:8443", "127.0.0.1:1812", "127.0.0.1"}},
		{"IPv6 loopback", "[::1]:19443", "[::1]:18443", "[::1]:11812",
			derived{"https://[::1]:19443", "[::1]:18443", "[::1]:11812", "::1"}},
		{"localhost", "localhost:19443", "localhost:18443", "localhost:11812",
			derived{"https://localhost:19443", "localhost:18443", "localhost:11812",
				"127.0.0.1"}},
		{"other loopback address", "127.0.0.2:19443", "127.0.0.2:18443", "127.0.0.2:11812",
			derived{"https://127.0.0.2:19443", "127.0.0.2:18443", "127.0.0.2:11812",
				"127.0.0.1"}},
		{"unspecified", "192.0.2.10:9443", "0.0.0.0:8443", "[::]:1812",
			derived{"https://192.0.2.10:9443", "127.0.0.1:8443", "[::1]:1812", "::1"}},
		{"empty hosts", "masa.lab.example:9443", ":8443", ":1812",
			derived{"https://masa.lab.example:9443", "127.0.0.1:8443", "127.0.0.1:1812",
				"127.0.0.1"}},
		{"non-loopback RADIUS", "127.0.0.1:9443", "192.0.2.20:8443", "192.0.2.20:1812",
			derived{"https://localhost:9443", "192.0.2.20:8443", "192.0.2.20:1812",
				"192.0.2.20"}},
		{"canonical forms", "[::ffff:127.0.0.1]:09443", "127.0.0.1:+8443", "[0:0::1]:1812",
			derived{"https://localhost:9443", "127.0.0.1:8443", "[::1]:1812", "::1"}},
		{"same port other host", "127.0.0.1:9443", "127.0.0.2:9443", "127.0.0.1:9443",
			derived{"https://localhost:9443", "127.0.0.2:9443", "127.0.0.1:9443",
				"127.0.0.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addrs, err := parseLabAddrs(tt.masa, tt.registrar, tt.radius)
			if err != nil {
				t.Fatal(err)
			}
			got := derived{addrs.MASAURL(), dialAddr(addrs.Registrar), dialAddr(addrs.RADIUS),
				addrs.RADIUSClient()}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("derived addresses (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzParseListen checks that every value that parseListen accepts is in
// canonical form, has a port 1-65535, and, when accepted for the MASA,
// gives a MASA URL that the factory accepts with that port.
func FuzzParseListen(f *testing.F) {
	for _, seed := range []string{labMASAListen, "[::1]:1", ":65535", "localhost.:80",
		"[fe80::1%lo]:1", "127.1:9", "0.0.0.0:0", "a..b:1", "[::ffff:10.0.0.1]:0443",
		"x:+1", "h:99999", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, value string) {
		addr, err := parseListen("masa-listen", value, labMASAListen, checkMASAHost)
		if err != nil {
			return
		}
		again, err := parseListen("masa-listen", addr, labMASAListen, checkMASAHost)
		if err != nil || again != addr {
			t.Fatalf("%q gave %q, which parses to %q, %v", value, addr, again, err)
		}
		_, port := splitListen(addr)
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			t.Fatalf("%q gave port %q", value, port)
		}
		normalized, err := devid.NormalizeMASAURL(labAddrs{MASA: addr}.MASAURL())
		if err != nil {
			t.Fatalf("%q gave MASA URL that the factory rejects: %v", value, err)
		}
		u, err := url.Parse(normalized)
		if err != nil || u.Port() != port {
			t.Fatalf("%q gave MASA URL %q without port %s: %v", value, normalized, port, err)
		}
	})
}

// printedPledges returns the arguments of each "brski pledge" command in
// init's output, with the continuation lines joined. It removes the single
// quotes of a quoted word, so it needs paths without spaces.
func printedPledges(stdout string) [][]string {
	var cmds [][]string
	var cur []string
	for _, line := range strings.Split(stdout, "\n") {
		line = strings.TrimSpace(line)
		if cur == nil && !strings.HasPrefix(line, "brski pledge ") {
			continue
		}
		fields := strings.Fields(strings.TrimSuffix(line, `\`))
		for i, field := range fields {
			fields[i] = strings.Trim(field, "'") // as quoted by shellQuote
		}
		if cur == nil {
			fields = fields[1:] // "brski"
		}
		cur = append(cur, fields...)
		if !strings.HasSuffix(line, `\`) {
			cmds = append(cmds, cur)
			cur = nil
		}
	}
	return cmds
}

// freePort returns a port on host that was free a moment ago: the test
// listens on port 0, reads the port and closes the socket.
func freePort(t *testing.T, network, host string) string {
	t.Helper()
	addr := net.JoinHostPort(host, "0")
	var port int
	switch network {
	case "tcp":
		l, err := net.Listen(network, addr)
		if err != nil {
			t.Fatal(err)
		}
		port = l.Addr().(*net.TCPAddr).Port
		l.Close()
	default:
		c, err := net.ListenPacket(network, addr)
		if err != nil {
			t.Fatal(err)
		}
		port = c.LocalAddr().(*net.UDPAddr).Port
		c.Close()
	}
	return strconv.Itoa(port)
}

// requireIPv6Loopback skips the test when ::1 is not configured, and fails
// it instead under CI=true.
func requireIPv6Loopback(t *testing.T) {
	t.Helper()
	l, err := net.Listen("tcp", "[::1]:0")
	if err == nil {
		l.Close()
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("no IPv6 loopback: %v", err)
	}
	t.Skipf("no IPv6 loopback: %v", err)
}

// masaURLHost returns the host that init writes into the MASA URL for a
// MASA on a loopback host.
func masaURLHost(host string) string {
	if host == "127.0.0.1" || host == "localhost" {
		return "localhost"
	}
	return host
}

// radiusListenIP returns listen with localhost replaced by 127.0.0.1, the
// address that a listener on localhost reports.
func radiusListenIP(t *testing.T, listen string) string {
	t.Helper()
	host, port := splitListen(listen)
	return net.JoinHostPort(loopbackIfLocalhost(host), port)
}

func portOf(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

func checkIDevIDMASAURL(t *testing.T, dir, serial, want string) {
	t.Helper()
	certs, err := masa.ReadCertificates(filepath.Join(dir, "factory", "devices", serial,
		"idevid.pem"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := devid.MASAURL(certs[0])
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("IDevID MASA URL = %q, want %q", got, want)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
