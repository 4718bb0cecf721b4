package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"github.com/brski-eap/brski/eap"
	brskiradius "github.com/brski-eap/brski/radius"
)

// freeradiusBin is the server binary of the Debian package freeradius.
const freeradiusBin = "freeradius"

// The configuration below is a minimal FreeRADIUS 3.2 tree that proxies
// every Access-Request to one home server. It includes none of the Debian
// defaults, so no module, user file or certificate of /etc/freeradius is
// involved.
const radiusdConf = `prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = {{.Dir}}
sbindir = /usr/sbin
logdir = {{.Dir}}/log
raddbdir = {{.Dir}}
confdir = ${raddbdir}
run_dir = {{.Dir}}/run
db_dir = ${raddbdir}
libdir = /usr/lib/freeradius
pidfile = ${run_dir}/radiusd.pid
max_request_time = 30
cleanup_delay = 5
max_requests = 16384
hostname_lookups = no
proxy_requests = yes
log {
	destination = stdout
	auth = no
}
security {
	max_attributes = 200
	reject_delay = 0
	status_server = yes
}
modules {
}
client nas {
	ipaddr = 127.0.0.1
	secret = "{{.Secret}}"
	require_message_authenticator = yes
	nas_type = other
}
$INCLUDE proxy.conf
$INCLUDE sites/
`

// The home server gets Status-Server checks (RFC 5997) once it stops
// replying. A check_interval of 6 s is the low end of the range that the
// Debian proxy.conf suggests.
const proxyConf = `proxy server {
	default_fallback = no
}
home_server brski {
	type = auth
	ipaddr = {{.HomeIP}}
	port = {{.HomePort}}
	secret = "{{.HomeSecret}}"
	response_window = 5
	zombie_period = 10
	status_check = status-server
	check_interval = 6
	check_timeout = 2
	num_answers_to_alive = 3
	max_outstanding = 65536
}
home_server_pool brski {
	type = fail-over
	home_server = brski
}
realm brski {
	auth_pool = brski
	nostrip
}
`

const proxySite = `server proxy {
	listen {
		type = auth
		ipaddr = 127.0.0.1
		port = {{.Port}}
	}
	authorize {
		update control {
			&Proxy-To-Realm := "brski"
		}
	}
	authenticate {
	}
}
`

// writeProxyRaddb writes the proxy configuration tree under dir.
func writeProxyRaddb(t *testing.T, dir string, port int, secret, homeAddr,
	homeSecret string) {
	t.Helper()
	homeIP, homePort, found := strings.Cut(homeAddr, ":")
	if !found {
		t.Fatalf("home server address %q has no port", homeAddr)
	}
	vars := map[string]string{"Dir": dir, "Port": fmt.Sprint(port), "Secret": secret,
		"HomeIP": homeIP, "HomePort": homePort, "HomeSecret": homeSecret}
	writeRaddb(t, dir, vars, map[string]string{
		"radiusd.conf": radiusdConf,
		"proxy.conf":   proxyConf,
		"sites/proxy":  proxySite,
	})
}

// writeRaddb writes files under dir, with each {{.Name}} replaced by
// vars[Name], and the dictionary, log and run entries that every tree
// needs.
func writeRaddb(t *testing.T, dir string, vars, files map[string]string) {
	t.Helper()
	files["dictionary"] = "$INCLUDE /usr/share/freeradius/dictionary\n"
	for _, sub := range []string{"sites", "log", "run"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for name, text := range files {
		for k, v := range vars {
			text = strings.ReplaceAll(text, "{{."+k+"}}", v)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// startFreeRADIUS checks the configuration in dir, then runs FreeRADIUS in
// debug mode (-X: foreground, one thread, log to stdout) until it is ready.
func startFreeRADIUS(t *testing.T, dir string) *process {
	t.Helper()
	if out, err := runTool(t, time.Minute, freeradiusBin, "-C", "-d", dir); err != nil {
		t.Fatalf("freeradius -C: %v\n%s", err, out)
	}
	p := startProcess(t, freeradiusBin, "-X", "-d", dir)
	waitFor(t, "FreeRADIUS ready", 30*time.Second, func() bool {
		return strings.Contains(p.out.String(), "Ready to process requests")
	}, p)
	return p
}

// homeServerDown matches FreeRADIUS's log lines for a home server that
// stopped answering.
var homeServerDown = regexp.MustCompile(`(?i)marking home server .* as (zombie|dead)`)

func TestFreeRADIUSProxy(t *testing.T) {
	requireTool(t, freeradiusBin)
	requireTool(t, "eapol_test")
	lab := newBrskiLab(t, 2)
	raddb := filepath.Join(t.TempDir(), "raddb")
	port := freePort(t, "udp")
	writeProxyRaddb(t, raddb, port, lab.secret, lab.radiusAddr, lab.secret)
	fr := startFreeRADIUS(t, raddb)
	proxyAddr := fmt.Sprintf("127.0.0.1:%d", port)

	t.Run("eap-est bootstrap", func(t *testing.T) {
		lab.bootstrapRADIUS(t, "LAB-0002", proxyAddr)
	})
	t.Run("eap-tls", func(t *testing.T) {
		ldevid := lab.bootstrapHTTPS(t, "LAB-0001")
		conf := eapolConfig(t, ldevid, "LAB-0001", phase1TLS13)
		r, out := runEapolTest(t, conf, port, lab.secret, "02:00:00:00:02:01")
		checkEAPTLSAccept(t, r, out, "TLSv1.3")
	})
	// Both conversations ended in an Access-Accept that FreeRADIUS received
	// from the registrar and passed on.
	if n := strings.Count(fr.out.String(), "Received Access-Accept"); n < 2 {
		t.Errorf("FreeRADIUS received %d Access-Accepts from the registrar, want 2", n)
	}
	if m := homeServerDown.FindString(fr.out.String()); m != "" {
		t.Errorf("FreeRADIUS marked the registrar down: %s", m)
	}
}

// TestFreeRADIUSStatusCheck stops the registrar until FreeRADIUS marks it
// zombie, then resumes it: FreeRADIUS sends Status-Server every
// check_interval, and our reply must make it mark the registrar alive.
func TestFreeRADIUSStatusCheck(t *testing.T) {
	requireTool(t, freeradiusBin)
	lab := newBrskiLab(t, 0)
	raddb := filepath.Join(t.TempDir(), "raddb")
	port := freePort(t, "udp")
	writeProxyRaddb(t, raddb, port, lab.secret, lab.radiusAddr, lab.secret)
	fr := startFreeRADIUS(t, raddb)

	if err := lab.registrar.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// kill(2) returns before the process stops, and a registrar that still
	// replies to the request below keeps FreeRADIUS from marking it zombie.
	pid := lab.registrar.cmd.Process.Pid
	waitFor(t, "the registrar stopped", 10*time.Second, func() bool {
		return processState(pid) == 'T'
	})
	resumed := false
	resume := func() {
		if !resumed {
			lab.registrar.cmd.Process.Signal(syscall.SIGCONT)
			resumed = true
		}
	}
	t.Cleanup(resume)
	// One Access-Request through the proxy that the stopped registrar
	// cannot answer. FreeRADIUS fails it after response_window.
	go sendIdentity(fmt.Sprintf("127.0.0.1:%d", port), lab.secret)
	// The registrar resumes only once FreeRADIUS has failed that request and
	// sent a Status-Server. Otherwise the late reply to the request would
	// mark it alive, and the Status-Server path would go untested.
	waitFor(t, "FreeRADIUS marking the registrar zombie", time.Minute, func() bool {
		out := fr.out.String()
		return strings.Contains(out, "as zombie") && strings.Contains(out,
			"Sent Status-Server") && strings.Contains(out, "Failing proxied request")
	}, fr)
	resume()
	waitFor(t, "FreeRADIUS marking the registrar alive", 2*time.Minute, func() bool {
		return homeServerAlive.MatchString(fr.out.String())
	}, fr, lab.registrar)
	// A zombie home server is alive again after one answered Status-Server,
	// so a revival without this line came from somewhere else.
	if !strings.Contains(fr.out.String(), "Received response to status check") {
		t.Error("FreeRADIUS logged no response to a status check")
	}
}

// processState returns the state letter of process pid from
// /proc/PID/stat, such as 'T' for stopped, or 0 when it cannot be read.
func processState(pid int) byte {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name in parentheses may contain spaces, so the state is
	// the first field after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0
	}
	return b[i+2]
}

// homeServerAlive matches FreeRADIUS's log line for a home server that
// is back in use.
var homeServerAlive = regexp.MustCompile(`(?m)Marking home server \S+ port \d+ alive\s*$`)

// sendIdentity sends one Access-Request with an EAP Response/Identity and
// ignores the outcome.
func sendIdentity(addr, secret string) {
	c := &brskiradius.Client{
		Servers: []brskiradius.ServerAddr{{Addr: addr, Secret: []byte(secret)}},
		Timeout: 10 * time.Second, Retries: -1,
	}
	defer c.Close()
	p := radius.New(radius.CodeAccessRequest, []byte(secret))
	rfc2865.UserName_SetString(p, "status-check")
	rfc2865.CallingStationID_SetString(p, "02-00-00-00-03-01")
	msg, err := eap.NewIdentityResponse(1, "status-check").Marshal()
	if err != nil {
		return
	}
	if brskiradius.SetEAPMessage(p, msg) != nil {
		return
	}
	c.Exchange(context.Background(), p)
}
