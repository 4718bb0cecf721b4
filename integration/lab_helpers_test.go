package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netns"
)

// The namespace lab has three namespaces. The switch runs the MASA, the
// registrar with its RADIUS server and our authenticator on its own
// loopback. The pledge links to a bridge port of the switch, and the host
// sits on the bridge of the enrolled VLAN. Only namespaces that a test
// creates carry traffic, and each test deletes them at its end.

var (
	labBinaryOnce sync.Once
	labBinaryPath string
	labBinaryErr  error
	labCount      atomic.Int64
)

// labBinary builds the brski binary once for the lab tests.
func labBinary(t *testing.T) string {
	t.Helper()
	labBinaryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "brski-lab-bin-")
		if err != nil {
			labBinaryErr = err
			return
		}
		labBinaryPath = filepath.Join(dir, "brski")
		out, err := exec.Command("go", "build", "-o", labBinaryPath, "../cmd/brski").
			CombinedOutput()
		if err != nil {
			labBinaryErr = fmt.Errorf("build brski: %v\n%s", err, out)
		}
	})
	if labBinaryErr != nil {
		t.Fatal(labBinaryErr)
	}
	return labBinaryPath
}

// requireLabRoot skips the test without root or the named programs, and
// fails it under CI=true, where .ci/run runs as root and installs them.
func requireLabRoot(t *testing.T, programs ...string) {
	t.Helper()
	reason := ""
	if os.Geteuid() != 0 {
		reason = "needs root to create network namespaces"
	}
	for _, p := range append([]string{"ip", "bridge"}, programs...) {
		if _, err := exec.LookPath(p); err != nil && reason == "" {
			reason = fmt.Sprintf("needs %s: %v", p, err)
		}
	}
	if reason == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal(reason)
	}
	t.Skip(reason)
}

// labIP runs ip with args and fails the test on an error.
func labIP(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// labNamespace creates a network namespace with a unique name, brings its
// loopback up and deletes it when the test ends.
func labNamespace(t *testing.T, role string) string {
	t.Helper()
	name := fmt.Sprintf("brskilab-%d-%d-%s", os.Getpid(), labCount.Add(1), role)
	labIP(t, "netns", "add", name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v\n%s", name, err, out)
		}
	})
	labIP(t, "-n", name, "link", "set", "lo", "up")
	return name
}

// labSwitch is the topology of one lab test.
type labSwitch struct {
	sw, pl, host string // namespace names
	dir          string // brski init directory
	bin          string

	// beforeDomain, when set, runs after brski init and before the MASA
	// and the registrar start, to edit their configuration.
	beforeDomain func(t *testing.T)
	// authExtra is appended to the authenticator's configuration.
	authExtra string
}

// newLabSwitch builds the namespaces and links. The switch has the bridge
// br-unauth for unauthenticated ports and br-v<vlan> for the enrolled
// VLAN. Port swp1 links to eth0 of the pledge, 192.0.2.10/24, and hp1 on
// br-v<vlan> links to eth0 of the host, 192.0.2.2/24.
func newLabSwitch(t *testing.T, vlan int) *labSwitch {
	t.Helper()
	l := &labSwitch{sw: labNamespace(t, "sw"), pl: labNamespace(t, "pl"),
		host: labNamespace(t, "host"), dir: t.TempDir(), bin: labBinary(t)}
	vbr := fmt.Sprintf("br-v%d", vlan)
	for _, br := range []string{"br-unauth", vbr} {
		labIP(t, "-n", l.sw, "link", "add", br, "type", "bridge")
		labIP(t, "-n", l.sw, "link", "set", br, "up")
	}
	l.link(t, "swp1", "br-unauth", l.pl, "192.0.2.10/24")
	l.link(t, "hp1", vbr, l.host, "192.0.2.2/24")
	return l
}

// link adds a veth pair from port on bridge br in the switch to eth0 in
// namespace ns with address addr.
func (l *labSwitch) link(t *testing.T, port, br, ns, addr string) {
	t.Helper()
	labIP(t, "-n", l.sw, "link", "add", port, "type", "veth", "peer", "name", "eth0",
		"netns", ns)
	labIP(t, "-n", l.sw, "link", "set", port, "master", br)
	labIP(t, "-n", ns, "addr", "add", addr, "dev", "eth0")
	labIP(t, "-n", ns, "link", "set", "eth0", "up")
	labIP(t, "-n", l.sw, "link", "set", port, "up")
}

// master returns the bridge of port in the switch namespace.
func (l *labSwitch) master(t *testing.T, port string) string {
	t.Helper()
	var links []struct {
		Master string `json:"master"`
	}
	out := labIP(t, "-n", l.sw, "-j", "link", "show", "dev", port)
	if err := json.Unmarshal([]byte(out), &links); err != nil || len(links) != 1 {
		t.Fatalf("parse ip link output %q: %v", out, err)
	}
	return links[0].Master
}

// locked reports whether port has the bridge flag locked.
func (l *labSwitch) locked(t *testing.T, port string) bool {
	t.Helper()
	out := labIP(t, "-n", l.sw, "-d", "link", "show", "dev", port)
	return strings.Contains(out, "locked on")
}

// labProc is a process that runs in a namespace until the test ends.
type labProc struct {
	name string
	cmd  *exec.Cmd
	out  *labBuffer
	done chan struct{}
	err  error
}

// labBuffer is an output buffer that is safe for the process and the test.
type labBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *labBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *labBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startIn starts name with args in namespace ns and stops it with SIGTERM
// when the test ends, logging its output when the test failed.
func startIn(t *testing.T, ns, name string, args ...string) *labProc {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, name}, args...)...)
	p := &labProc{name: filepath.Base(name) + " " + strings.Join(args[:min(1, len(args))], " "),
		cmd: cmd, out: &labBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", p.name, err)
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("output of %s:\n%s", p.name, p.out.String())
		}
	})
	return p
}

// stop sends SIGTERM and waits up to 10 s before it kills the process.
func (p *labProc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// waitOutput waits until the output contains s, and fails the test when the
// process exits first or timeout passes.
func (p *labProc) waitOutput(t *testing.T, s string, timeout time.Duration) {
	t.Helper()
	labWait(t, fmt.Sprintf("%q in the output of %s", s, p.name), timeout, func() bool {
		select {
		case <-p.done:
			t.Fatalf("%s exited (%v) before %q:\n%s", p.name, p.err, s, p.out.String())
		default:
		}
		return strings.Contains(p.out.String(), s)
	})
}

// labWait polls cond every 50 ms until it holds or timeout passes.
func labWait(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runIn runs name with args in ns to completion and returns its output.
func runIn(t *testing.T, timeout time.Duration, ns, name string, args ...string) (string,
	error) {
	t.Helper()
	p := startIn(t, ns, name, args...)
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.stop()
		return p.out.String(), fmt.Errorf("%s timed out after %v", p.name, timeout)
	}
	return p.out.String(), p.err
}

// inLabNamespace runs fn on an OS thread in the namespace named ns, so
// that sockets fn opens belong to it. The thread is discarded afterwards.
func inLabNamespace(ns string, fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked, so the thread ends with the goroutine
		h, err := netns.GetFromName(ns)
		if err != nil {
			done <- err
			return
		}
		defer h.Close()
		if err := netns.Set(h); err != nil {
			done <- err
			return
		}
		done <- fn()
	}()
	return <-done
}

// labEcho runs a UDP echo server on addr in ns until the test ends.
func labEcho(t *testing.T, ns, addr string) {
	t.Helper()
	pc := labUDP(t, ns, addr)
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(buf[:n], from)
		}
	}()
}

func labUDP(t *testing.T, ns, addr string) net.PacketConn {
	t.Helper()
	var pc net.PacketConn
	err := inLabNamespace(ns, func() (err error) {
		pc, err = net.ListenPacket("udp4", addr)
		return err
	})
	if err != nil {
		t.Fatalf("listen UDP on %s in %s: %v", addr, ns, err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc
}

// labEchoWithin reports whether a datagram from ns to dst comes back
// before wait passes. It sends again every 100 ms, so ARP can resolve.
func labEchoWithin(t *testing.T, ns string, dst string, wait time.Duration) bool {
	t.Helper()
	pc := labUDP(t, ns, ":0")
	to, err := net.ResolveUDPAddr("udp4", dst)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(wait)
	buf := make([]byte, 64)
	for seq := 0; time.Now().Before(deadline); seq++ {
		msg := fmt.Appendf(nil, "probe %d", seq)
		pc.WriteTo(msg, to)
		pc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		for {
			n, _, err := pc.ReadFrom(buf)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			if err == nil && bytes.Equal(buf[:n], msg) {
				return true
			}
			if err != nil {
				t.Fatalf("read probe reply: %v", err)
			}
		}
	}
	return false
}

// rewriteFile replaces old with new in the lab file name and fails the
// test when old is missing.
func (l *labSwitch) rewriteFile(t *testing.T, name, old, new string) {
	t.Helper()
	path := filepath.Join(l.dir, name)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s does not contain %q", name, old)
	}
	b = []byte(strings.Replace(string(b), old, new, 1))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
