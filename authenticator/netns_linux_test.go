//go:build linux

package authenticator

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vishvananda/netns"
)

// namespaceCount numbers the namespaces of this test process, so that
// parallel test binaries and repeated tests never share a name.
var namespaceCount atomic.Int64

// requireNetAdmin skips the test when it cannot create network namespaces,
// and fails it instead under CI=true, where the runner is root.
func requireNetAdmin(t *testing.T) {
	t.Helper()
	reason := ""
	if os.Geteuid() != 0 {
		reason = "needs root to create network namespaces"
	} else if _, err := exec.LookPath("ip"); err != nil {
		reason = "needs the ip command of iproute2: " + err.Error()
	}
	if reason == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal(reason)
	}
	t.Skip(reason)
}

// runIP runs the ip command and fails the test on an error.
func runIP(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// newNamespace creates a network namespace with a unique name and deletes
// it when the test ends, which also deletes every link inside it.
func newNamespace(t *testing.T, role string) (string, netns.NsHandle) {
	t.Helper()
	name := fmt.Sprintf("brskit-%d-%d-%s", os.Getpid(), namespaceCount.Add(1), role)
	runIP(t, "netns", "add", name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v\n%s", name, err, out)
		}
	})
	ns, err := netns.GetFromName(name)
	if err != nil {
		t.Fatalf("open namespace %s: %v", name, err)
	}
	t.Cleanup(func() { ns.Close() })
	runIP(t, "-n", name, "link", "set", "lo", "up")
	return name, ns
}

// inNamespace runs fn on an OS thread that is in ns. Sockets that fn opens
// stay in ns. The thread is discarded if it cannot return to its namespace.
func inNamespace(ns netns.NsHandle, fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			done <- err
			return
		}
		defer orig.Close()
		if err := netns.Set(ns); err != nil {
			done <- err
			return
		}
		fnErr := fn()
		if err := netns.Set(orig); err != nil {
			done <- errors.Join(fnErr, err)
			return // the goroutine ends while locked, so the thread exits
		}
		runtime.UnlockOSThread()
		done <- fnErr
	}()
	return <-done
}

// startEcho runs a UDP echo server on addr in ns until the test ends.
func startEcho(t *testing.T, ns netns.NsHandle, addr string) net.Addr {
	t.Helper()
	pc := listenUDPIn(t, ns, addr)
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
	return pc.LocalAddr()
}

// prober sends UDP datagrams from one namespace to an echo server.
type prober struct {
	conn net.PacketConn
	dst  net.Addr
	seq  int
}

func newProber(t *testing.T, ns netns.NsHandle, src string, dst net.Addr) *prober {
	t.Helper()
	return &prober{conn: listenUDPIn(t, ns, src), dst: dst}
}

// listenUDPIn opens a UDP socket on addr in ns and closes it when the test
// ends.
func listenUDPIn(t *testing.T, ns netns.NsHandle, addr string) net.PacketConn {
	t.Helper()
	var pc net.PacketConn
	err := inNamespace(ns, func() (err error) {
		pc, err = net.ListenPacket("udp4", addr)
		return err
	})
	if err != nil {
		t.Fatalf("listen UDP on %s: %v", addr, err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc
}

// echoWithin reports whether an echo comes back before the deadline. It
// resends every 100 ms, so ARP resolution can finish, and ignores stale
// echoes of earlier probes.
func (p *prober) echoWithin(t *testing.T, wait time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(wait)
	buf := make([]byte, 64)
	for time.Now().Before(deadline) {
		p.seq++
		msg := []byte(fmt.Sprintf("probe %d", p.seq))
		if _, err := p.conn.WriteTo(msg, p.dst); err != nil {
			// The kernel reports a failed ARP resolution as an error here.
			t.Logf("send probe: %v", err)
		}
		next := time.Now().Add(100 * time.Millisecond)
		if next.After(deadline) {
			next = deadline
		}
		p.conn.SetReadDeadline(next)
		for {
			n, _, err := p.conn.ReadFrom(buf)
			if err != nil {
				break
			}
			if bytes.Equal(buf[:n], msg) {
				return true
			}
		}
	}
	return false
}

// The waits of reachable and unreachable. A blocked datagram never arrives,
// so unreachable can only give up after a while; one second is many round
// trips between namespaces. reachable returns as soon as an echo arrives.
const (
	reachWait   = 10 * time.Second
	unreachWait = time.Second
)

func (p *prober) requireReachable(t *testing.T, when string) {
	t.Helper()
	if !p.echoWithin(t, reachWait) {
		t.Fatalf("%s: no UDP echo from %v within %v", when, p.dst, reachWait)
	}
}

func (p *prober) requireUnreachable(t *testing.T, when string) {
	t.Helper()
	if p.echoWithin(t, unreachWait) {
		t.Fatalf("%s: UDP echo from %v passed the port", when, p.dst)
	}
}
