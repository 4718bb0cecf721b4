package main

import (
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
