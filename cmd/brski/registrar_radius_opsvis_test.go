package main

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	layeh "layeh.com/radius"

	"github.com/brski-eap/brski/radius"
)

// logBuffer collects log output from several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines returns the lines of the output that contain every one of parts.
func (b *logBuffer) lines(parts ...string) []string {
	var out []string
	for line := range strings.Lines(b.String()) {
		matched := true
		for _, p := range parts {
			matched = matched && strings.Contains(line, p)
		}
		if matched {
			out = append(out, line)
		}
	}
	return out
}

func newBufferLogger(level hclog.Level) (hclog.Logger, *logBuffer) {
	buf := &logBuffer{}
	return hclog.New(&hclog.LoggerOptions{Name: "radius", Output: buf, Level: level}), buf
}

const dropTestSecret = "do-not-log-this-secret"

func dropTestClients(t *testing.T) *radius.ClientTable {
	t.Helper()
	clients, err := radius.NewClientTable(radius.NAS{Name: "freeradius",
		Prefix: netip.MustParsePrefix("127.0.0.10/32"), Secret: []byte(dropTestSecret)})
	if err != nil {
		t.Fatal(err)
	}
	return clients
}

func TestDropLoggerLines(t *testing.T) {
	maErr := radius.ErrMessageAuthenticatorInvalid
	tests := []struct {
		name   string
		reason radius.DropReason
		from   string
		err    error
		want   []string // parts of the one WARN line, or nil for none
	}{
		{"unknown client", radius.DropUnknownClient, "127.0.0.1:35658", nil,
			[]string{"[WARN]", "reason=unknown_client", "from=127.0.0.1:35658",
				"add a client block whose address or CIDR covers 127.0.0.1"}},
		{"wrong secret", radius.DropMessageAuthenticatorInvalid, "127.0.0.10:4000", maErr,
			[]string{"[WARN]", "Message-Authenticator invalid", "client=freeradius",
				"check the shared secret of client freeradius;",
				"a wrong secret makes every Message-Authenticator fail",
				`error="radius: Message-Authenticator invalid"`}},
		{"missing Message-Authenticator", radius.DropMessageAuthenticatorMissing,
			"127.0.0.10:4000", nil, []string{"[WARN]", "legacy = true"}},
		{"queue full", radius.DropQueueFull, "127.0.0.10:4000", nil,
			[]string{"[WARN]", "reason=queue_full", "faster than the workers"}},
		{"retransmission", radius.DropDuplicateInProgress, "127.0.0.10:4000", nil, nil},
		{"shutdown", radius.DropShutdown, "127.0.0.10:4000", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, buf := newBufferLogger(hclog.Info)
			hook := dropLogger(log, dropTestClients(t))
			addr := net.UDPAddrFromAddrPort(netip.MustParseAddrPort(tt.from))
			for range 3 {
				hook(tt.reason, addr, tt.err)
			}
			lines := buf.lines()
			if tt.want == nil {
				if len(lines) != 0 {
					t.Errorf("logged %q at info, want nothing", lines)
				}
				return
			}
			if len(lines) != 1 {
				t.Fatalf("logged %d lines for 3 drops, want 1:\n%s", len(lines), buf)
			}
			for _, part := range tt.want {
				if !strings.Contains(lines[0], part) {
					t.Errorf("line lacks %q:\n%s", part, lines[0])
				}
			}
			for _, bad := range []string{"<nil>", dropTestSecret} {
				if strings.Contains(lines[0], bad) {
					t.Errorf("line contains %q:\n%s", bad, lines[0])
				}
			}
		})
	}
}

func TestDropLoggerDebugRepeats(t *testing.T) {
	log, buf := newBufferLogger(hclog.Debug)
	hook := dropLogger(log, dropTestClients(t))
	addr := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1000}
	for range 3 {
		hook(radius.DropUnknownClient, addr, nil)
	}
	if got := len(buf.lines("[WARN]")); got != 1 {
		t.Errorf("%d WARN lines, want 1:\n%s", got, buf)
	}
	if got := len(buf.lines("[DEBUG]", "reason=unknown_client")); got != 2 {
		t.Errorf("%d DEBUG lines, want 2:\n%s", got, buf)
	}
	if strings.Contains(buf.String(), "<nil>") {
		t.Errorf("output contains <nil>:\n%s", buf)
	}
}

// TestRADIUSWrongSecretWarns sends a Status-Server with a wrong secret and
// one from an address that no client block covers to the lab's RADIUS
// server, and expects a WARN line for each at the default log level.
func TestRADIUSWrongSecretWarns(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lab")
	if code, _, stderr := runBrski("init", dir, "--devices", "1"); code != 0 {
		t.Fatalf("init exit %d:\n%s", code, stderr)
	}
	secret, err := os.ReadFile(filepath.Join(dir, "radius-secret"))
	if err != nil {
		t.Fatal(err)
	}
	reg := serveLabRegistrarAt(t, filepath.Join(dir, "registrar.hcl"), "127.0.0.1:0", "")
	log, buf := newBufferLogger(hclog.Info)
	_, rad, err := startRADIUSAt(context.Background(), "127.0.0.1:0", reg.Config,
		reg.Options, reg.Registrar, reg.Store.DB, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rad.stop() })

	sendStatusServer(t, "127.0.0.1", rad.addr.String(), []byte("WRONGSECRET"))
	waitForLines(t, buf, "[WARN]", "reason=message_authenticator_invalid", "client=localhost",
		"check the shared secret")
	if ipv4LoopbackAlias(t, "127.0.0.2") {
		sendStatusServer(t, "127.0.0.2", rad.addr.String(), []byte("WRONGSECRET"))
		waitForLines(t, buf, "[WARN]", "reason=unknown_client", "from=127.0.0.2:",
			"covers 127.0.0.2")
	}
	if strings.Contains(buf.String(), strings.TrimSpace(string(secret))) {
		t.Errorf("log contains the shared secret:\n%s", buf)
	}
}

// sendStatusServer sends one Status-Server from the address from.
func sendStatusServer(t *testing.T, from, to string, secret []byte) {
	t.Helper()
	conn, err := net.ListenPacket("udp", net.JoinHostPort(from, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	dst, err := net.ResolveUDPAddr("udp", to)
	if err != nil {
		t.Fatal(err)
	}
	b, err := radius.EncodeRequest(layeh.New(layeh.CodeStatusServer, secret))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.WriteTo(b, dst); err != nil {
		t.Fatal(err)
	}
}

// ipv4LoopbackAlias reports whether the test can send from ip, which Linux
// allows for all of 127.0.0.0/8.
func ipv4LoopbackAlias(t *testing.T, ip string) bool {
	t.Helper()
	conn, err := net.ListenPacket("udp", net.JoinHostPort(ip, "0"))
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("bind %s: %v", ip, err)
		}
		t.Logf("skipping the unknown-client case: bind %s: %v", ip, err)
		return false
	}
	conn.Close()
	return true
}

// waitForLines waits until the output has a line with every one of parts.
func waitForLines(t *testing.T, buf *logBuffer, parts ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for len(buf.lines(parts...)) == 0 {
		select {
		case <-ctx.Done():
			t.Fatalf("no line with %q within 10s:\n%s", parts, buf)
		case <-time.After(5 * time.Millisecond):
		}
	}
}
