package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"layeh.com/radius"

	"github.com/brski-eap/brski/pledge"
	brskiradius "github.com/brski-eap/brski/radius"
)

// brskiLab is a lab that "brski init" created, moved to free loopback
// ports, with its MASA and registrar running.
type brskiLab struct {
	dir           string
	masaAddr      string
	registrarAddr string
	radiusAddr    string
	secret        string
	registrar     *process
}

// Files of the lab that "brski init" writes.
const (
	labSecretFile = "radius-secret"
	labTrustFile  = "masa-trust.pem"
	labVLAN       = "100"
)

// newBrskiLab creates a lab with devices devices and starts its MASA and
// registrar. The MASA's rate limit is lowered to 1 s so that tests may
// bootstrap a device more than once.
func newBrskiLab(t testing.TB, devices int) *brskiLab {
	t.Helper()
	l := &brskiLab{dir: filepath.Join(t.TempDir(), "lab")}
	out, err := runTool(t, time.Minute, brskiBin, "init", l.dir, "--devices",
		fmt.Sprint(devices))
	if err != nil {
		t.Fatalf("brski init: %v\n%s", err, out)
	}
	secret, err := os.ReadFile(filepath.Join(l.dir, labSecretFile))
	if err != nil {
		t.Fatal(err)
	}
	l.secret = strings.TrimSuffix(string(secret), "\n")

	l.masaAddr = fmt.Sprintf("127.0.0.1:%d", freePort(t, "tcp"))
	l.registrarAddr = fmt.Sprintf("127.0.0.1:%d", freePort(t, "tcp"))
	l.radiusAddr = fmt.Sprintf("127.0.0.1:%d", freePort(t, "udp"))
	l.rewrite(t, "masa.hcl", map[string]string{
		`"127.0.0.1:9443"`:     fmt.Sprintf("%q", l.masaAddr),
		`rate_interval = "1m"`: `rate_interval = "1s"`,
	})
	l.rewrite(t, "registrar.hcl", map[string]string{
		`"127.0.0.1:8443"`: fmt.Sprintf("%q", l.registrarAddr),
		`"127.0.0.1:1812"`: fmt.Sprintf("%q", l.radiusAddr),
		// The IDevIDs name the MASA at port 9443; the manufacturer block
		// overrides that with the port of this lab.
		`masa_trust = "masa-trust.pem"`: fmt.Sprintf("masa_trust = %q\n  masa_url   = %q",
			labTrustFile, "https://"+l.masaAddr),
	})

	masa := startProcess(t, brskiBin, "masa", "--config", filepath.Join(l.dir, "masa.hcl"))
	waitFor(t, "MASA listening on "+l.masaAddr, 30*time.Second,
		func() bool { return tcpListening(l.masaAddr) }, masa)
	l.registrar = startProcess(t, brskiBin, "registrar", "--config",
		filepath.Join(l.dir, "registrar.hcl"), "--log-level", "debug")
	waitFor(t, "registrar listening on "+l.registrarAddr, 30*time.Second,
		func() bool { return tcpListening(l.registrarAddr) }, l.registrar)
	waitFor(t, "registrar RADIUS answering on "+l.radiusAddr, 30*time.Second,
		func() bool { return statusServerAnswered(l.radiusAddr, l.secret) }, l.registrar)
	return l
}

// rewrite replaces each key of repl in the lab file name, and fails when a
// key is missing, so a change of "brski init" shows up here.
func (l *brskiLab) rewrite(t testing.TB, name string, repl map[string]string) {
	t.Helper()
	path := filepath.Join(l.dir, name)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for old, repl := range repl {
		if !strings.Contains(s, old) {
			t.Fatalf("%s does not contain %s; update the lab setup", name, old)
		}
		s = strings.Replace(s, old, repl, 1)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// statusServerAnswered sends one Status-Server (RFC 5997) and reports
// whether a valid reply came back within 300 ms.
func statusServerAnswered(addr, secret string) bool {
	c := &brskiradius.Client{
		Servers: []brskiradius.ServerAddr{{Addr: addr, Secret: []byte(secret)}},
		Timeout: 300 * time.Millisecond,
	}
	defer c.Close()
	reply, err := c.Exchange(context.Background(), radius.New(radius.CodeStatusServer,
		[]byte(secret)))
	return err == nil && reply.Code == radius.CodeAccessAccept
}

func (l *brskiLab) device(serial string) (cert, key string) {
	d := filepath.Join(l.dir, "factory", "devices", serial)
	return filepath.Join(d, "idevid.pem"), filepath.Join(d, "key.pem")
}

// bootstrapHTTPS enrolls device serial over HTTPS with "brski pledge" and
// returns the directory with its LDevID, key and domain CA.
func (l *brskiLab) bootstrapHTTPS(t testing.TB, serial string) string {
	t.Helper()
	out := filepath.Join(l.dir, "pledges", serial)
	cert, key := l.device(serial)
	res, err := runTool(t, 2*time.Minute, brskiBin, "pledge", "--idevid", cert, "--key", key,
		"--masa-trust", filepath.Join(l.dir, labTrustFile),
		"--registrar", "https://"+l.registrarAddr, "--out", out)
	if err != nil {
		t.Fatalf("brski pledge %s: %v\n%s", serial, err, res)
	}
	return out
}

// bootstrapRADIUS enrolls device serial over EAP-EST with "brski pledge
// --radius", the simulated NAS, through the RADIUS server at addr, and
// returns the directory with its LDevID, key and domain CA.
func (l *brskiLab) bootstrapRADIUS(t testing.TB, serial, addr string) string {
	t.Helper()
	out := filepath.Join(l.dir, "pledges", serial)
	cert, key := l.device(serial)
	res, err := runTool(t, 2*time.Minute, brskiBin, "pledge", "--idevid", cert, "--key", key,
		"--masa-trust", filepath.Join(l.dir, labTrustFile), "--radius", addr,
		"--secret-file", filepath.Join(l.dir, labSecretFile), "--out", out)
	if err != nil {
		t.Fatalf("brski pledge --radius %s for %s: %v\n%s", addr, serial, err, res)
	}
	if _, err := os.Stat(filepath.Join(out, pledge.LDevIDFile)); err != nil {
		t.Fatalf("no LDevID after the EAP-EST bootstrap of %s: %v\n%s", serial, err, res)
	}
	return out
}
