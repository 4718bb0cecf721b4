package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"

	"github.com/brski-eap/brski/pledge"
)

func TestDemoTwoDevices(t *testing.T) {
	keep := filepath.Join(t.TempDir(), "lab")
	var stdout, stderr bytes.Buffer
	if err := runDemo([]string{"--devices", "2", "--keep", keep}, &stdout,
		&stderr); err != nil {
		t.Fatalf("demo: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	var rows []string
	for _, line := range strings.Split(stdout.String(), "\n") {
		if strings.HasPrefix(line, "LAB-") {
			rows = append(rows, strings.Join(strings.Fields(line)[:4], " "))
		}
	}
	want := []string{
		"LAB-0001 EAP-EST accept 100", "LAB-0002 EAP-EST accept 100",
		"LAB-0001 EAP-TLS accept 100", "LAB-0002 EAP-TLS accept 100",
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("table rows:\n%s\nwant:\n%s\nstdout:\n%s", strings.Join(rows, "\n"),
			strings.Join(want, "\n"), stdout.String())
	}
	for _, serial := range []string{"LAB-0001", "LAB-0002"} {
		path := filepath.Join(keep, "pledges", serial, pledge.LDevIDFile)
		if _, err := os.Stat(path); err != nil {
			t.Errorf("LDevID of %s not written: %v", serial, err)
		}
	}
}

func TestDemoRejectsBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"no devices", []string{"--devices", "0"}},
		{"too many devices", []string{"--devices", "101"}},
		{"log level", []string{"--log-level", "loud"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := runDemo(tt.args, &out, &out)
			var ee *exitError
			if !errors.As(err, &ee) || ee.code != 2 {
				t.Errorf("error = %v, want exit code 2", err)
			}
		})
	}
}

func TestPledgeOverRADIUS(t *testing.T) {
	dir := t.TempDir()
	l, err := createLab(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	rad := startTestLab(t, dir)
	dev := filepath.Join(dir, "factory", "devices", l.Serials[0])
	out := filepath.Join(dir, "pledge")
	common := []string{"--radius", rad.addr.String(), "--secret-file",
		filepath.Join(dir, "radius-secret"), "--out", out}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bootstrap", append([]string{"--idevid", filepath.Join(dev, "idevid.pem"),
			"--key", filepath.Join(dev, "key.pem"), "--masa-trust",
			filepath.Join(dir, "masa-trust.pem")}, common...),
			"EAP-EST: Access-Accept, VLAN 100"},
		{"eap-tls", append([]string{"--eap-tls"}, common...),
			"EAP-TLS: Access-Accept, VLAN 100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if err := runPledge(tt.args, &stdout, &stderr); err != nil {
				t.Fatalf("pledge: %v\n%s%s", err, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.want) {
				t.Errorf("stdout:\n%s\nwant %q", stdout.String(), tt.want)
			}
		})
	}
}

// TestPledgeIdentityWithESTRealm bootstraps with --identity SERIAL@REALM
// against a registrar whose radius block lists REALM in est_realms. The
// server then offers EAP-EST first, so the bootstrap needs no Nak and one
// round trip less than without the realm.
func TestPledgeIdentityWithESTRealm(t *testing.T) {
	dir := t.TempDir()
	l, err := createLab(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "registrar.hcl")
	conf, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	withRealm := strings.Replace(string(conf), "radius {",
		"radius {\n  est_realms = [\"pledges.lab\"]", 1)
	if err := os.WriteFile(path, []byte(withRealm), 0o600); err != nil {
		t.Fatal(err)
	}
	rad := startTestLab(t, dir)

	trips := make(map[string]string)
	for i, identity := range []string{"", l.Serials[1] + "@pledges.lab"} {
		dev := filepath.Join(dir, "factory", "devices", l.Serials[i])
		args := []string{"--radius", rad.addr.String(), "--secret-file",
			filepath.Join(dir, "radius-secret"), "--out", filepath.Join(dir, "p", l.Serials[i]),
			"--idevid", filepath.Join(dev, "idevid.pem"), "--key", filepath.Join(dev, "key.pem"),
			"--masa-trust", filepath.Join(dir, "masa-trust.pem"), "--identity", identity}
		var stdout, stderr bytes.Buffer
		if err := runPledge(args, &stdout, &stderr); err != nil {
			t.Fatalf("pledge %q: %v\n%s%s", identity, err, stdout.String(), stderr.String())
		}
		line := stdout.String()[strings.LastIndex(stdout.String(), "EAP-EST: "):]
		trips[identity] = strings.TrimSpace(line)
	}
	want := map[string]string{
		"":                            "EAP-EST: Access-Accept, VLAN 100, 11 RADIUS round trips",
		l.Serials[1] + "@pledges.lab": "EAP-EST: Access-Accept, VLAN 100, 10 RADIUS round trips",
	}
	if diff := cmp.Diff(want, trips); diff != "" {
		t.Errorf("outcome lines (-want +got):\n%s", diff)
	}
}

// startTestLab runs the MASA and the registrar's RADIUS server of the lab
// in dir on loopback ports that the kernel chooses, until the test ends.
func startTestLab(t *testing.T, dir string) *radiusListener {
	t.Helper()
	logger := hclog.NewNullLogger()
	masaSrv, masaURL, err := startDemoMASA(dir, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { masaSrv.Close() })
	rad, st, err := startDemoRegistrar(context.Background(), dir, masaURL, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		rad.stop()
		st.Close()
	})
	return rad
}

func TestCheckIdentity(t *testing.T) {
	tests := []struct {
		name    string
		id      string
		wantErr bool
	}{
		{"default", "", false},
		{"serial", "SN-1", false},
		{"serial and realm", "SN-1@pledges.lab", false},
		{"realm only", "@pledges.lab", false},
		{"UTF-8 serial", "Gerät-1@pledges.lab", false},
		{"space", "SN 1", false},
		{"253 octets", strings.Repeat("a", 253), false},
		{"254 octets", strings.Repeat("a", 254), true},
		{"253 octets of two-octet runes and one more", strings.Repeat("ü", 127), true},
		{"NUL", "SN-1\x00", true},
		{"DEL", "SN-1\x7f", true},
		{"C1 control", "SN-1\u0085", true},
		{"ESC sequence", "SN-1\x1b[2J", true},
		{"invalid UTF-8", "SN-\xff", true},
		{"bidi override", "SN-\u202e1", true},
		{"line separator", "SN-1\u2028x", true},
		{"zero-width space", "SN-\u200b1", true},
		{"no-break space", "SN\u00a01", true},
		{"empty realm", "SN-1@", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkIdentity(tt.id)
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Errorf("checkIdentity(%q) = %v; want an error: %v", tt.id, err, tt.wantErr)
			}
		})
	}
}

// FuzzCheckIdentity checks that every identity that checkIdentity accepts
// fits a User-Name attribute and is printable UTF-8 with a non-empty realm.
func FuzzCheckIdentity(f *testing.F) {
	for _, seed := range []string{"", "SN-1@pledges.lab", "SN-1@", "SN-\u202e1",
		"\xff", strings.Repeat("a", 254), "Gerät-1"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if checkIdentity(id) != nil {
			return
		}
		switch {
		case len(id) > maxIdentity:
			t.Errorf("accepted %d octets", len(id))
		case !utf8.ValidString(id):
			t.Errorf("accepted invalid UTF-8 %q", id)
		case strings.IndexFunc(id, notPrintable) >= 0:
			t.Errorf("accepted %q with a character that is not printable", id)
		case strings.HasSuffix(id, "@"):
			t.Errorf("accepted %q with an empty realm", id)
		}
	})
}
