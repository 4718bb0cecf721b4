package integration

import (
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

func udpPort(t *testing.T, addr string) int {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// radclientStatus sends one Status-Server with radclient, which checks the
// Response Authenticator and the Message-Authenticator of the reply.
func radclientStatus(t *testing.T, addr, secret string) (string, error) {
	t.Helper()
	cmd := exec.Command("radclient", "-x", "-t", "2", "-r", "1", addr, "status", secret)
	cmd.Stdin = strings.NewReader("Message-Authenticator = 0x00\n")
	timer := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestRadclientStatusServer(t *testing.T) {
	requireTool(t, "radclient")
	lab := newBrskiLab(t, 0)
	t.Run("valid secret", func(t *testing.T) {
		out, err := radclientStatus(t, lab.radiusAddr, lab.secret)
		if err != nil {
			t.Fatalf("radclient: %v\n%s", err, out)
		}
		_, reply, found := strings.Cut(out, "Received ")
		if !found || !strings.HasPrefix(reply, "Access-Accept") {
			t.Errorf("reply is not Access-Accept:\n%s", out)
		}
		if !strings.Contains(reply, "Message-Authenticator = 0x") {
			t.Errorf("reply has no Message-Authenticator:\n%s", out)
		}
	})
	t.Run("wrong secret", func(t *testing.T) {
		// The request's Message-Authenticator does not verify, so the
		// server drops it without a reply (RFC 3579, Section 3.2).
		out, err := radclientStatus(t, lab.radiusAddr, lab.secret+"x")
		if err == nil {
			t.Fatalf("radclient got a reply with the wrong secret:\n%s", out)
		}
		if strings.Contains(out, "Received ") {
			t.Errorf("server replied to a request with a wrong secret:\n%s", out)
		}
	})
}
