package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// nsLabVLAN is the VLAN that the policy of "brski init" gives enrolled
// devices.
const nsLabVLAN = 100

// labAuthenticatorHCL configures our authenticator on swp1 of the switch,
// with the registrar's RADIUS server on the switch's loopback.
const labAuthenticatorHCL = `nas_identifier         = "lab-switch"
unauthenticated_bridge = "br-unauth"

radius {
  timeout = "2s"
  retries = 1
  %s
}

vlan "%d" {
  bridge = "br-v%d"
}

interface "swp1" {}

timers {
  quiet_period = "2s"
  %s
}
`

// labServer is one RADIUS server block.
func labServer(name, addr, secretFile string) string {
	return fmt.Sprintf("server %q {\n    address     = %q\n    secret_file = %q\n  }\n",
		name, addr, secretFile)
}

// startLabDomain runs brski init and starts the MASA and the registrar
// with RADIUS in the switch namespace. It returns the serial of the first
// device.
func (l *labSwitch) startLabDomain(t *testing.T) string {
	t.Helper()
	out, err := runIn(t, time.Minute, l.sw, l.bin, "init", l.dir, "--devices", "2")
	if err != nil {
		t.Fatalf("brski init: %v\n%s", err, out)
	}
	// The MASA of brski init issues one voucher per device and minute. A
	// second bootstrap of a device would wait that long for its voucher.
	l.rewriteFile(t, "masa.hcl", `rate_interval = "1m"`, `rate_interval = "1s"`)
	if l.beforeDomain != nil {
		l.beforeDomain(t)
	}
	masaHCL := filepath.Join(l.dir, "masa.hcl")
	masa := startIn(t, l.sw, l.bin, "masa", "--config", masaHCL)
	masa.waitOutput(t, "starting", time.Minute)
	reg := startIn(t, l.sw, l.bin, "registrar", "--config",
		filepath.Join(l.dir, "registrar.hcl"))
	reg.waitOutput(t, "radius: starting", time.Minute)
	devices, err := os.ReadDir(filepath.Join(l.dir, "factory", "devices"))
	if err != nil || len(devices) == 0 {
		t.Fatalf("no devices in the lab: %v", err)
	}
	return devices[0].Name()
}

// startAuthenticator writes the configuration with the given server blocks
// and extra timer lines, starts our authenticator in the switch namespace
// and waits until it has locked swp1.
func (l *labSwitch) startAuthenticator(t *testing.T, servers, timers string) *labProc {
	t.Helper()
	path := filepath.Join(l.dir, "authenticator.hcl")
	hcl := fmt.Sprintf(labAuthenticatorHCL, servers, nsLabVLAN, nsLabVLAN, timers)
	hcl += l.authExtra
	if err := os.WriteFile(path, []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	a := startIn(t, l.sw, l.bin, "authenticator", "--config", path, "--log-level", "debug")
	labWait(t, "swp1 locked", 30*time.Second, func() bool { return l.locked(t, "swp1") })
	return a
}

// pledgeArgs returns the brski pledge arguments for the device serial,
// with its output directory in the lab.
func (l *labSwitch) pledgeArgs(serial string, extra ...string) []string {
	dev := filepath.Join(l.dir, "factory", "devices", serial)
	return append([]string{"pledge", "--interface", "eth0",
		"--idevid", filepath.Join(dev, "idevid.pem"), "--key", filepath.Join(dev, "key.pem"),
		"--masa-trust", filepath.Join(l.dir, "masa-trust.pem"),
		"--out", filepath.Join(l.dir, "pledges", serial)}, extra...)
}

// bootstrap runs brski pledge in the pledge namespace and fails the test
// unless it enrolls over 802.1X.
func (l *labSwitch) bootstrap(t *testing.T, serial string) {
	t.Helper()
	out, err := runIn(t, 3*time.Minute, l.pl, l.bin, l.pledgeArgs(serial)...)
	if err != nil {
		t.Fatalf("brski pledge: %v\n%s", err, out)
	}
	if !strings.Contains(out, "enrolled over 802.1X on eth0") {
		t.Fatalf("brski pledge did not enroll over 802.1X:\n%s", out)
	}
}

const nsLabHost = "192.0.2.2:7"

func TestLabBootstrapEAPEST(t *testing.T) {
	requireLabRoot(t)
	l := newLabSwitch(t, nsLabVLAN)
	serial := l.startLabDomain(t)
	labEcho(t, l.host, nsLabHost)
	secret := filepath.Join(l.dir, "radius-secret")
	auth := l.startAuthenticator(t, labServer("registrar", "127.0.0.1:1812", secret), "")

	if labEchoWithin(t, l.pl, nsLabHost, time.Second) {
		t.Fatal("the pledge reached the VLAN host before authorization")
	}
	l.bootstrap(t, serial)

	if got, want := l.master(t, "swp1"), fmt.Sprintf("br-v%d", nsLabVLAN); got != want {
		t.Errorf("swp1 is in bridge %q after authorization, want %q", got, want)
	}
	if !labEchoWithin(t, l.pl, nsLabHost, 10*time.Second) {
		t.Error("the pledge cannot reach the VLAN host after authorization")
	}
	auth.waitOutput(t, "session authorized", 10*time.Second)
	if !strings.Contains(auth.out.String(), fmt.Sprintf("vlan=%d", nsLabVLAN)) {
		t.Errorf("authenticator log lacks vlan=%d:\n%s", nsLabVLAN, auth.out.String())
	}
	enrolled := filepath.Join(l.dir, "pledges", serial, "enrolled.json")
	if _, err := os.Stat(enrolled); err != nil {
		t.Errorf("no enrollment record: %v", err)
	}
}

// TestLabPledgeReauthenticatesWithLDevID runs the same brski pledge command
// a second time after the port closed. The device is enrolled, so it
// authenticates with EAP-TLS and the LDevID instead of bootstrapping, until
// --reset makes it bootstrap again.
func TestLabPledgeReauthenticatesWithLDevID(t *testing.T) {
	requireLabRoot(t)
	l := newLabSwitch(t, nsLabVLAN)
	serial := l.startLabDomain(t)
	labEcho(t, l.host, nsLabHost)
	secret := filepath.Join(l.dir, "radius-secret")
	l.startAuthenticator(t, labServer("registrar", "127.0.0.1:1812", secret), "")
	l.bootstrap(t, serial)

	l.bounceLink(t)
	out, err := runIn(t, 2*time.Minute, l.pl, l.bin, l.pledgeArgs(serial)...)
	if err != nil {
		t.Fatalf("second brski pledge: %v\n%s", err, out)
	}
	if !strings.Contains(out, "authenticated with EAP-TLS on eth0") {
		t.Fatalf("second brski pledge did not use EAP-TLS:\n%s", out)
	}
	if strings.Contains(out, "voucher requested") {
		t.Errorf("an enrolled device requested a voucher again:\n%s", out)
	}
	if !labEchoWithin(t, l.pl, nsLabHost, 10*time.Second) {
		t.Error("the device cannot reach the VLAN host after EAP-TLS")
	}

	l.bounceLink(t)
	out, err = runIn(t, 3*time.Minute, l.pl, l.bin, l.pledgeArgs(serial, "--reset")...)
	if err != nil {
		t.Fatalf("brski pledge --reset: %v\n%s", err, out)
	}
	if !strings.Contains(out, "enrolled over 802.1X on eth0") {
		t.Errorf("brski pledge --reset did not bootstrap again:\n%s", out)
	}
}

// bounceLink takes the pledge's link down and up, which ends its session,
// and waits until swp1 is back in br-unauth.
func (l *labSwitch) bounceLink(t *testing.T) {
	t.Helper()
	labIP(t, "-n", l.pl, "link", "set", "eth0", "down")
	labWait(t, "swp1 back in br-unauth", 10*time.Second, func() bool {
		return l.master(t, "swp1") == "br-unauth"
	})
	labIP(t, "-n", l.pl, "link", "set", "eth0", "up")
}
