package integration

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brski-eap/brski/authenticator"
	"github.com/brski-eap/brski/authenticator/eapol"
)

// enrolledLab bootstraps the first device of a new lab through our
// authenticator, started with the timer lines and with the registrar
// behind servers (nil means the registrar alone), and checks that swp1
// carries the enrolled VLAN.
func enrolledLab(t *testing.T, timers string,
	servers func(secret string) string) (*labSwitch, *labProc) {
	t.Helper()
	l := newLabSwitch(t, nsLabVLAN)
	serial := l.startLabDomain(t)
	labEcho(t, l.host, nsLabHost)
	secret := filepath.Join(l.dir, "radius-secret")
	blocks := labServer("registrar", "127.0.0.1:1812", secret)
	if servers != nil {
		blocks = servers(secret)
	}
	auth := l.startAuthenticator(t, blocks, timers)
	l.bootstrap(t, serial)
	auth.waitOutput(t, "session authorized", 10*time.Second)
	if got, want := l.master(t, "swp1"), fmt.Sprintf("br-v%d", nsLabVLAN); got != want {
		t.Fatalf("swp1 is in bridge %q after authorization, want %q", got, want)
	}
	return l, auth
}

// requireSessionEnd waits for the authenticator to end the session with
// reason and checks that swp1 is locked in br-unauth again and that the
// pledge no longer reaches the VLAN host.
func (l *labSwitch) requireSessionEnd(t *testing.T, auth *labProc, reason string) {
	t.Helper()
	auth.waitOutput(t, "session ended: port=swp1 ", 30*time.Second)
	line := ""
	for _, s := range strings.Split(auth.out.String(), "\n") {
		if strings.Contains(s, "session ended") {
			line = s
		}
	}
	if !strings.Contains(line, reason) {
		t.Errorf("session ended with %q, want reason %q", line, reason)
	}
	labWait(t, "swp1 back in br-unauth", 10*time.Second, func() bool {
		return l.master(t, "swp1") == "br-unauth"
	})
	if !l.locked(t, "swp1") {
		t.Error("swp1 is not locked after the session ended")
	}
}

func TestLabLinkDownEndsSession(t *testing.T) {
	requireLabRoot(t)
	l, auth := enrolledLab(t, "", nil)
	labIP(t, "-n", l.pl, "link", "set", "eth0", "down")
	l.requireSessionEnd(t, auth, "link down")
	labIP(t, "-n", l.pl, "link", "set", "eth0", "up")
	if labEchoWithin(t, l.pl, nsLabHost, time.Second) {
		t.Error("the pledge reached the VLAN host after its link went down and up")
	}
}

func TestLabLogoffEndsSession(t *testing.T) {
	requireLabRoot(t)
	l, auth := enrolledLab(t, "", nil)
	err := inLabNamespace(l.pl, func() error {
		conn, err := authenticator.Listen("eth0")
		if err != nil {
			return err
		}
		defer conn.Close()
		return conn.WriteFrame(eapol.PAEGroupAddress(), &eapol.PDU{Type: eapol.TypeLogoff})
	})
	if err != nil {
		t.Fatalf("send EAPOL-Logoff: %v", err)
	}
	l.requireSessionEnd(t, auth, "EAPOL-Logoff")
	if labEchoWithin(t, l.pl, nsLabHost, time.Second) {
		t.Error("the pledge reached the VLAN host after EAPOL-Logoff")
	}
}

// TestLabReauthWithoutSupplicant lets the reauthentication timer fire after
// brski pledge has exited. No supplicant responds to the
// EAP-Request/Identity, so the session ends and the port closes.
func TestLabReauthWithoutSupplicant(t *testing.T) {
	requireLabRoot(t)
	l, auth := enrolledLab(t, `reauth_period = "2s"
  tx_period = "1s"
  max_requests = 1`, nil)
	auth.waitOutput(t, "session reauthenticating", 30*time.Second)
	l.requireSessionEnd(t, auth, "supplicant timeout")
}

// TestLabFailoverFromDeadPrimary lists a primary RADIUS server where
// nothing listens, so every request fails over to the registrar.
func TestLabFailoverFromDeadPrimary(t *testing.T) {
	requireLabRoot(t)
	_, auth := enrolledLab(t, "", func(secret string) string {
		return labServer("dead", "127.0.0.1:1", secret) +
			labServer("registrar", "127.0.0.1:1812", secret)
	})
	auth.stop()
	if !strings.Contains(auth.out.String(), "radius_failovers=1") {
		t.Errorf("authenticator did not fail over once:\n%s", auth.out.String())
	}
}

// TestLabSessionTimeoutReauthenticates gives enrolled devices a
// Session-Timeout of 3 s with Termination-Action RADIUS-Request in the
// registrar's policy. wpa_supplicant stays running, so each
// reauthentication with EAP-TLS succeeds and the session keeps its port.
func TestLabSessionTimeoutReauthenticates(t *testing.T) {
	requireLabRoot(t, "wpa_supplicant")
	l := newLabSwitch(t, nsLabVLAN)
	l.beforeDomain = func(t *testing.T) {
		l.rewriteFile(t, "registrar.hcl", fmt.Sprintf("vlan    = %d\n", nsLabVLAN),
			fmt.Sprintf("vlan    = %d\n  session_timeout    = 3\n"+
				"  termination_action = \"radius-request\"\n", nsLabVLAN))
	}
	serial := l.startLabDomain(t)
	secret := filepath.Join(l.dir, "radius-secret")
	auth := l.startAuthenticator(t, labServer("registrar", "127.0.0.1:1812", secret), "")
	l.bootstrap(t, serial)
	l.bounceLink(t)
	wpa := l.startWPASupplicant(t, serial)
	wpa.waitOutput(t, "CTRL-EVENT-EAP-SUCCESS", time.Minute)

	labWait(t, "two reauthentications", time.Minute, func() bool {
		return strings.Count(auth.out.String(), "session reauthenticating") >= 2
	})
	labWait(t, "the session authorized again", 30*time.Second, func() bool {
		return sessionAuthorizations(auth.out.String()) >= 3
	})
	if got, want := l.master(t, "swp1"), fmt.Sprintf("br-v%d", nsLabVLAN); got != want {
		t.Errorf("swp1 is in bridge %q after reauthentication, want %q", got, want)
	}
}

// sessionAuthorizations counts the "session authorized" lines of the last
// session in the authenticator log.
func sessionAuthorizations(log string) int {
	counts := map[string]int{}
	last := ""
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, "session authorized") {
			continue
		}
		_, rest, _ := strings.Cut(line, "session=")
		id, _, _ := strings.Cut(rest, " ")
		counts[id]++
		last = id
	}
	return counts[last]
}

// TestLabShutdownLocksPorts stops the authenticator with SIGTERM while a
// session is authorized. The port must be locked in br-unauth afterwards,
// so a stopped authenticator leaves no port open.
func TestLabShutdownLocksPorts(t *testing.T) {
	requireLabRoot(t)
	l, auth := enrolledLab(t, "", nil)
	auth.stop()
	if !strings.Contains(auth.out.String(), "every port is locked") {
		t.Errorf("authenticator did not report a clean shutdown:\n%s", auth.out.String())
	}
	if got := l.master(t, "swp1"); got != "br-unauth" {
		t.Errorf("swp1 is in bridge %q after shutdown, want br-unauth", got)
	}
	if !l.locked(t, "swp1") {
		t.Error("swp1 is not locked after shutdown")
	}
	if labEchoWithin(t, l.pl, nsLabHost, time.Second) {
		t.Error("the pledge reached the VLAN host after the authenticator stopped")
	}
}
