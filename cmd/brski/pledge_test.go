package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// pledgeLabArgs creates a lab with one device and returns the pledge flags
// for it, without --registrar and --out.
func pledgeLabArgs(t *testing.T) []string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "lab")
	if code, _, stderr := runBrski("init", dir, "--devices", "1"); code != 0 {
		t.Fatalf("init: exit %d: %s", code, stderr)
	}
	devices, err := filepath.Glob(filepath.Join(dir, "factory", "devices", "*"))
	if err != nil || len(devices) != 1 {
		t.Fatalf("devices of the lab: %v, %v", devices, err)
	}
	return []string{"pledge", "--idevid", filepath.Join(devices[0], "idevid.pem"),
		"--key", filepath.Join(devices[0], "key.pem"),
		"--masa-trust", filepath.Join(dir, "masa-trust.pem")}
}

func TestPledgeUnwritableOutContactsNothing(t *testing.T) {
	args := pledgeLabArgs(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(notDir, "out")
	code, _, stderr := runBrski(append(args, "--registrar", "https://"+l.Addr().String(),
		"--out", out, "--timeout", "1m")...)
	if code != 1 || !strings.Contains(stderr, "--out "+out) {
		t.Errorf("exit %d, stderr %q; want 1 and the --out problem", code, stderr)
	}
	// A connection that the pledge opened waits in the backlog.
	if err := l.(*net.TCPListener).SetDeadline(time.Now()); err != nil {
		t.Fatal(err)
	}
	if conn, err := l.Accept(); err == nil {
		conn.Close()
		t.Error("the pledge connected to the registrar before it checked --out")
	}
}

func TestPledgeTimeoutSilentRegistrar(t *testing.T) {
	args := pledgeLabArgs(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				<-done
				conn.Close()
			}()
		}
	}()
	code, _, stderr := runBrski(append(args, "--registrar", "https://"+l.Addr().String(),
		"--out", filepath.Join(t.TempDir(), "out"), "--timeout", "1s")...)
	if code != 1 || !strings.Contains(stderr, "timed out after 1s (--timeout)") {
		t.Errorf("exit %d, stderr %q; want 1 and the timeout", code, stderr)
	}
}

func TestPledgePrintsRetryReason(t *testing.T) {
	args := pledgeLabArgs(t)
	var calls atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusAccepted)
			fmt.Fprint(w, "the MASA is rate limiting this device")
			return
		}
		http.Error(w, "stop here", http.StatusInternalServerError)
	}))
	defer srv.Close()
	code, stdout, stderr := runBrski(append(args, "--registrar", srv.URL,
		"--out", filepath.Join(t.TempDir(), "out"))...)
	if code != 1 {
		t.Errorf("exit %d, want 1; stderr %q", code, stderr)
	}
	if want := `("the MASA is rate limiting this device"); retrying in 0s`; !strings.Contains(
		stdout, want) {
		t.Errorf("stdout %q lacks %q", stdout, want)
	}
}

// TestPledgeFlagConflicts checks that flags that select different
// transports, or that only one transport reads, are a usage error that
// names both flags.
func TestPledgeFlagConflicts(t *testing.T) {
	full := func(edit func(f *pledgeFlags)) pledgeFlags {
		f := pledgeFlags{idevid: "idevid.pem", key: "key.pem", masaTrust: "masa.pem",
			out: "out", timeout: time.Minute}
		edit(&f)
		return f
	}
	tests := []struct {
		name  string
		flags pledgeFlags
		want  []string // in the message; nil means no error
	}{
		{"radius with unknown interface", full(func(f *pledgeFlags) {
			f.radius, f.secretFile, f.interfaces = "127.0.0.1:1812", "secret", "nosuch0"
		}), []string{"--radius", "--interface", "drop --interface", "drop --radius"}},
		{"radius with lo", full(func(f *pledgeFlags) {
			f.radius, f.secretFile, f.interfaces = "127.0.0.1:1812", "secret", "lo"
		}), []string{"--radius", "--interface", "drop --interface", "drop --radius"}},
		{"radius with registrar", full(func(f *pledgeFlags) {
			f.radius, f.secretFile, f.registrar = "127.0.0.1:1812", "secret", "https://r"
		}), []string{"--radius", "--registrar", "drop --registrar", "drop --radius"}},
		{"eap-tls with registrar", full(func(f *pledgeFlags) {
			f.eapTLS, f.registrar = true, "https://r"
		}), []string{"--eap-tls", "--registrar", "drop --eap-tls"}},
		{"eap-tls with interface", full(func(f *pledgeFlags) {
			f.eapTLS, f.interfaces = true, "lo"
		}), []string{"--eap-tls", "--interface", "drop --eap-tls"}},
		{"eap-tls alone", full(func(f *pledgeFlags) { f.eapTLS = true }),
			[]string{"--eap-tls", "--radius"}},
		{"eap-tls over radius with idevid", full(func(f *pledgeFlags) {
			f.eapTLS, f.radius, f.secretFile = true, "127.0.0.1:1812", "secret"
		}), []string{"--eap-tls", "--idevid", "drop --idevid", "LDevID and key in --out"}},
		{"eap-tls over radius with masa-trust", pledgeFlags{eapTLS: true,
			radius: "127.0.0.1:1812", secretFile: "secret", out: "out", masaTrust: "m.pem",
			timeout: time.Minute}, []string{"--eap-tls", "--masa-trust", "drop --masa-trust"}},
		{"secret-file without radius", full(func(f *pledgeFlags) {
			f.secretFile, f.registrar = "secret", "https://r"
		}), []string{"--secret-file", "--radius", "drop --secret-file"}},
		{"mac without radius", full(func(f *pledgeFlags) {
			f.mac, f.interfaces = "02:00:00:00:00:01", "lo"
		}), []string{"--mac", "--radius", "drop --mac"}},
		{"identity without radius", full(func(f *pledgeFlags) {
			f.identity, f.registrar = "LAB-0001", "https://r"
		}), []string{"--identity", "--radius", "drop --identity"}},
		{"reset without interface", full(func(f *pledgeFlags) {
			f.reset, f.registrar = true, "https://r"
		}), []string{"--reset", "--interface", "drop --reset"}},
		{"reset with radius", full(func(f *pledgeFlags) {
			f.reset, f.radius, f.secretFile = true, "127.0.0.1:1812", "secret"
		}), []string{"--reset", "--interface", "drop --reset"}},
		{"registrar", full(func(f *pledgeFlags) { f.registrar = "https://r" }), nil},
		{"interface and registrar", full(func(f *pledgeFlags) {
			f.interfaces, f.registrar, f.reset = "lo", "https://r", true
		}), nil},
		{"radius", full(func(f *pledgeFlags) {
			f.radius, f.secretFile, f.mac, f.identity = "127.0.0.1:1812", "secret",
				"02:00:00:00:00:01", "LAB-0001"
		}), nil},
		{"radius eap-tls", pledgeFlags{radius: "127.0.0.1:1812", secretFile: "secret",
			eapTLS: true, out: "out", timeout: time.Minute}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.flags.validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("validate: %v, want nil", err)
				}
				return
			}
			var ee *exitError
			if !errors.As(err, &ee) || ee.code != 2 {
				t.Fatalf("validate: %v, want a usage error with exit code 2", err)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

// TestPledgeRADIUSWithInterface checks that --radius with an --interface
// that exists or not ends with exit code 2 before any transport starts.
func TestPledgeRADIUSWithInterface(t *testing.T) {
	args := pledgeLabArgs(t)
	for _, ifName := range []string{"nosuch0", "lo"} {
		t.Run(ifName, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			code, _, stderr := runBrski(append(args, "--interface", ifName, "--radius",
				"127.0.0.1:1", "--secret-file", "secret", "--out", out)...)
			if code != 2 {
				t.Errorf("exit %d, want 2; stderr %q", code, stderr)
			}
			if !strings.Contains(stderr, "--radius and --interface") {
				t.Errorf("stderr %q does not name --radius and --interface", stderr)
			}
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("stat --out: %v, want it not created", err)
			}
		})
	}
}
