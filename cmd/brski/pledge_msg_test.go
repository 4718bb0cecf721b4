package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/brski-eap/brski/radius"
)

// TestPledgeRADIUSNoReply runs "brski pledge --radius" against servers that
// never reply: a closed port and a registrar with another shared secret.
func TestPledgeRADIUSNoReply(t *testing.T) {
	old := pledgeRADIUSTimeout
	pledgeRADIUSTimeout = time.Millisecond
	t.Cleanup(func() { pledgeRADIUSTimeout = old })
	dir := t.TempDir()
	l, err := createLab(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	rad := startTestLab(t, dir)

	wrongSecret := filepath.Join(dir, "wrong-secret")
	if err := os.WriteFile(wrongSecret, []byte("not the lab secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	closed, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.LocalAddr().String()
	closed.Close()

	dev := filepath.Join(dir, "factory", "devices", l.Serials[0])
	tests := []struct {
		name, server, secret string
	}{
		{"closed port", closedAddr, filepath.Join(dir, "radius-secret")},
		{"wrong secret", rad.addr.String(), wrongSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "new", "out")
			var stdout, stderr bytes.Buffer
			err := runPledge([]string{"--radius", tt.server, "--secret-file", tt.secret,
				"--idevid", filepath.Join(dev, "idevid.pem"), "--key", filepath.Join(dev,
					"key.pem"), "--masa-trust", filepath.Join(dir, "masa-trust.pem"),
				"--out", out}, &stdout, &stderr)
			if !errors.Is(err, radius.ErrTimeout) {
				t.Fatalf("error = %v, want radius.ErrTimeout", err)
			}
			for _, want := range []string{"no reply from " + tt.server,
				"check --radius and --secret-file"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if strings.Contains(stdout.String(), "Access-") {
				t.Errorf("stdout %q reports a RADIUS reply that never came", stdout.String())
			}
			if _, err := os.Stat(filepath.Dir(out)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("stat of the new --out parent: %v, want it removed", err)
			}
		})
	}
}

func TestPledgeUnknownInterface(t *testing.T) {
	args := pledgeLabArgs(t)
	out := filepath.Join(t.TempDir(), "out")
	code, _, stderr := runBrski(append(args, "--interface", "lo,no-such-if0",
		"--out", out)...)
	if code != 2 {
		t.Errorf("exit %d, want 2; stderr %q", code, stderr)
	}
	for _, want := range []string{`"no-such-if0"`, "lo"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q lacks %q", stderr, want)
		}
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stat --out: %v, want it not created", err)
	}
}

// TestPledgeRegistrarRejectFirst checks that a registrar's 403 leads the
// error after a failed 802.1X attempt on lo, which has no Ethernet address.
func TestPledgeRegistrarRejectFirst(t *testing.T) {
	args := pledgeLabArgs(t)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter,
		_ *http.Request) {
		http.Error(w, "no rule accepted the device", http.StatusForbidden)
	}))
	defer srv.Close()
	code, _, stderr := runBrski(append(args, "--interface", "lo", "--registrar", srv.URL,
		"--out", filepath.Join(t.TempDir(), "out"))...)
	if code != 1 {
		t.Errorf("exit %d, want 1; stderr %q", code, stderr)
	}
	var last string
	for line := range strings.Lines(stderr) {
		if strings.HasPrefix(line, "brski pledge: ") {
			last = line
		}
	}
	if !strings.Contains(last, "HTTP 403") || strings.Contains(last, "no registrar reached") {
		t.Errorf("error line %q, want the 403 first; stderr %q", last, stderr)
	}
}

// TestPledgeInterrupted cancels the pledge's context with a signal while
// the registrar holds the voucher request.
func TestPledgeInterrupted(t *testing.T) {
	args := pledgeLabArgs(t)
	tests := []struct {
		signal   syscall.Signal
		wantCode int
	}{
		{syscall.SIGINT, 130},
		{syscall.SIGTERM, 143},
	}
	for _, tt := range tests {
		t.Run(tt.signal.String(), func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(t.Context())
			defer cancel(nil)
			srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter,
				r *http.Request) {
				// The server notices a closed connection only after the body.
				io.Copy(io.Discard, r.Body)
				cancel(&interruptError{signal: tt.signal})
				<-r.Context().Done()
			}))
			defer srv.Close()
			out := filepath.Join(t.TempDir(), "out")
			var stdout, stderr bytes.Buffer
			err := runPledgeContext(ctx, append(args[1:], "--registrar", srv.URL,
				"--out", out), &stdout, &stderr)
			var ie *interruptError
			if !errors.As(err, &ie) || ie.signal != tt.signal {
				t.Fatalf("error = %v, want an interruptError for %v", err, tt.signal)
			}
			var msg bytes.Buffer
			if code := exitCode("pledge", err, &msg); code != tt.wantCode {
				t.Errorf("exit code %d, want %d", code, tt.wantCode)
			}
			if !strings.Contains(msg.String(), "interrupted") {
				t.Errorf("message %q lacks \"interrupted\"", msg.String())
			}
		})
	}
}

// stopOnWrite is a stdout that runs stop once when the output first
// contains trigger.
type stopOnWrite struct {
	bytes.Buffer
	trigger string
	stop    func()
	once    sync.Once
}

func (w *stopOnWrite) Write(p []byte) (int, error) {
	n, err := w.Buffer.Write(p)
	if strings.Contains(w.String(), w.trigger) {
		w.once.Do(w.stop)
	}
	return n, err
}

// TestPledgeRADIUSServerStops stops the registrar's RADIUS server once the
// voucher request is signed, inside the EAP-EST tunnel. The pledge's error
// names the transport, and the registrar logs the conversation it closed,
// whose device gets an unknown State after a restart.
func TestPledgeRADIUSServerStops(t *testing.T) {
	old := pledgeRADIUSTimeout
	pledgeRADIUSTimeout = time.Millisecond
	t.Cleanup(func() { pledgeRADIUSTimeout = old })
	dir := t.TempDir()
	l, err := createLab(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	masaSrv, masaURL, err := startDemoMASA(dir, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer masaSrv.Close()
	logs := &logBuffer{}
	logger := hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Info})
	rad, st, err := startDemoRegistrar(t.Context(), dir, masaURL, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	stdout := &stopOnWrite{trigger: "voucher requested", stop: func() { rad.stop() }}
	defer stdout.once.Do(func() { rad.stop() })
	dev := filepath.Join(dir, "factory", "devices", l.Serials[0])
	var stderr bytes.Buffer
	err = runPledge([]string{"--radius", rad.addr.String(), "--secret-file",
		filepath.Join(dir, "radius-secret"), "--idevid", filepath.Join(dev, "idevid.pem"),
		"--key", filepath.Join(dev, "key.pem"), "--masa-trust",
		filepath.Join(dir, "masa-trust.pem"), "--out", filepath.Join(dir, "out")},
		stdout, &stderr)
	if !errors.Is(err, radius.ErrTimeout) {
		t.Fatalf("error = %v, want radius.ErrTimeout\nstdout:\n%s", err, stdout.String())
	}
	want := "RADIUS server " + rad.addr.String() + " stopped replying"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q lacks %q", err, want)
	}
	var ne *noReplyError
	if !errors.As(err, &ne) || strings.Contains(ne.err.Error(), "https://registrar") {
		t.Errorf("error %v names the tunnel's URL; want the transport", ne.err)
	}

	got := logs.lines("stopped; closed conversations in progress", "conversations=1")
	if len(got) != 1 {
		t.Errorf("log has %d lines about the closed conversation, want 1:\n%s", len(got),
			strings.TrimSpace(logs.String()))
	}
}

// TestPledgeRegistrarDown runs the pledge against a port that nothing
// listens on: it retries until --timeout and then names --registrar.
func TestPledgeRegistrarDown(t *testing.T) {
	args := pledgeLabArgs(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "https://" + l.Addr().String()
	l.Close()
	code, _, stderr := runBrski(append(args, "--registrar", url, "--timeout", "2s",
		"--out", filepath.Join(t.TempDir(), "out"))...)
	if code != 1 {
		t.Errorf("exit %d, want 1; stderr %q", code, stderr)
	}
	if !strings.Contains(stderr, "registrar unreachable; retrying") {
		t.Errorf("stderr %q logs no retry", stderr)
	}
	for _, want := range []string{"brski pledge: no registrar listens at " + url + " after ",
		"; check --registrar and that the registrar runs", "connection refused"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q lacks %q", stderr, want)
		}
	}
}

// TestPledgeErrorPrefix checks that an error of the pledge package is
// printed with the command's prefix alone.
func TestPledgeErrorPrefix(t *testing.T) {
	args := pledgeLabArgs(t)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter,
		_ *http.Request) {
		http.Error(w, "no rule accepted the device", http.StatusForbidden)
	}))
	defer srv.Close()
	code, _, stderr := runBrski(append(args, "--registrar", srv.URL,
		"--out", filepath.Join(t.TempDir(), "out"))...)
	if code != 1 {
		t.Errorf("exit %d, want 1; stderr %q", code, stderr)
	}
	want := "brski pledge: /.well-known/brski/requestvoucher: registrar returned HTTP 403"
	if !strings.HasPrefix(stderr, want) {
		t.Errorf("stderr %q, want it to start with %q", stderr, want)
	}
}

// TestPledgeRegistrarClosesAfter202 closes the connection of the voucher
// request that follows a 202, as a registrar killed during the wait does.
// The pledge sends the request again and reaches the registrar's 403.
func TestPledgeRegistrarClosesAfter202(t *testing.T) {
	args := pledgeLabArgs(t)
	var mu sync.Mutex
	requests := 0
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter,
		r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		requests++
		n := requests
		mu.Unlock()
		switch n {
		case 1:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusAccepted)
		case 2:
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Errorf("hijack: %v", err)
				return
			}
			conn.Close()
		default:
			http.Error(w, "no rule accepted the device", http.StatusForbidden)
		}
	}))
	defer srv.Close()
	code, _, stderr := runBrski(append(args, "--registrar", srv.URL, "--timeout", "1m",
		"--out", filepath.Join(t.TempDir(), "out"))...)
	if code != 1 {
		t.Errorf("exit %d, want 1; stderr %q", code, stderr)
	}
	if !strings.Contains(stderr, "registrar unreachable; retrying") {
		t.Errorf("stderr %q logs no retry", stderr)
	}
	if !strings.Contains(stderr, "HTTP 403") {
		t.Errorf("stderr %q, want the 403 of the resent voucher request", stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if requests != 3 {
		t.Errorf("registrar saw %d requests, want 3", requests)
	}
}
