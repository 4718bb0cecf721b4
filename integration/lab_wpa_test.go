package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// labWPAConf is a wpa_supplicant configuration for EAP-TLS on a wired
// port with the LDevID that brski pledge wrote.
const labWPAConf = `ap_scan=0
network={
	key_mgmt=IEEE8021X
	eap=TLS
	eapol_flags=0
	identity="%s"
	ca_cert="%s"
	client_cert="%s"
	private_key="%s"
}
`

// TestLabWPASupplicantLDevID enrolls a device with brski pledge, closes its
// port by taking the link down and up, and lets wpa_supplicant -D wired
// authenticate with EAP-TLS and the LDevID through our authenticator.
func TestLabWPASupplicantLDevID(t *testing.T) {
	requireLabRoot(t, "wpa_supplicant")
	l := newLabSwitch(t, nsLabVLAN)
	serial := l.startLabDomain(t)
	labEcho(t, l.host, nsLabHost)
	secret := filepath.Join(l.dir, "radius-secret")
	auth := l.startAuthenticator(t, labServer("registrar", "127.0.0.1:1812", secret), "")
	l.bootstrap(t, serial)
	auth.waitOutput(t, "session authorized", 10*time.Second)

	l.bounceLink(t)
	if labEchoWithin(t, l.pl, nsLabHost, time.Second) {
		t.Fatal("the pledge reached the VLAN host with its port closed")
	}

	wpa := l.startWPASupplicant(t, serial)
	wpa.waitOutput(t, "CTRL-EVENT-EAP-SUCCESS", time.Minute)
	labWait(t, "swp1 in the enrolled VLAN", 10*time.Second, func() bool {
		return l.master(t, "swp1") == fmt.Sprintf("br-v%d", nsLabVLAN)
	})
	if !labEchoWithin(t, l.pl, nsLabHost, 10*time.Second) {
		t.Error("the device cannot reach the VLAN host after EAP-TLS")
	}
}

// startWPASupplicant runs wpa_supplicant -D wired on eth0 of the pledge
// namespace with the LDevID that brski pledge wrote for serial.
func (l *labSwitch) startWPASupplicant(t *testing.T, serial string) *labProc {
	t.Helper()
	out := filepath.Join(l.dir, "pledges", serial)
	conf := filepath.Join(l.dir, "wpa.conf")
	body := fmt.Sprintf(labWPAConf, serial, filepath.Join(out, "domain-ca.pem"),
		filepath.Join(out, "ldevid.pem"), filepath.Join(out, "ldevid-key.pem"))
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return startIn(t, l.pl, "wpa_supplicant", "-D", "wired", "-i", "eth0", "-c", conf)
}
