package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// labHostapdConf makes hostapd a wired 802.1X authenticator that relays EAP
// to the registrar's RADIUS server and runs no EAP server of its own.
const labHostapdConf = `interface=swp1
driver=wired
ieee8021x=1
eapol_version=2
eap_server=0
use_pae_group_addr=1
nas_identifier=hostapd-lab
own_ip_addr=127.0.0.1
auth_server_addr=127.0.0.1
auth_server_port=1812
auth_server_shared_secret=%s
`

// TestLabHostapdRelaysEAPEST bootstraps the pledge through hostapd with
// driver=wired in place of our authenticator. hostapd cannot assign the
// VLAN on a wired port, so the test checks the enrollment only.
func TestLabHostapdRelaysEAPEST(t *testing.T) {
	requireLabRoot(t, "hostapd")
	l := newLabSwitch(t, nsLabVLAN)
	serial := l.startLabDomain(t)
	secret, err := os.ReadFile(filepath.Join(l.dir, "radius-secret"))
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(l.dir, "hostapd.conf")
	body := fmt.Sprintf(labHostapdConf, strings.TrimSpace(string(secret)))
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	h := startIn(t, l.sw, "hostapd", "-d", conf)
	h.waitOutput(t, "swp1: interface state", 30*time.Second)

	l.bootstrap(t, serial)
	h.waitOutput(t, "AP-STA-CONNECTED", 10*time.Second)
}
