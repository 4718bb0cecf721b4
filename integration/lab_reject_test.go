package integration

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// rejectedLab starts a lab whose second device is not in the registrar's
// expected-devices list, so the policy rejects it, and starts brski pledge
// for that device. It returns the lab and the authenticator.
func rejectedLab(t *testing.T, prepare func(l *labSwitch)) (*labSwitch, *labProc) {
	t.Helper()
	l := newLabSwitch(t, nsLabVLAN)
	const serial = "LAB-0002"
	l.beforeDomain = func(t *testing.T) {
		out, err := runIn(t, time.Minute, l.sw, l.bin, "devices", "remove",
			"--data", filepath.Join(l.dir, "data"), "--serial", serial)
		if err != nil {
			t.Fatalf("brski devices remove: %v\n%s", err, out)
		}
	}
	if prepare != nil {
		prepare(l)
	}
	l.startLabDomain(t)
	labEcho(t, l.host, nsLabHost)
	secret := filepath.Join(l.dir, "radius-secret")
	auth := l.startAuthenticator(t, labServer("registrar", "127.0.0.1:1812", secret), "")
	// The pledge keeps looking for another authenticator after the reject,
	// so it runs until the test ends.
	startIn(t, l.pl, l.bin, l.pledgeArgs(serial)...)
	return l, auth
}

func TestLabRejectKeepsPortClosed(t *testing.T) {
	requireLabRoot(t)
	l, auth := rejectedLab(t, nil)
	auth.waitOutput(t, "session rejected", time.Minute)
	if got := l.master(t, "swp1"); got != "br-unauth" {
		t.Errorf("swp1 is in bridge %q after the reject, want br-unauth", got)
	}
	if !l.locked(t, "swp1") {
		t.Error("swp1 is not locked after the reject")
	}
	if labEchoWithin(t, l.pl, nsLabHost, time.Second) {
		t.Error("a rejected device reached the VLAN host")
	}
}

// TestLabRejectVLANQuarantines configures reject_vlan, so a rejected device
// lands in the quarantine bridge instead of staying locked out.
func TestLabRejectVLANQuarantines(t *testing.T) {
	requireLabRoot(t)
	l, auth := rejectedLab(t, func(l *labSwitch) {
		labIP(t, "-n", l.sw, "link", "add", "br-quar", "type", "bridge")
		labIP(t, "-n", l.sw, "link", "set", "br-quar", "up")
		l.authExtra = "reject_vlan = \"quarantine\"\n" +
			"vlan \"quarantine\" {\n  id     = 999\n  bridge = \"br-quar\"\n}\n"
	})
	auth.waitOutput(t, "vlan=999", time.Minute)
	if got := l.master(t, "swp1"); got != "br-quar" {
		t.Errorf("swp1 is in bridge %q after the reject, want br-quar", got)
	}
	if strings.Contains(auth.out.String(), "vlan=100") {
		t.Errorf("a rejected device got the enrolled VLAN:\n%s", auth.out.String())
	}
	if labEchoWithin(t, l.pl, nsLabHost, time.Second) {
		t.Error("a quarantined device reached the enrolled VLAN host")
	}
}
