package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	logger := hclog.NewNullLogger()
	l, err := createLab(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	masaSrv, masaURL, err := startDemoMASA(dir, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer masaSrv.Close()
	rad, st, err := startDemoRegistrar(context.Background(), dir, masaURL, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	defer rad.stop()
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
